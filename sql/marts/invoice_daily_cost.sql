-- invoice_daily_cost: each tenant's list cost per day and service, for the invoice chart.
-- grain: one row per tenant, usage_date, service.
-- reads: rated_usage, invoice_lines (product -> service naming), feeds: metering.close.
with services as (
    select
        product,
        min(service) as service
    from invoice_lines
    group by product
),

daily as (
    select
        u.tenant_id,
        u.usage_date,
        coalesce(s.service, u.product) as service,
        u.list_amount
    from rated_usage as u
    left join services as s on u.product = s.product
)

select
    tenant_id,
    usage_date,
    service,
    sum(list_amount) as list_amount
from daily
group by tenant_id, usage_date, service
order by tenant_id, usage_date, service
