-- int_cloudian_groups: each Cloudian group's org name (OSE maps one org to one group).
-- grain: one row per group_id seen in the group lists read around the day.
-- parameters: none.
-- feeds: intermediate/int_cloudian_intervals.sql (group → org name).
-- why stored: a few thousand rows. Inline, DuckDB estimated them at hundreds of thousands (the
--   group lists of three days, hourly) and built its join table on the day's usage rows
--   instead (800k at full size); stored, their count is known and the join builds on them.
select group_id, min(group_name) as org_name
from stg_cloudian__group
group by group_id
