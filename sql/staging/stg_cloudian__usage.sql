-- stg_cloudian__usage: Cloudian's own hourly usage series, renamed and cast for rating.
-- grain: one row per site × group × user × bucket × operation × interval.
-- parameters: none (reads the engine's view `cloudian_usage`).
-- feeds: intermediate/int_cloudian_intervals.sql.
select
    cast(site as varchar) as site,
    cast(group_id as varchar) as group_id,
    cast(user_id as varchar) as user_id,
    cast(bucket as varchar) as bucket,
    cast(storage_policy as varchar) as storage_policy,
    cast(operation as varchar) as operation,
    cast(interval_start as timestamptz) as interval_start,
    cast(interval_end as timestamptz) as interval_end,
    cast(value as bigint) as value
from cloudian_usage
