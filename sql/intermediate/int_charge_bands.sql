-- int_charge_bands: each charge period cut into the tier bands that price it.
-- grain: one row per charge period × tier band with a quantity (one band for per-unit).
-- parameters: none.
-- feeds: marts/invoice_lines.sql, marts/rated_usage.sql.
-- rules (domain.md example 4): graduated: the month's quantity fills the bands in time order
--   (periods ordered by price_from), each unit priced at the band it falls in; volume: the
--   month's total picks one band (lower < total <= up_to) and every unit is priced there.
-- portability (Spark): running sums are cast back to DECIMAL(28, 9) so their sums and
--   differences stay at scale 9 on every engine.
with positioned as (
    select
        *,
        cast(coalesce(sum(billing_quantity) over (
            partition by tenant_id, product, line_dimension, line_site
            order by price_from
            rows between unbounded preceding and 1 preceding
        ), 0) as decimal(28, 9)) as cum_before,
        cast(sum(billing_quantity) over (
            partition by tenant_id, product, line_dimension, line_site
        ) as decimal(28, 9)) as month_total
    from int_charge_periods
),

banded as (
    select
        c.*, r.tier_no, r.tier_lower, r.tier_upper, r.unit_price, r.derived_from,
        case
            when c.model = 'per_unit' then c.billing_quantity
            when c.model = 'volume' then
                case
                    when (r.tier_no = 1 or c.month_total > r.tier_lower)
                        and (r.tier_upper is null or c.month_total <= r.tier_upper)
                        then c.billing_quantity
                    else 0
                end
            else greatest(
                cast(0 as decimal(38, 9)),
                least(c.cum_before + c.billing_quantity,
                    coalesce(r.tier_upper, c.cum_before + c.billing_quantity))
                - greatest(c.cum_before, r.tier_lower))
        end as band_quantity
    from positioned as c
    inner join int_tenant_rates as r
        on r.tenant_id = c.tenant_id
        and r.rate_card_id = c.rate_card_id
        and r.product = c.product
        and r.dimension = c.rate_dimension
)

select
    tenant_id, product, rate_card_id, rate_dimension, model, per, billing_basis,
    billing_unit, currency, line_dimension, line_site, price_from, price_to,
    usage_quantity, usage_rows, filled_hours, billing_quantity, month_total, tier_no, tier_lower,
    tier_upper, unit_price, derived_from, cast(band_quantity as decimal(38, 9)) as band_quantity
from banded
where model = 'per_unit' or band_quantity > 0
