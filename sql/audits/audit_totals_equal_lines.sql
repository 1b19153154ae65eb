-- audit_totals_equal_lines: invoice totals that are not the sum of their rounded lines, or
--   whose subtotal/total arithmetic does not add up.
-- grain: one bad row per tenant.
-- parameters: none.
-- feeds: rate_month (any row fails the rating with RatingError).
with lines as (
    select tenant_id, sum(list_amount) as lines_amount, count(*) as line_count
    from invoice_lines
    group by tenant_id
)

select
    t.tenant_id, t.lines_amount, coalesce(l.lines_amount, 0) as sum_of_lines,
    t.subtotal_amount, t.total_amount
from invoice_totals as t
left join lines as l on l.tenant_id = t.tenant_id
where t.lines_amount <> coalesce(l.lines_amount, 0)
    or t.subtotal_amount <> t.lines_amount + t.discount_amount + t.minimum_adjustment
    or t.total_amount <> t.subtotal_amount + t.tax_amount
    or t.minimum_adjustment < 0
    or t.discount_amount > 0
union all
select l.tenant_id, null as lines_amount, l.lines_amount as sum_of_lines,
    null as subtotal_amount, null as total_amount
from lines as l
where not exists (select 1 from invoice_totals as t where t.tenant_id = l.tenant_id)
order by tenant_id
