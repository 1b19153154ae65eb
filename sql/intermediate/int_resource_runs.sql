-- int_resource_runs: each resource's holds that say the same, as one row with two bitmasks over
--   the day's run numbers: the runs it has a hold at, and those whose hold reaches the next run.
-- grain: one row per site × resource × distinct raw sample (every column of int_samples but
--   its time).
-- parameters: none.
-- feeds: intermediate/int_usage_holds.sql (the groups of resources `by_masks`) and
--   intermediate/int_unmerged_holds.sql (which picks the others' samples one by one).
-- why: merging unchanged contiguous samples (gaps and islands) by sorting every sample of the
--   day was most of consolidation's time. A hash aggregate gives the same answer: runs are
--   numbered per site × dataset (int_run_holds.run_no) and there is no other run between two
--   consecutive ones, so two holds at runs k and k + 1 are neighbours in time and contiguous
--   when the first reaches the next run. That needs one hold per resource and run (no duplicate
--   samples: the bits set equal the holds), run numbers below 64 (a day of hourly runs has
--   about 26) and no parent_id '' (int_level_intervals compares parent_id with '' for null);
--   any other resource is merged by the sorted passes of int_resource_intervals and
--   int_level_intervals, as before.
with holds as (
    select
        s.site, s.dataset, s.resource_id, s.resource_type, s.org_name, s.resource_name,
        s.parent_id, s.powered_on, s.dimension, s.compute_dimension, s.figure_1, s.figure_2,
        s.figure_3, r.run_no, r.reaches_next_run
    from int_samples as s
    inner join int_run_holds as r
        on r.site = s.site and r.dataset = s.dataset and r.sample_time = s.sample_time
    where r.hold_start < r.hold_end
),

grouped as (
    select
        site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
        powered_on, dimension, compute_dimension, figure_1, figure_2, figure_3,
        count(*) as holds,
        max(run_no) as last_run,
        bit_or(cast(1 as ubigint) << least(run_no, 63)) as present,
        bit_or(
            case when reaches_next_run then cast(1 as ubigint) << least(run_no, 63)
            else cast(0 as ubigint) end
        ) as linked
    from holds
    group by
        site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
        powered_on, dimension, compute_dimension, figure_1, figure_2, figure_3
),

unmergeable as (
    -- the few resources the bitmasks cannot merge; a left join to them costs less than joining
    -- every group to a per-resource verdict
    select site, dataset, resource_id, true as sorted_merge
    from grouped
    group by site, dataset, resource_id
    having not (
        max(last_run) < 64
        and bit_count(bit_or(present)) = sum(holds)
        and not coalesce(bool_or(parent_id = ''), false)
    )
)

select g.*, u.sorted_merge is null as by_masks
from grouped as g
left join unmergeable as u
    on u.site = g.site and u.dataset = g.dataset and u.resource_id = g.resource_id
-- as the inner join to every resource did, a sample without site or id merges nowhere
where g.site is not null and g.resource_id is not null
