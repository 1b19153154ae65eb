-- int_run_intervals: the day's intervals of the resources merged by bitmask: consecutive holds
--   of a product with the same attributes merged into one interval.
-- grain: one row per site × resource × product × dimension × unchanged stretch within the day
--   (as int_level_intervals, for the resources int_resource_runs marks `by_masks`).
-- parameters: none.
-- feeds: marts/usage_intervals.sql.
-- rule (as int_resource_intervals then int_level_intervals): a product's hold continues the one
--   at the run before when that one reaches this run and both have the same level, org, name
--   and parent; a hold with no level, org or name merges with nothing. Per product, the holds
--   that say the same are one bitmask pair (the OR of their int_resource_runs groups'); a
--   stretch starts at a present run whose previous run is not a linked member, and ends at a
--   present run not linked to a present next run; the i-th start pairs with the i-th end, and
--   its samples are the runs between them.
with products as (
    select
        site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
        product_1 as product, dimension_1 as dimension, level_1 as level,
        present, linked, last_run
    from int_sample_levels
    where present is not null and product_1 is not null
    union all
    select
        site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
        product_2 as product, dimension_2 as dimension, level_2 as level,
        present, linked, last_run
    from int_sample_levels
    where present is not null and product_2 is not null
    union all
    select
        site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
        product_3 as product, dimension_3 as dimension, level_3 as level,
        present, linked, last_run
    from int_sample_levels
    where present is not null and product_3 is not null
),

merged as (
    select
        site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
        product, dimension, level,
        bit_or(present) as present,
        bit_or(linked) as linked,
        max(last_run) as last_run
    from products
    group by
        site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
        product, dimension, level
),

marked as (
    select
        *,
        case when org_name is not null and resource_name is not null and level is not null
            then present & ~(((present & linked) & cast(9223372036854775807 as ubigint)) << 1)
            else present end as starts,
        case when org_name is not null and resource_name is not null and level is not null
            then present & ~(linked & (present >> 1))
            else present end as ends
    from merged
),

runs as (
    -- several stretches: every run number up to the last, kept where a stretch starts
    select *
    from (
        select *, unnest(range(last_run + 1)) as run
        from marked
        where bit_count(starts) > 1
    )
    where (starts >> run) & 1 = 1
),

stretches as (
    -- one stretch (most groups): its only start and end bit; 2^i - 1 has i bits set
    select
        site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
        product, dimension, level,
        bit_count(starts - 1) as first_run,
        bit_count(ends - 1) as last_run
    from marked
    where bit_count(starts) = 1
    union all
    -- a stretch starting at `run` ends at the lowest end bit from `run` on (m & ~(m - 1))
    select
        site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
        product, dimension, level,
        run as first_run,
        bit_count((from_run & ~(from_run - 1)) - 1) as last_run
    from (
        select *, ends & ~((cast(1 as ubigint) << run) - 1) as from_run
        from runs
    )
)

select
    s.site, s.dataset, s.org_name, s.resource_type, s.resource_id, s.resource_name,
    s.parent_id, s.product, s.dimension, 'level' as measure, s.level,
    f.hold_start as interval_start,
    l.hold_end as interval_end,
    s.last_run - s.first_run + 1 as samples
from stretches as s
inner join int_run_holds as f
    on f.site = s.site and f.dataset = s.dataset and f.run_no = s.first_run
inner join int_run_holds as l
    on l.site = s.site and l.dataset = s.dataset and l.run_no = s.last_run
