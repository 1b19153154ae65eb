-- int_charge_periods: the month's rated quantity per tenant and charge, in the billing unit.
-- grain: one row per tenant × product × line dimension × line site × rate card.
-- parameters: view `rating_params` (month_start, month_end, hours_in_month).
-- reads: intermediate/int_charge_keys.sql.
-- feeds: intermediate/int_charge_bands.sql.
-- rules: per-unit charges are kept per site and dimension; graduated and volume tiers apply
--   to the month's total per tenant and product (all sites, all dimensions the rate covers),
--   so their lines carry site '*' and the rate's dimension. GB-month = GB-hours ÷ hours in
--   the month, truncated to 10^-9 with integer arithmetic; per-1000 prices count thousands.
-- filled_hours: the hours of the charge's usage the fill policy carried (resource-hours,
--   docs/metering-rules.md); a line with any is estimated.
-- portability (Spark): billing_quantity is DECIMAL(28, 9), so that sums and differences of it
--   stay within 38 digits at scale 9 and no engine trims their scale.
-- The parts summed on their own keys first (intermediate/int_charge_keys.sql: tens of
-- thousands of groups out of the month's 52.7 M parts), then each key's card joined from
-- int_usage_rates, whose columns the parts carry: the same groups and the same exact sums.
with params as (
    select month_start, month_end, hours_in_month from rating_params
),

grouped as (
    -- an open-ended card (valid_to null) runs to the month's end
    select
        r.tenant_id, r.product, r.rate_card_id, r.rate_dimension, r.model, r.per,
        r.billing_basis, r.billing_unit, r.currency,
        case when r.model = 'per_unit' then k.dimension else r.rate_dimension end
            as line_dimension,
        case when r.model = 'per_unit' then k.site else '*' end as line_site,
        min(r.valid_from) as valid_from,
        max(coalesce(r.valid_to, p.month_end)) as valid_to,
        sum(k.usage_quantity) as usage_quantity,
        cast(sum(k.usage_rows) as bigint) as usage_rows,
        sum(k.filled_nano_hours) as filled_nano_hours
    from int_charge_keys as k
    inner join int_usage_rates as r
        on r.tenant_id = k.tenant_id
        and r.product = k.product
        and r.dimension is not distinct from k.dimension
        and r.rate_card_id = k.rate_card_id
    cross join params as p
    group by
        r.tenant_id, r.product, r.rate_card_id, r.rate_dimension, r.model, r.per,
        r.billing_basis, r.billing_unit, r.currency,
        case when r.model = 'per_unit' then k.dimension else r.rate_dimension end,
        case when r.model = 'per_unit' then k.site else '*' end
)

select
    g.tenant_id, g.product, g.rate_card_id, g.rate_dimension, g.model, g.per,
    g.billing_basis, g.billing_unit, g.currency, g.line_dimension, g.line_site,
    greatest(g.valid_from, p.month_start) as price_from,
    least(g.valid_to, p.month_end) as price_to,
    g.usage_quantity, g.usage_rows,
    cast(cast(g.filled_nano_hours as decimal(28, 0)) * 0.000000001 as decimal(28, 9))
        as filled_hours,
    case
        when g.billing_basis = 'month' then cast(
            cast(
                cast(cast(g.usage_quantity as decimal(28, 9)) * 1000000000 as bigint)
                // p.hours_in_month as decimal(18, 0))
            * 0.000000001 as decimal(28, 9))
        when g.per = 1000 then cast(cast(g.usage_quantity as decimal(28, 9)) * 0.001 as decimal(28, 9))
        else cast(g.usage_quantity as decimal(28, 9))
    end as billing_quantity
from grouped as g
cross join params as p
