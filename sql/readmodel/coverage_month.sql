-- coverage_month: a month's collection coverage per site and source, from the coverage
-- dataset (instants due and collected, the days below the close's threshold, the worst day)
-- beside the collectors' run log (runs that succeeded, were partial or failed, quarantined
-- rows, the last good sample). Either side may be missing for a pair: coverage is computed
-- by the close's gate and `metering coverage`; runs exist only where a collector ran.
-- grain: one row per site and source.
-- parameters: $start, $end (the month, timestamps); $threshold (the gate's coverage
-- threshold, a fraction).
-- reads: coverage, runs. feeds: metering.readmodel (provider coverage page, API /coverage).
with days as (
    select
        site,
        source,
        cast(hour as date) as day,
        sum(expected)::bigint as expected,
        sum(collected)::bigint as collected
    from coverage
    where hour >= $start and hour < $end
    group by site, source, cast(hour as date)
),
day_ratio as (
    -- exact: a day is short when collected < threshold * expected (no division); the ratio
    -- shown is truncated to 4 decimals (integer division), so it never reads 100 % too early
    select
        *,
        collected < $threshold * expected as short,
        case
            when expected = 0 then 1::decimal(9, 4)
            else ((collected * 10000 // expected)::decimal(18, 4) * 0.0001)::decimal(9, 4)
        end as ratio
    from days
),
cov as (
    select
        site,
        source,
        count(*) as days,
        sum(expected)::bigint as expected,
        sum(collected)::bigint as collected,
        count(*) filter (where short) as days_short,
        min(ratio) as worst_day_ratio,
        first(day order by ratio, day) as worst_day
    from day_ratio
    group by site, source
),
run_log as (
    select
        site,
        source,
        count(*) as runs,
        count(*) filter (where status = 'ok') as ok,
        count(*) filter (where status = 'partial') as partial,
        count(*) filter (where status = 'failed') as failed,
        sum(quarantined) as quarantined,
        max(sample_time) filter (where status <> 'failed') as last_good_sample
    from runs
    where sample_time >= $start and sample_time < $end
    group by site, source
)
select
    coalesce(cov.site, run_log.site) as site,
    coalesce(cov.source, run_log.source) as source,
    cov.days,
    cov.expected,
    cov.collected,
    case
        when cov.expected is null then null
        when cov.expected = 0 then 1::decimal(9, 4)
        else ((cov.collected * 10000 // cov.expected)::decimal(18, 4) * 0.0001)::decimal(9, 4)
    end as ratio,
    cov.days_short,
    cov.worst_day,
    cov.worst_day_ratio,
    coalesce(run_log.runs, 0) as runs,
    coalesce(run_log.ok, 0) as ok,
    coalesce(run_log.partial, 0) as partial,
    coalesce(run_log.failed, 0) as failed,
    coalesce(run_log.quarantined, 0)::bigint as quarantined,
    run_log.last_good_sample
from cov
full outer join run_log on cov.site = run_log.site and cov.source = run_log.source
order by site, source
