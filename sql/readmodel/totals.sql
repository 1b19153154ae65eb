-- totals: every tenant's totals of a month as rating has them now.
-- grain: one row per tenant. reads: invoice_totals. Materialised by metering.readmodel.
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
order by tenant_id
