-- usage_line_keys: the invoice line each key of rated usage is billed on, by the line rule of
--   marts/rated_usage.sql: the lines of its tenant, product and rate card with its own site and
--   dimension, else site '*' and its dimension, else '*' and '*' (docs/metering-rules.md,
--   "Lineage"). The one statement of that rule for the readers that share a line's amount
--   over its rows: the invoice's usage appendix and daily chart (metering.close) and the
--   portal's usage groupings (metering.readmodel), each run after this table is made.
-- grain: one row per usage key (tenant × product × dimension × site × rate card) and line
--   card: a key rated before rows named their card (rate_card_id null) traces to every card's
--   lines of its key, and takes a share of each.
-- reads: rated_usage, invoice_lines. A usage key with no line has no row here (the rating's
--   audit_lines_traceable refuses such a month).
-- amount: Σ list_amount of the line group (a graduated charge's bands are one group); service:
--   the lines' service (for the chart).
with line_groups as (
    select tenant_id, product, dimension, site, rate_card_id, min(service) as service,
        sum(list_amount) as amount
    from invoice_lines
    where product <> 'fixed_fee'
    group by tenant_id, product, dimension, site, rate_card_id
),

keys as (
    select distinct tenant_id, product, dimension, site, rate_card_id from rated_usage
),

ranked as (
    select
        k.tenant_id, k.product, k.dimension, k.site, k.rate_card_id,
        g.dimension as line_dimension, g.site as line_site, g.rate_card_id as line_card,
        g.amount, g.service,
        row_number() over (
            partition by k.tenant_id, k.product, k.dimension, k.site, k.rate_card_id,
                g.rate_card_id
            order by case when g.site = '*' then 1 else 0 end,
                case when g.dimension = '*' then 1 else 0 end
        ) as preference
    from keys as k
    inner join line_groups as g
        on g.tenant_id = k.tenant_id and g.product = k.product
        and (g.rate_card_id = k.rate_card_id or k.rate_card_id is null)
        and (g.site = k.site or g.site = '*')
        and (g.dimension = k.dimension or g.dimension = '*')
)

select
    tenant_id, product, dimension, site, rate_card_id, line_dimension, line_site, line_card,
    amount, service
from ranked
where preference = 1
