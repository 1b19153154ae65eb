-- invoice_usage_appendix: the usage behind every invoice line, for the invoice's CSV appendix.
-- grain: one row per tenant, site, resource, product, dimension, unit and rate card (the
--   month summed; a resource priced by two cards of the month has a row per card, so each
--   row traces to the lines of its card, and FOCUS splits a line over its card's resources).
-- reads: rated_usage (quantities: the lineage), usage_line_keys (each key's line and its
--   amount: marts/usage_line_keys.sql); feeds:
--   metering.close (frozen into each invoice's body).
-- list_amount: the row's share of the lines it is billed on (docs/metering-rules.md,
--   "Lineage"; the line rule of marts/usage_line_keys.sql): their amount × the row's quantity ÷
--   the quantity of all their rows, in units of 10^-9 floored, the units left over given one
--   each to the largest remainders (ties: the appendix's order), so a line's rows sum to its
--   amount exactly. Integers only (no decimal division). Not rounded to the minor unit: the
--   lines are, once.
-- filled_hours: the row's hours carried by the fill policy (docs/metering-rules.md).
with usage as (
    select
        tenant_id, site, resource_id, max(resource_name) as resource_name, product, dimension,
        unit, sum(quantity) as quantity, min(usage_date) as first_date,
        max(usage_date) as last_date, rate_card_id,
        sum(coalesce(filled_hours, 0)) as filled_hours
    from rated_usage
    group by tenant_id, site, resource_id, product, dimension, unit, rate_card_id
),

weighted as (
    select
        u.*, l.line_dimension, l.line_site, l.line_card,
        cast(coalesce(l.amount, 0) * 1000000000 as hugeint) as units,
        cast(u.quantity * 1000000000 as hugeint) as w,
        sum(cast(u.quantity * 1000000000 as hugeint)) over (
            partition by u.tenant_id, u.product, l.line_dimension, l.line_site, l.line_card
        ) as wsum
    from usage as u
    left join usage_line_keys as l
        on l.tenant_id = u.tenant_id and l.product = u.product
        and l.dimension = u.dimension and l.site = u.site
        and l.rate_card_id is not distinct from u.rate_card_id
),

shares as (
    select
        *,
        case when wsum = 0 then 0 else units * w // wsum end as base,
        case when wsum = 0 then 0 else units * w % wsum end as remainder
    from weighted
),

allocated as (
    select
        *,
        units - sum(base) over (
            partition by tenant_id, product, line_dimension, line_site, line_card
        ) as left_over,
        row_number() over (
            partition by tenant_id, product, line_dimension, line_site, line_card
            order by remainder desc, site, dimension, resource_id, rate_card_id
        ) as remainder_rank
    from shares
)

select
    tenant_id,
    site,
    resource_id,
    resource_name,
    product,
    dimension,
    unit,
    quantity,
    cast(
        cast(sum(base + case when remainder_rank <= left_over then 1 else 0 end)
            as decimal(38, 0))
        * 0.000000001 as decimal(38, 9)
    ) as list_amount,
    first_date,
    last_date,
    rate_card_id,
    filled_hours
from allocated
-- one row per usage row (a row without a card has a share of each of its cards' lines)
group by
    tenant_id, site, resource_id, resource_name, product, dimension, unit, quantity,
    first_date, last_date, rate_card_id, filled_hours
order by tenant_id, site, product, dimension, resource_id, rate_card_id
