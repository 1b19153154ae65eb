-- int_usage_keys: the month's usage keys: every tenant, product and dimension with usage.
-- grain: one row per tenant × product × usage dimension.
-- parameters: none.
-- feeds: intermediate/int_usage_rates.sql (the rates each key has),
--   intermediate/int_unrated_parts.sql (the keys whose cards leave some of the month open).
-- Its own model (materialised: a few thousand rows at full size) so that both read it once;
-- from intermediate/int_usage_levels.sql, not from another scan of the month's intervals.
select distinct tenant_id, product, dimension
from int_usage_levels
