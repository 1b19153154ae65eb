-- audit_lines_traceable: usage invoice lines with no rated usage rows behind them.
-- grain: one bad row per invoice line.
-- parameters: none.
-- feeds: rate_month (any row fails the rating with RatingError).
-- how: rated usage is first reduced to the distinct keys a line can trace to (tens of
--   thousands, one pass over its 20.9 M rows): the same rows exist, and the lines are then
--   checked against those instead of against every rated row.
with traced as (
    select distinct tenant_id, product, rate_card_id, site
    from rated_usage
)

select l.tenant_id, l.line_no, l.product, l.dimension, l.site, l.rate_card_id
from invoice_lines as l
where l.product <> 'fixed_fee'
    and not exists (
        select 1
        from traced as r
        where r.tenant_id = l.tenant_id
            and r.product = l.product
            and r.rate_card_id = l.rate_card_id
            and (l.site = '*' or r.site = l.site)
    )
order by l.tenant_id, l.line_no
