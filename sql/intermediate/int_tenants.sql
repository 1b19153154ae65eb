-- int_tenants: every tenant billed this month: the catalog, plus one per unmapped org seen.
-- grain: one row per tenant.
-- parameters: view `rating_params` (default_plan, default_currency, default_tax_rate).
-- reads: tenants (the catalog), intermediate/int_usage_levels.sql (the orgs with usage).
-- feeds: intermediate/int_tenant_rates.sql, marts/invoice_lines.sql, marts/invoice_totals.sql.
with params as (
    select default_plan, default_currency, default_minor_unit, default_tax_rate from rating_params
),

unmapped as (
    select tenant_id, min(org_name) as tenant_name
    from int_usage_levels
    where tenant_id like 'unmapped:%'
    group by tenant_id
)

select
    tenant_id, tenant_name, currency, minor_unit, tax_rate, plan, discount_rate,
    minimum_monthly_commitment, true as in_catalog
from tenants
union all
select
    u.tenant_id, u.tenant_name, p.default_currency as currency,
    p.default_minor_unit as minor_unit, p.default_tax_rate as tax_rate,
    p.default_plan as plan, cast(0 as decimal(18, 12)) as discount_rate,
    cast(0 as decimal(18, 2)) as minimum_monthly_commitment, false as in_catalog
from unmapped as u
cross join params as p
