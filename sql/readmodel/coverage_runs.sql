-- coverage_runs: collection runs of a month per site and source: how many succeeded, were
-- partial or failed, and the last good sample (provider coverage page, API /coverage).
-- grain: one row per site and source. parameters: $start, $end (the month, timestamps).
-- reads: runs (the collectors' run log). feeds: metering.readmodel.
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
order by site, source
