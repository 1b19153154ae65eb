-- invoice_daily_cost: each tenant's list cost per day and service, for the invoice chart.
-- grain: one row per tenant, usage_date, service.
-- reads: rated_usage (quantities per day: the lineage), invoice_lines (amounts, services);
--   feeds: metering.close.
-- list_amount: each usage line's amount shared over the days of its rows (the line rule of
--   marts/rated_usage.sql) in proportion to their quantity, by the rule of
--   docs/metering-rules.md, "Lineage" (10^-9 units floored, the units left over to the largest
--   remainders, ties to the earlier day), then summed per service: a tenant's days sum to its
--   usage lines exactly (fixed fees have no day).
with usage as (
    select tenant_id, product, dimension, site, rate_card_id, usage_date,
        sum(quantity) as quantity
    from rated_usage
    group by tenant_id, product, dimension, site, rate_card_id, usage_date
),

line_groups as (
    select tenant_id, product, dimension, site, rate_card_id, min(service) as service,
        sum(list_amount) as amount
    from invoice_lines
    where product <> 'fixed_fee'
    group by tenant_id, product, dimension, site, rate_card_id
),

-- each usage key's lines: its own site and dimension, else '*' and its dimension, else '*'/'*'
key_lines as (
    select
        k.*, g.dimension as line_dimension, g.site as line_site, g.rate_card_id as line_card,
        row_number() over (
            partition by k.tenant_id, k.product, k.dimension, k.site, k.rate_card_id,
                g.rate_card_id
            order by case when g.site = '*' then 1 else 0 end,
                case when g.dimension = '*' then 1 else 0 end
        ) as preference
    from (select distinct tenant_id, product, dimension, site, rate_card_id from usage) as k
    inner join line_groups as g
        on g.tenant_id = k.tenant_id and g.product = k.product
        -- a row rated before rows named their card (none) traces to every card's lines of its
        -- key, and takes a share of each
        and (g.rate_card_id = k.rate_card_id or k.rate_card_id is null)
        and (g.site = k.site or g.site = '*')
        and (g.dimension = k.dimension or g.dimension = '*')
),

line_days as (
    select
        u.tenant_id, u.product, l.line_dimension, l.line_site, l.line_card, u.usage_date,
        cast(sum(u.quantity) * 1000000000 as hugeint) as w
    from usage as u
    inner join key_lines as l
        on l.preference = 1
        and l.tenant_id = u.tenant_id and l.product = u.product
        and l.dimension = u.dimension and l.site = u.site
        and l.rate_card_id is not distinct from u.rate_card_id
    group by u.tenant_id, u.product, l.line_dimension, l.line_site, l.line_card, u.usage_date
),

weighted as (
    select
        d.*, g.service,
        cast(g.amount * 1000000000 as hugeint) as units,
        sum(d.w) over (
            partition by d.tenant_id, d.product, d.line_dimension, d.line_site, d.line_card
        ) as wsum
    from line_days as d
    inner join line_groups as g
        on g.tenant_id = d.tenant_id and g.product = d.product
        and g.dimension = d.line_dimension and g.site = d.line_site
        and g.rate_card_id = d.line_card
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
            order by remainder desc, usage_date
        ) as remainder_rank
    from shares
)

select
    tenant_id,
    usage_date,
    service,
    cast(
        cast(sum(base + case when remainder_rank <= left_over then 1 else 0 end)
            as decimal(38, 0))
        * 0.000000001 as decimal(38, 9)
    ) as list_amount
from allocated
group by tenant_id, usage_date, service
order by tenant_id, usage_date, service
