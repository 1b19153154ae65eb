-- int_unmerged_holds: the samples of the resources int_resource_runs cannot merge by bitmask
--   (duplicate samples, more than 64 runs in a day, a parent_id ''), each with its hold.
-- grain: one row per site × resource × sample_time (usually none at all), duplicates removed.
-- parameters: none (the holds of each run instant come from int_run_holds.sql).
-- feeds: intermediate/int_usage_holds.sql.
-- why stored: every later model then reads tables, and DuckDB does not bind the Parquet scans
--   of the samples again for each view it creates.
-- rule (docs/metering-rules.md, gap rule): see int_run_holds.sql; a sample whose hold is empty
--   (an earlier sample than the last one before the day) holds nothing.
-- rule (docs/metering-rules.md, a resource seen twice in one run): a run bills a resource once.
--   Of its samples at one run instant the one collected last is kept; at the same collected_at,
--   the one with the higher figures (vCPU, memory, disk or cores), powered on before off, then
--   the first org, name, dimension and parent in sort order: a total order, so the choice never
--   depends on file or row order, and identical duplicates give the intervals of one sample.
--   Every resource with such duplicates is here: int_resource_runs merges by bitmask only a
--   resource with one hold per run it is present in.
select
    s.site, s.dataset, s.org_name, s.resource_type, s.resource_id, s.resource_name,
    s.parent_id, s.powered_on, s.dimension, s.compute_dimension, s.figure_1, s.figure_2,
    s.figure_3, r.hold_start, r.hold_end
from int_samples as s
inner join int_run_holds as r
    on r.site = s.site and r.dataset = s.dataset and r.sample_time = s.sample_time
semi join int_resource_runs as u
    on u.site = s.site and u.dataset = s.dataset and u.resource_id = s.resource_id
    and not u.by_masks
where r.hold_start < r.hold_end
qualify row_number() over (
    partition by s.site, s.dataset, s.resource_id, s.sample_time
    order by
        s.collected_at desc nulls last, s.figure_2 desc nulls last, s.figure_3 desc nulls last,
        s.figure_1 desc nulls last, s.powered_on desc nulls last, s.org_name nulls last,
        s.resource_name nulls last, s.dimension nulls last, s.compute_dimension nulls last,
        s.parent_id nulls last,
        s.resource_type nulls last
) = 1
