-- usage_by: every tenant's rated usage of a month grouped by one key (product, site, day or
-- resource): quantities from rated_usage (the lineage), and the list amounts of the usage
-- lines (before discount and tax) shared over the key's values. Materialised once per month
-- version by metering.readmodel, then sliced per tenant.
-- grain: one row per tenant, key value and unit. {key} is substituted by metering.readmodel
-- from a fixed set of expressions (below). reads: rated_usage, usage_line_keys
-- (marts/usage_line_keys.sql: each usage key's line and its amount).
-- list_amount: each usage line's amount shared over the key's values of its rows (the line
-- rule of marts/usage_line_keys.sql) in proportion to their quantity, by the rule of
-- docs/metering-rules.md, "Lineage" (10^-9 units floored, the units left over to the largest
-- remainders, ties to the smaller key), then summed per key: the values of a tenant sum to its
-- usage lines exactly, whatever the key (fixed fees belong to no key).
with usage as (
    select
        tenant_id,
        product,
        dimension,
        site,
        rate_card_id,
        usage_date,
        coalesce(nullif(resource_name, ''), resource_id) || ' (' || site || ')' as resource,
        unit,
        quantity
    from rated_usage
),

keyed as (
    select tenant_id, product, dimension, site, rate_card_id, {key} as key, min(unit) as unit,
        sum(quantity) as quantity
    from usage
    group by tenant_id, product, dimension, site, rate_card_id, {key}
),

line_keys as (
    select
        u.tenant_id, u.product, l.line_dimension, l.line_site, l.line_card, l.amount, u.key,
        cast(sum(u.quantity) * 1000000000 as hugeint) as w
    from keyed as u
    inner join usage_line_keys as l
        on l.tenant_id = u.tenant_id and l.product = u.product
        and l.dimension = u.dimension and l.site = u.site
        and l.rate_card_id is not distinct from u.rate_card_id
    group by
        u.tenant_id, u.product, l.line_dimension, l.line_site, l.line_card, l.amount, u.key
),

shares as (
    select
        *,
        cast(amount * 1000000000 as hugeint) as units,
        sum(w) over (
            partition by tenant_id, product, line_dimension, line_site, line_card
        ) as wsum
    from line_keys
),

divided as (
    select
        *,
        case when wsum = 0 then 0 else units * w // wsum end as base,
        case when wsum = 0 then 0 else units * w % wsum end as remainder
    from shares
),

allocated as (
    select
        *,
        units - sum(base) over (
            partition by tenant_id, product, line_dimension, line_site, line_card
        ) as left_over,
        row_number() over (
            partition by tenant_id, product, line_dimension, line_site, line_card
            order by remainder desc, key
        ) as remainder_rank
    from divided
),

amounts as (
    select tenant_id, key,
        sum(base + case when remainder_rank <= left_over then 1 else 0 end) as units
    from allocated
    group by tenant_id, key
)

select
    k.tenant_id,
    -- a day is grouped as a DATE and named as text here, once per row of the result
    cast(k.key as varchar) as key,
    case when '{key}' = 'product' then k.unit else '' end as unit,
    sum(case when '{key}' = 'product' then k.quantity else 0 end) as quantity,
    cast(
        cast(coalesce(min(a.units), 0) as decimal(38, 0)) * 0.000000001 as decimal(38, 9)
    ) as list_amount
from keyed as k
left join amounts as a on a.tenant_id = k.tenant_id and a.key = k.key
group by k.tenant_id, k.key, 3
order by k.tenant_id, 2
