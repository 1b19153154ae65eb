-- day_digest: what a consolidated day file holds, summed: recorded in the file's footer
--   (metering.rating.provenance) when the day is written.
-- grain: one row per usage_date (a consolidated day has one, or none when empty).
-- reads: `day_intervals` (the day's usage_intervals, as consolidation is about to write them).
-- feeds: metering.rating.day_digest; audits/audit_no_double_counting.sql sums the month's
--   intervals per usage_date the same way and compares: a day rated twice (a copy of its rows
--   in another file), in part, or changed after it was checked does not add up to its digest.
-- rules: whole seconds since 1970 (epoch_us // 10^6, as the rating's hour arithmetic); a
--   day's sums stay far inside a BIGINT (10^15 per million intervals).
select
    usage_date,
    cast(count(*) as bigint) as intervals,
    cast(sum(epoch_us(interval_start) // 1000000) as bigint) as start_seconds,
    cast(sum(epoch_us(interval_end) // 1000000) as bigint) as end_seconds,
    cast(sum(level) as decimal(38, 9)) as level_sum
from day_intervals
group by usage_date
order by usage_date
