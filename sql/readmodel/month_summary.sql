-- month_summary: a rated month's invoice totals per currency (provider pages).
-- grain: one row per currency. reads: invoice_totals. feeds: metering.readmodel.
select
    currency,
    count(*) as tenants,
    sum(subtotal_amount) as subtotal_amount,
    sum(total_amount) as total_amount
from invoice_totals
group by currency
order by currency
