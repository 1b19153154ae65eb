-- int_rated_usage: the rate parts summed per resource, day, product, dimension and rate card:
--   the lineage of the invoice lines (their per-resource quantities), in one pass over the
--   parts.
-- grain: one row per tenant × site × resource × usage_date × product × dimension × rate card.
-- parameters: `fresh_days` (the days rated here from their parts), `day_lineage` (the rows
--   of the other days, as an earlier rating of the month computed them with the same inputs
--   and the same rows of the day: metering.rating.day_lineage).
-- feeds: intermediate/int_charge_keys.sql (the sums the lines are priced from, summed again
--   from these rows instead of from the parts), marts/rated_usage.sql,
--   audits/audit_no_negatives.sql, audits/audit_lines_traceable.sql.
-- rules: exact sums (scale 18) of the parts' quantities, and the quantity and filled hours
--   rated_usage shows, rounded half-up to 10^-9 (DECIMAL(38, 9)); no money (docs/metering-rules.md,
--   "Lineage"): a line is priced once from its key's sum, and what a resource or a day "cost"
--   is that line's amount shared in proportion to quantity where a report needs it
--   (marts/rated_usage.sql names each row's line).
-- performance: the parts (52.7 M at full size) are grouped once here, to the 20.9 M rows of
--   rated_usage; before, int_charge_keys grouped them a second time and rated_usage joined each
--   part to its price and multiplied it in DECIMAL(38, 18). The parts are grouped by their
--   rate_key (one integer for tenant, product, dimension and rate card: int_usage_rates) and
--   the strings joined back on the sums: hashing and comparing four strings per part cost
--   about a third of the grouping.
with sums as (
    select
        rate_key, site, resource_id, usage_date,
        min(resource_name) as resource_name,
        sum(quantity_exact) as quantity_exact,
        count(*) as parts,
        -- at most a day's nano-hours per row (2.4·10^10): a BIGINT, also in the per-site Parquet
        cast(sum(case when filled then nano_hours else 0 end) as bigint) as filled_nano_hours
    from int_rate_parts
    where usage_date in (select usage_date from fresh_days)
    group by rate_key, site, resource_id, usage_date
)

select
    r.tenant_id, s.site, s.resource_id, s.usage_date, r.product, r.dimension, r.rate_card_id,
    s.resource_name, s.quantity_exact, s.parts, s.filled_nano_hours,
    -- rated_usage's two figures, rounded here once per row (and kept in the day's lineage)
    cast(s.quantity_exact as decimal(38, 9)) as quantity,
    cast(cast(s.filled_nano_hours as decimal(28, 0)) * 0.000000001 as decimal(38, 9))
        as filled_hours
from sums as s
inner join int_usage_rates as r on r.rate_key = s.rate_key
union all
select
    tenant_id, site, resource_id, usage_date, product, dimension, rate_card_id,
    resource_name, quantity_exact, parts, filled_nano_hours, quantity, filled_hours
from day_lineage
