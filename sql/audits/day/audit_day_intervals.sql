-- audit_day_intervals: a consolidated day's intervals that count some usage twice or fall
--   outside the day, checked when the day is made, before its file is written.
-- grain: one bad row per offending interval of the day.
-- parameters: view `day_window` (day_start, day_end).
-- reads: `day_intervals` (the day's usage_intervals, as consolidation is about to write them).
-- feeds: metering.rating.day_digest.check_day (any row refuses the day: nothing is written).
-- invariant: within a day no two intervals of one resource, product, dimension and measure
--   overlap (a level held twice, or requests counted twice for one span, would be billed
--   twice), and every interval lies inside its day with that day as its usage_date. With
--   that, no two intervals of a month overlap, as long as each day's intervals are rated
--   as they were written and once: the month's audit (audits/audit_no_double_counting.sql)
--   checks that against the digest each day file records (day_digest.sql), instead of
--   sorting the month's tens of millions of intervals again.
with ordered as (
    select
        site, resource_id, product, dimension, interval_start,
        lag(interval_end) over (
            partition by resource_id, product, dimension, measure
            order by interval_start, interval_end
        ) as previous_end
    from day_intervals
)

select 'overlap' as problem, site, resource_id, product, dimension, interval_start
from ordered
where previous_end > interval_start
union all
select 'outside the day' as problem, u.site, u.resource_id, u.product, u.dimension,
    u.interval_start
from day_intervals as u
cross join day_window as p
where u.interval_start < p.day_start
    or u.interval_end > p.day_end
    or u.interval_end <= u.interval_start
    or u.usage_date <> cast(p.day_start as date)
order by problem, site, resource_id, product, dimension, interval_start
