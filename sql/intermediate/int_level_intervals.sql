-- int_level_intervals: consecutive stretches of a product with the same attributes merged into
--   one interval.
-- grain: one row per site × resource × product × dimension × unchanged stretch within the day.
-- parameters: none.
-- feeds: marts/usage_intervals.sql.
-- why: most resources do not change for weeks; the month's rating reads a few intervals per
--   resource and day instead of every hourly sample (gaps-and-islands). The input is already
--   merged per resource (int_resource_intervals.sql), so this pass runs on a few rows per
--   resource: it joins the stretches that a change of another product cut (a VM's disk across a
--   power change).
with marked as (
    select
        site, dataset, org_name, resource_type, resource_id, resource_name, parent_id, product,
        dimension, level, interval_start, interval_end, samples,
        case
            when lag(interval_end) over w = interval_start
                and lag(level) over w = level
                and lag(org_name) over w = org_name
                and lag(resource_name) over w = resource_name
                and coalesce(lag(parent_id) over w, '') = coalesce(parent_id, '')
                then 0
            else 1
        end as is_new
    from int_resource_intervals
    window w as (partition by site, resource_id, product, dimension order by interval_start)
),

islands as (
    select
        site, dataset, org_name, resource_type, resource_id, resource_name, parent_id, product,
        dimension, level, interval_start, interval_end, samples,
        sum(is_new) over (
            partition by site, resource_id, product, dimension
            order by interval_start rows between unbounded preceding and current row
        ) as island
    from marked
)

select
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id, product,
    dimension, 'level' as measure, level,
    min(interval_start) as interval_start,
    max(interval_end) as interval_end,
    sum(samples) as samples
from islands
group by
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id, product,
    dimension, level, island
