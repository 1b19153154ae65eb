-- tenant_lines: one tenant's invoice lines of a month as rating has them now (month to date).
-- grain: one row per invoice line. parameters: $tenant. reads: invoice_lines.
-- feeds: metering.readmodel (portal month-to-date page, API /month-to-date).
select
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
where tenant_id = $tenant
order by line_no
