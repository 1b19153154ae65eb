-- usage_intervals: the day's metered usage as intervals; written to the lake by consolidate_day.
-- grain: one row per site × resource × product × dimension × interval within one UTC day.
-- parameters: view `consolidation_params` (day_start).
-- feeds: rating (intermediate/int_rating_usage.sql) and the warehouse view `usage_intervals`.
-- quantity of a row = level × hours of the interval (measure 'level'), or level itself
--   (measure 'count': requests counted over the interval).
-- filled: the interval carries a resource's last known state past a missed collection instant
--   (docs/metering-rules.md, fill policy; int_filled_intervals.sql); Cloudian's own series are
--   never filled.
with params as (
    select cast(day_start as date) as usage_date from consolidation_params
),

intervals as (
    select
        site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
        product, dimension, measure, level, interval_start, interval_end, samples, filled
    from int_filled_intervals
    union all
    select
        site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
        product, dimension, measure, level, interval_start, interval_end, samples,
        false as filled
    from int_cloudian_intervals
)

select
    p.usage_date,
    i.site,
    i.dataset,
    i.org_name,
    i.resource_type,
    i.resource_id,
    i.resource_name,
    i.parent_id,
    i.product,
    i.dimension,
    i.measure,
    cast(i.level as decimal(18, 9)) as level,
    cast(i.interval_start as timestamptz) as interval_start,
    cast(i.interval_end as timestamptz) as interval_end,
    cast(i.samples as bigint) as samples,
    i.filled
from intervals as i
cross join params as p
order by i.site, i.product, i.dimension, i.resource_id, i.interval_start
