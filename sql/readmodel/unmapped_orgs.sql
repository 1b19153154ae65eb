-- unmapped_orgs: orgs the tenant catalog does not name, billed as their own `unmapped:<org>`
-- tenant on the default plan (docs/architecture.md "Tenant catalog").
-- grain: one row per unmapped tenant. reads: invoice_totals. feeds: metering.readmodel.
select
    tenant_id,
    tenant_name,
    currency,
    total_amount
from invoice_totals
where tenant_id like 'unmapped:%'
order by tenant_id
