-- unrated_usage: metered quantities that have no tenant or no price, with the reason.
-- grain: one row per site × org × resource × product × dimension × reason.
-- parameters: view `rating_params` (month).
-- feeds: the close (a provider must price or map them), the warehouse view `unrated_usage`,
--   audits/audit_conservation.sql. Nothing metered is dropped silently.
with params as (
    select month from rating_params
)

select
    p.month,
    u.site,
    u.org_name,
    u.tenant_id,
    u.resource_id,
    min(u.resource_name) as resource_name,
    u.product,
    u.dimension,
    cast(sum(u.quantity_exact) as decimal(38, 9)) as quantity,
    pr.usage_unit as unit,
    u.reason
from int_unrated_parts as u
inner join products as pr on pr.product = u.product
cross join params as p
group by
    p.month, u.site, u.org_name, u.tenant_id, u.resource_id, u.product, u.dimension,
    pr.usage_unit, u.reason
order by u.site, u.org_name, u.resource_id, u.product, u.dimension, u.reason
