-- gate_unrated: the month's unrated usage as the completeness gate reports it, one problem
-- per site × product × dimension × reason, with the tenants it holds.
-- grain: one row per site, product, dimension and reason.
-- reads: unrated_usage (the month's rating output). feeds: metering.completeness.gate.
-- orphan is true when some rows have no tenant (an unmapped org): such a problem holds every
-- tenant, since nobody can say whose usage it is.
select
    site,
    product,
    dimension,
    reason,
    count(*) as rows,
    list(distinct tenant_id order by tenant_id) as tenants,
    bool_or(tenant_id is null) as orphan
from unrated_usage
group by site, product, dimension, reason
order by site, product, dimension, reason
