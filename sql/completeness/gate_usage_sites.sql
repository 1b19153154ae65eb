-- gate_usage_sites: which tenants have rated usage on which site and product in the month;
-- the gate holds a tenant for a site's short coverage only where it has usage there.
-- grain: one row per site, product and tenant.
-- reads: rated_usage (the month's rating output). feeds: metering.completeness.gate.
select distinct site, product, tenant_id
from rated_usage
