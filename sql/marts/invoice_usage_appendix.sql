-- invoice_usage_appendix: the usage behind every invoice line, for the invoice's CSV appendix.
-- grain: one row per tenant, site, resource, product, dimension, unit (the month summed).
-- reads: rated_usage, feeds: metering.close (frozen into each invoice's body).
-- list_amount stays unrounded: lines are rounded once, in invoice_lines.
with usage as (
    select
        tenant_id,
        site,
        resource_id,
        resource_name,
        product,
        dimension,
        unit,
        quantity,
        list_amount,
        usage_date
    from rated_usage
)

select
    tenant_id,
    site,
    resource_id,
    max(resource_name) as resource_name,
    product,
    dimension,
    unit,
    sum(quantity) as quantity,
    sum(list_amount) as list_amount,
    min(usage_date) as first_date,
    max(usage_date) as last_date
from usage
group by tenant_id, site, resource_id, product, dimension, unit
order by tenant_id, site, product, dimension, resource_id
