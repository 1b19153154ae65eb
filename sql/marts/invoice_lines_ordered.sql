-- invoice_lines_ordered: the month's invoice lines in print order.
-- grain: one row per tenant and line_no (as rating wrote them).
-- reads: invoice_lines, feeds: metering.close (frozen into each invoice's body).
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
    rate_card_id,
    price_from,
    price_to,
    tier_detail,
    list_amount,
    estimated,
    currency,
    coalesce(filled_hours, 0) as filled_hours
from invoice_lines
order by tenant_id, line_no
