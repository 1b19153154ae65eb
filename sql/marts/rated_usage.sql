-- rated_usage: the lineage of the invoice lines: every rated quantity per resource and day.
--   No money: a line is priced once, from the sum of its rows (intermediate/int_charge_keys).
-- grain: one row per tenant × site × resource × usage_date × product × dimension × rate card.
-- parameters: view `rating_params` (month).
-- reads: intermediate/int_rated_usage.sql (the parts summed once), products (the usage unit).
-- feeds: the close's usage appendix and daily chart, the read model's usage pages, FOCUS
--   (daily split), the provider report, margin, the warehouse view `rated_usage`.
-- line: a row is billed on the invoice lines of its tenant_id, product and rate_card_id with
--   its own site and dimension (a per-unit charge), else site '*' and its own dimension, else
--   site '*' and dimension '*' (a graduated or volume charge: one line per band), the first
--   that exists (docs/metering-rules.md, "Lineage"); what a resource or a day cost is those
--   lines' amount shared over their rows in proportion to quantity, by the same rule.
-- filled_hours: the hours of the row's usage carried by the fill policy (estimated).
-- rules: quantity is in the usage unit (vCPU-hour, GB-hour, request ...), the exact sum
--   rounded half-up to 10^-9 (DECIMAL(38, 9)), as int_rated_usage rounds it.
with params as (
    select month from rating_params
)

select
    p.month,
    a.tenant_id,
    a.site,
    a.resource_id,
    a.resource_name,
    a.usage_date,
    a.product,
    a.dimension,
    a.quantity,
    pr.usage_unit as unit,
    a.rate_card_id,
    a.filled_hours
from int_rated_usage as a
inner join products as pr on pr.product = a.product
cross join params as p
order by a.tenant_id, a.site, a.resource_id, a.usage_date, a.product, a.dimension,
    a.rate_card_id
