-- invoice_daily_cost: each tenant's list cost per day and service, for the invoice chart.
-- grain: one row per tenant, usage_date, service.
-- reads: rated_usage (quantities per day: the lineage), usage_line_keys (each key's line,
--   its amount and service: marts/usage_line_keys.sql);
--   feeds: metering.close.
-- list_amount: each usage line's amount shared over the days of its rows (the line rule of
--   marts/usage_line_keys.sql) in proportion to their quantity, by the rule of
--   docs/metering-rules.md, "Lineage" (10^-9 units floored, the units left over to the largest
--   remainders, ties to the earlier day), then summed per service: a tenant's days sum to its
--   usage lines exactly (fixed fees have no day).
with usage as (
    select tenant_id, product, dimension, site, rate_card_id, usage_date,
        sum(quantity) as quantity
    from rated_usage
    group by tenant_id, product, dimension, site, rate_card_id, usage_date
),

line_days as (
    select
        u.tenant_id, u.product, l.line_dimension, l.line_site, l.line_card, l.amount,
        l.service, u.usage_date,
        cast(sum(u.quantity) * 1000000000 as hugeint) as w
    from usage as u
    inner join usage_line_keys as l
        on l.tenant_id = u.tenant_id and l.product = u.product
        and l.dimension = u.dimension and l.site = u.site
        and l.rate_card_id is not distinct from u.rate_card_id
    group by
        u.tenant_id, u.product, l.line_dimension, l.line_site, l.line_card, l.amount,
        l.service, u.usage_date
),

weighted as (
    select
        *,
        cast(amount * 1000000000 as hugeint) as units,
        sum(w) over (
            partition by tenant_id, product, line_dimension, line_site, line_card
        ) as wsum
    from line_days
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
