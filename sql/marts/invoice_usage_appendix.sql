-- invoice_usage_appendix: the usage behind every invoice line, for the invoice's CSV appendix.
-- grain: one row per tenant, site, resource, product, dimension, unit and rate card (the
--   month summed; a resource priced by two cards of the month has a row per card, so each
--   row traces to the lines of its card, and FOCUS splits a line over its card's resources).
-- reads: rated_usage (quantities: the lineage), invoice_lines (the amounts); feeds:
--   metering.close (frozen into each invoice's body).
-- list_amount: the row's share of the lines it is billed on (docs/metering-rules.md,
--   "Lineage"; the line rule of marts/rated_usage.sql): their amount × the row's quantity ÷
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

line_groups as (
    select tenant_id, product, dimension, site, rate_card_id, sum(list_amount) as amount
    from invoice_lines
    where product <> 'fixed_fee'
    group by tenant_id, product, dimension, site, rate_card_id
),

-- each usage key's lines: its own site and dimension, else '*' and its dimension, else '*'/'*'
keys as (
    select distinct tenant_id, product, dimension, site, rate_card_id from usage
),

key_lines as (
    select
        k.*, g.dimension as line_dimension, g.site as line_site, g.rate_card_id as line_card,
        g.amount,
        row_number() over (
            partition by k.tenant_id, k.product, k.dimension, k.site, k.rate_card_id,
                g.rate_card_id
            order by case when g.site = '*' then 1 else 0 end,
                case when g.dimension = '*' then 1 else 0 end
        ) as preference
    from keys as k
    inner join line_groups as g
        on g.tenant_id = k.tenant_id and g.product = k.product
        -- a row rated before rows named their card (none) traces to every card's lines of its
        -- key, and takes a share of each
        and (g.rate_card_id = k.rate_card_id or k.rate_card_id is null)
        and (g.site = k.site or g.site = '*')
        and (g.dimension = k.dimension or g.dimension = '*')
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
    left join key_lines as l
        on l.preference = 1
        and l.tenant_id = u.tenant_id and l.product = u.product
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
