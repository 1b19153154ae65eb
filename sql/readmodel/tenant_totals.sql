-- tenant_totals: one tenant's totals of a month as rating has them now.
-- grain: one row (or none). parameters: $tenant. reads: invoice_totals.
-- feeds: metering.readmodel (month to date).
select
    tenant_id,
    tenant_name,
    currency,
    lines_amount,
    discount_amount,
    minimum_adjustment,
    subtotal_amount,
    tax_rate,
    tax_amount,
    total_amount
from invoice_totals
where tenant_id = $tenant
