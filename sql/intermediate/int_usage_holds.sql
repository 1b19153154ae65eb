-- int_usage_holds: what each resource held during the day, ready to be merged: for a resource
--   int_resource_runs can merge by bitmask, one row per group of identical samples with its
--   run bitmasks (`present`, `linked`) and last run number; for any other, one row per sample with its hold
--   (`hold_start`, `hold_end`, clipped to the day).
-- grain: one row per site × resource × distinct raw sample (by bitmask), or per site ×
--   resource × sample_time (the others); raw figures as in int_samples.
-- parameters: none.
-- feeds: intermediate/int_sample_levels.sql.
select
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
    powered_on, dimension, compute_dimension, figure_1, figure_2, figure_3,
    cast(null as timestamptz) as hold_start, cast(null as timestamptz) as hold_end,
    present, linked, last_run
from int_resource_runs
where by_masks
union all
select
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
    powered_on, dimension, compute_dimension, figure_1, figure_2, figure_3, hold_start,
    hold_end,
    cast(null as ubigint) as present, cast(null as ubigint) as linked,
    cast(null as bigint) as last_run
from int_unmerged_holds
