-- tenant_usage_by: one tenant's rated usage of a month grouped by one key (product, site,
-- day or resource), list amounts before rounding, discount and tax.
-- grain: one row per key value (and unit). parameters: $tenant; {key} is substituted by
-- metering.readmodel from a fixed set (product, site, usage_date, resource).
-- reads: rated_usage. feeds: metering.readmodel (month-to-date charts and tables).
with usage as (
    select
        product,
        site,
        cast(usage_date as varchar) as usage_date,
        coalesce(nullif(resource_name, ''), resource_id) || ' (' || site || ')' as resource,
        unit,
        quantity,
        list_amount
    from rated_usage
    where tenant_id = $tenant
)

select
    {key} as key,
    case when '{key}' = 'product' then unit else '' end as unit,
    sum(case when '{key}' = 'product' then quantity else 0 end) as quantity,
    sum(list_amount) as list_amount
from usage
group by {key}, 2
order by {order}
