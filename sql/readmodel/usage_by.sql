-- usage_by: every tenant's rated usage of a month grouped by one key (product, site, day or
-- resource): list amounts before rounding, discount and tax. Materialised once per month
-- version by metering.readmodel, then sliced per tenant.
-- grain: one row per tenant, key value and unit. {key} is substituted by metering.readmodel
-- from a fixed set of expressions (below). reads: rated_usage.
with usage as (
    select
        tenant_id,
        product,
        site,
        cast(usage_date as varchar) as usage_date,
        coalesce(nullif(resource_name, ''), resource_id) || ' (' || site || ')' as resource,
        unit,
        quantity,
        list_amount
    from rated_usage
)

select
    tenant_id,
    {key} as key,
    case when '{key}' = 'product' then unit else '' end as unit,
    sum(case when '{key}' = 'product' then quantity else 0 end) as quantity,
    sum(list_amount) as list_amount
from usage
group by tenant_id, {key}, 3
order by tenant_id, {key}
