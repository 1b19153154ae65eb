-- int_usage_holds: how long each sample holds, clipped to the day being consolidated.
-- grain: one row per site × resource × sample_time (within the day), product levels side by
--   side as in int_sample_levels.
-- parameters: view `consolidation_params` (day_start, day_end, gap).
-- feeds: intermediate/int_resource_intervals.sql.
-- rule (docs/metering-rules.md, gap rule): a sample holds from its sample time until the next
--   successful run of the same dataset at the same site, and at most `gap`; a resource missing
--   from a run has ended at that run. Run instants come from the samples and from `runs`; only
--   those in (day_start - gap, day_end) can end a hold inside the day.
with params as (
    select day_start, day_end, gap from consolidation_params
),

run_times as (
    select site, dataset, sample_time
    from int_sample_levels
    group by site, dataset, sample_time
    union
    select r.site, cast(r.dataset as varchar) as dataset, r.sample_time
    from (select site, sample_time, status, unnest(datasets) as dataset from runs) as r
    cross join params as p
    where r.status in ('ok', 'partial')
        and r.sample_time > p.day_start - p.gap
        and r.sample_time < p.day_end
),

next_runs as (
    select
        site, dataset, sample_time,
        lead(sample_time) over (partition by site, dataset order by sample_time) as next_time
    from run_times
),

holds as (
    select
        l.site, l.dataset, l.org_name, l.resource_type, l.resource_id, l.resource_name,
        l.parent_id, l.sample_time,
        l.product_1, l.dimension_1, l.level_1,
        l.product_2, l.dimension_2, l.level_2,
        l.product_3, l.dimension_3, l.level_3,
        greatest(l.sample_time, p.day_start) as hold_start,
        least(coalesce(n.next_time, l.sample_time + p.gap), l.sample_time + p.gap, p.day_end)
            as hold_end
    from int_sample_levels as l
    inner join next_runs as n
        on n.site = l.site and n.dataset = l.dataset and n.sample_time = l.sample_time
    cross join params as p
)

select
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id, sample_time,
    product_1, dimension_1, level_1, product_2, dimension_2, level_2,
    product_3, dimension_3, level_3, hold_start, hold_end
from holds
where hold_start < hold_end
