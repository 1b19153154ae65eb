-- int_filled_intervals: the day's sampled intervals (both merges), each cut where the fill policy
--   carried it past a missed collection instant, with `filled` marking the carried parts.
-- grain: one row per site × resource × product × dimension × unchanged stretch within the day
--   (as int_level_intervals and int_run_intervals), a stretch that holds a filled part cut into
--   its observed and filled pieces.
-- parameters: none (the fills come from int_run_holds.fill_start).
-- feeds: marts/usage_intervals.sql.
-- rule (docs/metering-rules.md, fill policy): a sample holds until the next run, at most `gap`;
--   the part of a hold beyond the sample's own sampling interval crosses an instant with no run
--   and is estimated. All resources of a run share its hold, and a stretch is a chain of whole
--   holds at consecutive runs, so a fill of its site and dataset that meets a stretch lies
--   inside it. Stretches without a fill (all of them, when collection had no gap) pass
--   through unchanged; only the few others are cut.
-- samples: a filled piece has none (no sample was taken in it); an observed piece counts the
--   runs whose holds start in it.
with fills as (
    select site, dataset, fill_start, hold_end as fill_end
    from int_run_holds
    where fill_start < hold_end
),

sampled as (
    select
        site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
        product, dimension, measure, level, interval_start, interval_end, samples
    from int_level_intervals
    union all
    select
        site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
        product, dimension, measure, level, interval_start, interval_end, samples
    from int_run_intervals
),

touched as (
    select
        s.site, s.dataset, s.resource_id, s.product, s.dimension, s.interval_start,
        s.interval_end,
        greatest(f.fill_start, s.interval_start) as fill_start,
        least(f.fill_end, s.interval_end) as fill_end
    from sampled as s
    inner join fills as f
        on f.site = s.site and f.dataset = s.dataset
        and f.fill_start < s.interval_end and f.fill_end > s.interval_start
),

ordered as (
    select
        *,
        lag(fill_end) over w as previous_end,
        row_number() over w = count(*) over (
            partition by site, dataset, resource_id, product, dimension, interval_start
        ) as is_last
    from touched
    window w as (
        partition by site, dataset, resource_id, product, dimension, interval_start
        order by fill_start
    )
),

pieces as (
    -- each fill; the observed piece before it; after the last fill, the rest of the stretch
    select
        site, dataset, resource_id, product, dimension, interval_start,
        fill_start as piece_start, fill_end as piece_end, true as filled
    from ordered
    union all
    select
        site, dataset, resource_id, product, dimension, interval_start,
        coalesce(previous_end, interval_start) as piece_start, fill_start as piece_end,
        false as filled
    from ordered
    union all
    select
        site, dataset, resource_id, product, dimension, interval_start,
        fill_end as piece_start, interval_end as piece_end, false as filled
    from ordered
    where is_last
),

cut as (
    select
        s.site, s.dataset, s.org_name, s.resource_type, s.resource_id, s.resource_name,
        s.parent_id, s.product, s.dimension, s.measure, s.level,
        p.piece_start as interval_start, p.piece_end as interval_end, p.filled
    from pieces as p
    inner join sampled as s
        on s.site = p.site and s.dataset = p.dataset and s.resource_id = p.resource_id
        and s.product = p.product and s.dimension is not distinct from p.dimension
        and s.interval_start = p.interval_start
    where p.piece_start < p.piece_end
),

counted as (
    select
        c.site, c.dataset, c.org_name, c.resource_type, c.resource_id, c.resource_name,
        c.parent_id, c.product, c.dimension, c.measure, c.level, c.interval_start,
        c.interval_end, c.filled,
        count(r.run_no) as samples
    from cut as c
    left join int_run_holds as r
        on not c.filled
        and r.site = c.site and r.dataset = c.dataset
        and r.hold_start >= c.interval_start and r.hold_start < c.interval_end
        and r.hold_start < r.hold_end
    group by
        c.site, c.dataset, c.org_name, c.resource_type, c.resource_id, c.resource_name,
        c.parent_id, c.product, c.dimension, c.measure, c.level, c.interval_start,
        c.interval_end, c.filled
)

select
    s.site, s.dataset, s.org_name, s.resource_type, s.resource_id, s.resource_name,
    s.parent_id, s.product, s.dimension, s.measure, s.level, s.interval_start, s.interval_end,
    s.samples, false as filled
from sampled as s
anti join touched as t
    on t.site = s.site and t.dataset = s.dataset and t.resource_id = s.resource_id
    and t.product = s.product and t.dimension is not distinct from s.dimension
    and t.interval_start = s.interval_start
union all
select
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id, product,
    dimension, measure, level, interval_start, interval_end, samples, filled
from counted
