-- int_usage_rates: the rate each rate card sets for each (tenant, product, dimension) the
--   month's usage has: the card's rate for the exact dimension, else its '*' rate.
-- grain: one row per tenant × product × usage dimension × rate card (first tier), numbered
--   by rate_key (1, 2, ... in the order of those four).
-- parameters: none.
-- reads: intermediate/int_usage_keys.sql, intermediate/int_tenant_rates.sql.
-- feeds: intermediate/int_rate_parts.sql, intermediate/int_unrated_parts.sql.
-- rule: within a card a rate for the exact dimension wins over '*'. Ranked here, on a few
--   thousand keys, not per usage interval: the rates of one card share its validity, so the
--   time test of int_rate_parts cannot change the winner. Its own model (materialised, small)
--   so that the parts, which stay a view over the month's intervals, do not rank it again
--   for each reader. rate_key stands for the four strings inside the month's big aggregate
--   (intermediate/int_rated_usage.sql groups by it, not by them).
with ranked as (
    select
        k.tenant_id, k.product, k.dimension, r.rate_card_id, r.dimension as rate_dimension,
        r.model, r.per, r.billing_basis, r.billing_unit, r.currency, r.valid_from, r.valid_to,
        r.unit_price,
        row_number() over (
            partition by k.tenant_id, k.product, k.dimension, r.rate_card_id
            order by case when r.dimension = k.dimension then 0 else 1 end
        ) as match_rank
    from int_usage_keys as k
    inner join int_tenant_rates as r
        on r.tenant_id = k.tenant_id
        and r.product = k.product
        and (r.dimension = k.dimension or r.dimension = '*')
        and r.tier_no = 1
)

select
    tenant_id, product, dimension, rate_card_id, rate_dimension, model, per, billing_basis,
    billing_unit, currency, valid_from, valid_to, unit_price,
    cast(row_number() over (order by tenant_id, product, dimension, rate_card_id) as integer)
        as rate_key
from ranked
where match_rank = 1
