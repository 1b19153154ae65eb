-- int_usage_holds: how long each sample holds, clipped to the day being consolidated.
-- grain: one row per site × resource × sample_time (within the day), product levels side by
--   side as in int_sample_levels.
-- parameters: none (the holds of each run instant come from int_run_holds.sql).
-- feeds: intermediate/int_resource_intervals.sql.
-- rule (docs/metering-rules.md, gap rule): see int_run_holds.sql; a sample whose hold is empty
--   (an earlier sample than the last one before the day) holds nothing.
select
    l.site, l.dataset, l.org_name, l.resource_type, l.resource_id, l.resource_name,
    l.parent_id, l.sample_time,
    l.product_1, l.dimension_1, l.level_1,
    l.product_2, l.dimension_2, l.level_2,
    l.product_3, l.dimension_3, l.level_3,
    r.hold_start, r.hold_end, r.run_no, r.reaches_next_run
from int_sample_levels as l
inner join int_run_holds as r
    on r.site = l.site and r.dataset = l.dataset and r.sample_time = l.sample_time
where r.hold_start < r.hold_end
