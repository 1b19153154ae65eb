-- failed_runs: the collection runs of a month that failed or quarantined records.
-- grain: one row per run. parameters: $start, $end. reads: runs. feeds: metering.readmodel.
select
    site,
    source,
    sample_time,
    status,
    errors,
    quarantined,
    coalesce(error, '') as error,
    run_id
from runs
where sample_time >= $start and sample_time < $end and status <> 'ok'
order by sample_time desc, site, source
limit 500
