-- int_rate_parts: usage split at rate-card changes; each part carries its rate and quantity.
-- grain: one row per usage interval × rate card in force during it.
-- parameters: view `rating_params` (month_start: anchor of the hour arithmetic).
-- feeds: intermediate/int_unrated_parts.sql, intermediate/int_charge_periods.sql,
--   marts/rated_usage.sql.
-- rules: a level interval is cut at each card boundary and each part is priced at its own
--   card; a count (requests) is priced by the card in force at the start of its interval.
--   Within a card a rate for the exact dimension wins over '*'.
--   Hours are exact nano-hours counted from month_start with integer arithmetic
--   (floor(seconds × 10^9 / 3600)), so the hours of adjacent parts always add up to the
--   hours of the whole; quantity_exact keeps full precision (scale 18).
with params as (
    select month_start from rating_params
),

usage_keys as (
    select distinct tenant_id, product, dimension from int_rating_usage
),

-- Each card's rate for each (tenant, product, usage dimension) the month has: the exact
-- dimension wins over '*'. Ranked here, on a few thousand keys, not per usage interval: the
-- rates of one card share its validity, so the time test below cannot change the winner.
resolved as (
    select
        k.tenant_id, k.product, k.dimension, r.rate_card_id, r.dimension as rate_dimension,
        r.model, r.per, r.billing_basis, r.billing_unit, r.currency, r.valid_from, r.valid_to,
        r.unit_price,
        row_number() over (
            partition by k.tenant_id, k.product, k.dimension, r.rate_card_id
            order by case when r.dimension = k.dimension then 0 else 1 end
        ) as match_rank
    from usage_keys as k
    inner join int_tenant_rates as r
        on r.tenant_id = k.tenant_id
        and r.product = k.product
        and (r.dimension = k.dimension or r.dimension = '*')
        and r.tier_no = 1
),

candidates as (
    select
        u.usage_date, u.site, u.dataset, u.org_name, u.tenant_id, u.resource_type,
        u.resource_id, u.resource_name, u.parent_id, u.product, u.dimension, u.measure,
        u.level, u.interval_start, u.interval_end,
        r.rate_card_id, r.rate_dimension, r.model, r.per, r.billing_basis,
        r.billing_unit, r.currency, r.valid_from, r.valid_to, r.unit_price as first_price,
        case
            when u.measure = 'count' then u.interval_start
            else greatest(u.interval_start, r.valid_from)
        end as part_start,
        case
            when u.measure = 'count' then u.interval_end
            else least(u.interval_end, coalesce(r.valid_to, u.interval_end))
        end as part_end
    from int_rating_usage as u
    inner join resolved as r
        on r.tenant_id = u.tenant_id
        and r.product = u.product
        and r.dimension is not distinct from u.dimension
        and r.match_rank = 1
        and (
            (u.measure = 'level'
                and r.valid_from < u.interval_end
                and (r.valid_to is null or r.valid_to > u.interval_start))
            or (u.measure = 'count'
                and r.valid_from <= u.interval_start
                and (r.valid_to is null or r.valid_to > u.interval_start))
        )
),

timed as (
    select
        c.*,
        (date_diff('second', p.month_start, c.part_end) * 1000000000) // 3600
        - (date_diff('second', p.month_start, c.part_start) * 1000000000) // 3600 as nano_hours
    from candidates as c
    cross join params as p
)

select
    usage_date, site, dataset, org_name, tenant_id, resource_type, resource_id,
    resource_name, parent_id, product, dimension, measure, level, interval_start,
    interval_end, rate_card_id, rate_dimension, model, per, billing_basis, billing_unit,
    currency, valid_from, valid_to, first_price, part_start, part_end, nano_hours,
    case
        when measure = 'count' then cast(level as decimal(38, 18))
        else cast(
            cast(level as decimal(19, 9))
            * cast(cast(nano_hours as decimal(18, 0)) * 0.000000001 as decimal(18, 9))
            as decimal(38, 18))
    end as quantity_exact
from timed
