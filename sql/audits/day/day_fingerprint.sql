-- day_fingerprint: a checksum of a consolidated day's rows, recorded in its file's footer
--   beside the digest (metering.rating.day_digest) when the day is written.
-- grain: one row.
-- reads: `day_intervals` (the day's usage_intervals, as consolidation is about to write them).
-- feeds: metering.rating.day_lineage: a day's rated lineage is reused only while the day file
--   it was computed from has the same fingerprint (a day consolidated again with other rows
--   has another one; with the same rows, the same one).
-- rules: the exact sum of DuckDB's 64-bit hash of every row (all columns), so the order of
--   the rows does not count and a repeated row does. Not a security checksum: the month's
--   conservation audit still compares the reused lineage with the intervals.
select
    cast(count(*) as varchar) || ':' || cast(coalesce(sum(hash(d)), 0) as varchar)
        as fingerprint
from day_intervals as d
