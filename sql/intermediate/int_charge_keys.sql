-- int_charge_keys: the month's rated quantity per tenant, product, dimension, rate card and
--   site: the rate parts summed on their own keys.
-- grain: one row per tenant × product × usage dimension × rate card × site.
-- parameters: none.
-- feeds: intermediate/int_charge_periods.sql, audits/audit_conservation.sql.
-- rule: exact sums (scale 18) of the parts' quantities; tens of thousands of rows out of the
--   month's 52.7 M parts (full size), hashing 5 columns a part. Its own model (materialised)
--   so that the conservation audit balances metered usage against these sums instead of
--   streaming every part a second time.
select
    tenant_id, product, dimension, rate_card_id, site,
    sum(quantity_exact) as usage_quantity, count(*) as usage_rows,
    sum(case when filled then nano_hours else 0 end) as filled_nano_hours
from int_rate_parts
group by tenant_id, product, dimension, rate_card_id, site
