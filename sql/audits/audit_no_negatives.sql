-- audit_no_negatives: rows with a negative quantity, level or charge.
-- grain: one bad row per offending row of usage_intervals, rated_usage or invoice_lines.
-- parameters: none.
-- feeds: rate_month (any row fails the rating with RatingError).
-- note: the only negative money is invoice_totals.discount_amount, by convention. rated_usage
--   carries quantities only: its rows are int_rated_usage's (the exact sums), checked there.
select 'usage_intervals' as model, resource_id as row_key, cast(level as varchar) as value
from int_rating_usage
where level < 0 or interval_end <= interval_start
union all
select 'rated_usage' as model, resource_id as row_key, cast(quantity_exact as varchar) as value
from int_rated_usage
where quantity_exact < 0
union all
select 'invoice_lines' as model, tenant_id || '#' || cast(line_no as varchar) as row_key,
    cast(list_amount as varchar) as value
from invoice_lines
where quantity < 0 or list_amount < 0 or unit_price < 0
order by model, row_key
