-- rated_usage: every rated part of usage, per resource and day, with its unrounded amount.
-- grain: one row per tenant × site × resource × usage_date × product × dimension × rate card.
-- parameters: view `rating_params` (month, hours_in_month).
-- feeds: showback and the close's usage appendix, the warehouse view `rated_usage`,
--   audits/audit_conservation.sql; invoice lines trace back to these rows by tenant_id,
--   product, dimension (or the rate's dimension for tiers), site and rate_card_id.
-- filled_hours: the hours of the row's usage carried by the fill policy (estimated).
-- rules: quantity is in the usage unit (vCPU-hour, GB-hour, request ...); list_amount is
--   unrounded: quantity × price in the billing unit for per-unit and volume charges; for
--   graduated tiers it is the row's pro-rata share of its period's tiered amount, floored
--   to 1e-9 in integer arithmetic (the invoice line, not this share, is authoritative).
with params as (
    select month, hours_in_month from rating_params
),

band_prices as (
    select
        tenant_id, product, rate_card_id, line_dimension, line_site, model,
        max(case when band_quantity > 0 or model = 'per_unit' then unit_price end) as unit_price,
        sum(cast(cast(band_quantity as decimal(19, 9)) * unit_price as decimal(38, 18)))
            as period_amount,
        max(usage_quantity) as period_usage
    from int_charge_bands
    group by tenant_id, product, rate_card_id, line_dimension, line_site, model
),

parts as (
    select
        r.*,
        case when r.model = 'per_unit' then r.dimension else r.rate_dimension end
            as line_dimension,
        case when r.model = 'per_unit' then r.site else '*' end as line_site
    from int_rate_parts as r
),

priced as (
    select
        pa.tenant_id, pa.site, pa.resource_id, pa.resource_name, pa.usage_date, pa.product,
        pa.dimension, pa.rate_card_id, pa.model, pa.per, pa.billing_basis,
        pa.quantity_exact, case when pa.filled then pa.nano_hours else 0 end as filled_nano_hours, b.unit_price, b.period_amount, b.period_usage,
        cast(cast(pa.quantity_exact as decimal(19, 9)) * b.unit_price as decimal(38, 18))
            as raw_amount
    from parts as pa
    inner join band_prices as b
        on b.tenant_id = pa.tenant_id and b.product = pa.product
        and b.rate_card_id = pa.rate_card_id and b.line_dimension = pa.line_dimension
        and b.line_site = pa.line_site
),

amounts as (
    select
        pr.*,
        case
            when pr.model = 'graduated' then
                case
                    when pr.period_usage = 0 then cast(0 as decimal(38, 9))
                    -- exact in integers of 1e-9 (floor), never through floating point; the
                    -- product needs 128 bits: HUGEINT here, DECIMAL(38, 0) on Spark (its DIV
                    -- is exact there too), see metering/rating/portable.py
                    else cast(
                        cast(
                            cast(cast(pr.quantity_exact as decimal(28, 9)) * 1000000000 as hugeint)
                            * cast(cast(pr.period_amount as decimal(28, 9)) * 1000000000 as hugeint)
                            // cast(cast(pr.period_usage as decimal(28, 9)) * 1000000000 as hugeint)
                            as decimal(28, 0))
                        * 0.000000001 as decimal(38, 9))
                end
            when pr.billing_basis = 'month' then cast(
                cast(
                    cast(cast(pr.raw_amount as decimal(28, 9)) * 1000000000 as bigint)
                    // p.hours_in_month as decimal(18, 0))
                * 0.000000001 as decimal(38, 9))
            when pr.per = 1000 then cast(cast(pr.raw_amount as decimal(28, 18)) * 0.001 as decimal(38, 9))
            else cast(pr.raw_amount as decimal(38, 9))
        end as list_amount
    from priced as pr
    cross join params as p
),

-- summed on the row's own keys only; the month and the product's unit (one per key) are
-- joined to the 20.9 M sums afterwards, not hashed with each of the 52.7 M parts
summed as (
    select
        tenant_id, site, resource_id, min(resource_name) as resource_name, usage_date,
        product, dimension, sum(quantity_exact) as quantity, sum(list_amount) as list_amount,
        rate_card_id, sum(filled_nano_hours) as filled_nano_hours
    from amounts
    group by tenant_id, site, resource_id, usage_date, product, dimension, rate_card_id
)

select
    p.month,
    a.tenant_id,
    a.site,
    a.resource_id,
    a.resource_name,
    a.usage_date,
    a.product,
    a.dimension,
    cast(a.quantity as decimal(38, 9)) as quantity,
    pr.usage_unit as unit,
    cast(a.list_amount as decimal(38, 9)) as list_amount,
    a.rate_card_id,
    cast(cast(a.filled_nano_hours as decimal(28, 0)) * 0.000000001 as decimal(38, 9))
        as filled_hours
from summed as a
inner join products as pr on pr.product = a.product
cross join params as p
order by a.tenant_id, a.site, a.resource_id, a.usage_date, a.product, a.dimension,
    a.rate_card_id
