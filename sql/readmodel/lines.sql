-- lines: every tenant's invoice lines of a month as rating has them now (month to date).
-- grain: one row per invoice line. reads: invoice_lines. Materialised once per month version
-- by metering.readmodel, then sliced per tenant.
select
    tenant_id,
    line_no,
    service,
    product,
    dimension,
    site,
    description,
    quantity,
    unit,
    unit_price,
    list_amount,
    estimated,
    currency
from invoice_lines
order by tenant_id, line_no
