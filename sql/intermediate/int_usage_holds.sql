-- int_usage_holds: what each resource held during the day, ready to be merged: for a resource
--   int_resource_runs can merge by bitmask, one row per group of identical samples with its
--   run bitmasks (`present`, `linked`); for any other, one row per sample with its hold
--   (`hold_start`, `hold_end`, clipped to the day).
-- grain: one row per site × resource × distinct raw sample (by bitmask), or per site ×
--   resource × sample_time (the others); raw figures as in int_samples.
-- parameters: none (the holds of each run instant come from int_run_holds.sql).
-- feeds: intermediate/int_sample_levels.sql.
-- rule (docs/metering-rules.md, gap rule): see int_run_holds.sql; a sample whose hold is empty
--   (an earlier sample than the last one before the day) holds nothing.
select
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
    powered_on, dimension, figure_1, figure_2, figure_3,
    cast(null as timestamptz) as hold_start, cast(null as timestamptz) as hold_end,
    present, linked
from int_resource_runs
where by_masks
union all
select
    s.site, s.dataset, s.org_name, s.resource_type, s.resource_id, s.resource_name,
    s.parent_id, s.powered_on, s.dimension, s.figure_1, s.figure_2, s.figure_3,
    r.hold_start, r.hold_end,
    cast(null as ubigint) as present, cast(null as ubigint) as linked
from int_samples as s
inner join int_run_holds as r
    on r.site = s.site and r.dataset = s.dataset and r.sample_time = s.sample_time
semi join int_resource_runs as u
    on u.site = s.site and u.dataset = s.dataset and u.resource_id = s.resource_id
    and not u.by_masks
where r.hold_start < r.hold_end
