-- int_unmerged_holds: the samples of the resources int_resource_runs cannot merge by bitmask
--   (duplicate samples, more than 64 runs in a day, a parent_id ''), each with its hold.
-- grain: one row per site × resource × sample_time (usually none at all).
-- parameters: none (the holds of each run instant come from int_run_holds.sql).
-- feeds: intermediate/int_usage_holds.sql.
-- why stored: every later model then reads tables, and DuckDB does not bind the Parquet scans
--   of the samples again for each view it creates.
-- rule (docs/metering-rules.md, gap rule): see int_run_holds.sql; a sample whose hold is empty
--   (an earlier sample than the last one before the day) holds nothing.
select
    s.site, s.dataset, s.org_name, s.resource_type, s.resource_id, s.resource_name,
    s.parent_id, s.powered_on, s.dimension, s.figure_1, s.figure_2, s.figure_3,
    r.hold_start, r.hold_end
from int_samples as s
inner join int_run_holds as r
    on r.site = s.site and r.dataset = s.dataset and r.sample_time = s.sample_time
semi join int_resource_runs as u
    on u.site = s.site and u.dataset = s.dataset and u.resource_id = s.resource_id
    and not u.by_masks
where r.hold_start < r.hold_end
