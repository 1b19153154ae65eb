-- audit_no_double_counting: usage metered twice (a resource's level held twice, or requests
--   counted twice for one span: both would be billed twice), or compute charged on a TKG
--   cluster (its node VMs are billed as VMs; the cluster pays only its fee).
-- grain: one bad row per usage_date whose intervals are not its day file's, or per misplaced
--   product row.
-- parameters: none.
-- reads: int_rating_usage; `usage_days` (per day of the month, the digest its consolidated
--   file records: audits/day/day_digest.sql).
-- feeds: rate_month (any row fails the rating with RatingError).
-- how: no two intervals of one day overlap, and each lies inside its day: consolidation
--   checks that on the day's intervals before it writes the file
--   (audits/day/audit_day_intervals.sql) and records the file's digest. Here the month's
--   intervals are summed per usage_date the same way and compared with those digests: a day
--   whose rows appear twice (its copy in another day's file), in part, or changed since the
--   check differs. One aggregate of the month, not a sort of its intervals per resource
--   (full size: 65 M intervals, ~75 CPU s). A day whose file records no digest has nothing to
--   match and fails too.
with rated as (
    select
        usage_date,
        cast(count(*) as bigint) as intervals,
        cast(sum(epoch_us(interval_start) // 1000000) as bigint) as start_seconds,
        cast(sum(epoch_us(interval_end) // 1000000) as bigint) as end_seconds,
        cast(sum(level) as decimal(38, 9)) as level_sum
    from int_rating_usage
    group by usage_date
),

days as (
    select
        coalesce(r.usage_date, d.usage_date) as usage_date,
        coalesce(r.intervals, 0) as intervals,
        coalesce(r.start_seconds, 0) as start_seconds,
        coalesce(r.end_seconds, 0) as end_seconds,
        coalesce(r.level_sum, 0) as level_sum,
        d.intervals as day_intervals,
        d.start_seconds as day_start_seconds,
        d.end_seconds as day_end_seconds,
        d.level_sum as day_level_sum
    from rated as r
    full outer join usage_days as d on d.usage_date = r.usage_date
)

select
    'not as consolidated: ' || cast(intervals as varchar) || ' interval(s) rated, '
    || coalesce(cast(day_intervals as varchar), 'no digest') || ' in its day file'
        as problem,
    cast(null as varchar) as site, cast(null as varchar) as resource_id,
    cast(null as varchar) as product, cast(null as varchar) as dimension,
    usage_date
from days
where day_intervals is null
    or intervals <> day_intervals
    or start_seconds <> day_start_seconds
    or end_seconds <> day_end_seconds
    or level_sum <> day_level_sum
union all
select 'compute on a cluster' as problem, site, resource_id, product, dimension, usage_date
from int_rating_usage
where resource_type = 'tkg_cluster' and product <> 'tkg_cluster'
union all
select 'cluster fee on a vm' as problem, site, resource_id, product, dimension, usage_date
from int_rating_usage
where product = 'tkg_cluster' and resource_type <> 'tkg_cluster'
order by problem, site, resource_id, product, dimension, usage_date
