-- unrated_summary: what was metered but could not be priced or attributed, per reason.
-- grain: one row per site, org, tenant, product, dimension, unit and reason.
-- reads: unrated_usage. feeds: metering.readmodel (provider "unrated usage" page).
select
    site,
    org_name,
    tenant_id,
    product,
    dimension,
    unit,
    reason,
    sum(quantity) as quantity,
    count(distinct resource_id) as resources
from unrated_usage
group by site, org_name, tenant_id, product, dimension, unit, reason
order by site, org_name, product, dimension, reason
