-- gate_tenants: the tenants the month would invoice (every tenant with a total).
-- grain: one row per tenant. reads: invoice_totals. feeds: metering.completeness.gate.
select tenant_id
from invoice_totals
order by tenant_id
