-- stg_cloudian__group: Cloudian groups, renamed and cast; OSE maps one org to one group.
-- grain: one row per site × group × sample_time.
-- parameters: none (reads the engine's view `cloudian_group`).
-- feeds: intermediate/int_cloudian_groups.sql (group → org name).
select
    cast(site as varchar) as site,
    cast(group_id as varchar) as group_id,
    cast(group_name as varchar) as group_name,
    cast(sample_time as timestamptz) as sample_time
from cloudian_group
