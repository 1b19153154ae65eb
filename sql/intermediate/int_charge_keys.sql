-- int_charge_keys: the month's rated quantity per tenant, product, dimension, rate card and
--   site: the lineage rows summed on the line's keys.
-- grain: one row per tenant × product × usage dimension × rate card × site.
-- parameters: none.
-- feeds: intermediate/int_charge_periods.sql, audits/audit_conservation.sql,
--   audits/audit_lines_traceable.sql.
-- rule: exact sums (scale 18) of intermediate/int_rated_usage.sql's exact sums, which are the
--   parts' (a sum of sums of the same parts: identical); usage_rows counts the parts. Tens of
--   thousands of rows out of the month's 20.9 M lineage rows (full size), instead of a second
--   pass over its 52.7 M parts. Its own model (materialised) so that the conservation audit
--   balances metered usage against these sums.
select
    tenant_id, product, dimension, rate_card_id, site,
    sum(quantity_exact) as usage_quantity, cast(sum(parts) as bigint) as usage_rows,
    sum(filled_nano_hours) as filled_nano_hours
from int_rated_usage
group by tenant_id, product, dimension, rate_card_id, site
