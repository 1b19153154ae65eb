-- int_level_intervals: consecutive holds with the same attributes merged into one interval.
-- grain: one row per site × resource × product × dimension × unchanged stretch within the day.
-- parameters: none.
-- feeds: marts/usage_intervals.sql.
-- why: most resources do not change for weeks; the month's rating reads a few intervals per
--   resource and day instead of every hourly sample (gaps-and-islands).
with marked as (
    select
        site, dataset, org_name, resource_type, resource_id, resource_name, parent_id, product,
        dimension, level, hold_start, hold_end,
        case
            when lag(hold_end) over w = hold_start
                and lag(level) over w = level
                and lag(org_name) over w = org_name
                and lag(resource_name) over w = resource_name
                and coalesce(lag(parent_id) over w, '') = coalesce(parent_id, '')
                then 0
            else 1
        end as is_new
    from int_usage_holds
    window w as (partition by site, resource_id, product, dimension order by hold_start)
),

islands as (
    select
        *,
        sum(is_new) over (
            partition by site, resource_id, product, dimension
            order by hold_start rows between unbounded preceding and current row
        ) as island
    from marked
)

select
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id, product,
    dimension, 'level' as measure, level,
    min(hold_start) as interval_start,
    max(hold_end) as interval_end,
    count(*) as samples
from islands
group by
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id, product,
    dimension, level, island
