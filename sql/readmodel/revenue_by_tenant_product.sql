-- revenue_by_tenant_product: a month's invoice lines per tenant and product (provider pages).
-- grain: one row per tenant, product and currency. reads: invoice_lines, invoice_totals.
-- feeds: metering.readmodel (revenue over months).
select
    l.tenant_id,
    t.tenant_name,
    l.product,
    l.currency,
    sum(l.list_amount) as list_amount
from invoice_lines as l
left join invoice_totals as t on l.tenant_id = t.tenant_id
group by l.tenant_id, t.tenant_name, l.product, l.currency
order by l.tenant_id, l.product
