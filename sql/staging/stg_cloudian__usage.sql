-- stg_cloudian__usage: Cloudian's own hourly usage series, renamed and cast for rating.
-- grain: one row per collected record: usually one per site × group × user × bucket ×
--   operation × interval.
--   An hour reported twice by one site (a retried page, a backfill beside the regular run)
--   gives two rows here; int_cloudian_intervals.sql keeps one of them.
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
    cast(value as bigint) as value,
    cast(collected_at as timestamptz) as collected_at
from cloudian_usage
