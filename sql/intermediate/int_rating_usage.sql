-- int_rating_usage: the month's usage intervals with their tenant.
-- grain: one row per usage interval (site × resource × product × dimension × interval).
-- parameters: view `rating_params` (month_start, month_end).
-- feeds: intermediate/int_tenants.sql, intermediate/int_rate_parts.sql.
-- rule: an org in the tenant catalog bills to its tenant; any other org becomes its own
--   tenant 'unmapped:<org>' (reported, never dropped); a Cloudian group with no org has no
--   tenant and goes to unrated_usage.
with params as (
    select month_start, month_end from rating_params
)

select
    u.usage_date, u.site, u.dataset, u.org_name, u.resource_type, u.resource_id,
    u.resource_name, u.parent_id, u.product, u.dimension, u.measure, u.level,
    u.interval_start, u.interval_end, u.samples,
    -- consolidated before the fill policy (or built by hand): nothing marked as filled
    coalesce(u.filled, false) as filled,
    coalesce(o.tenant_id, 'unmapped:' || u.org_name) as tenant_id
from usage_intervals as u
cross join params as p
left join tenant_orgs as o on o.org_name = u.org_name
where u.interval_start >= p.month_start
    and u.interval_start < p.month_end
