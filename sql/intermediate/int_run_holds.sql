-- int_run_holds: for each run instant that can hold into the day, how long a sample taken at it
--   holds (the same for every resource of the run), numbered in time order.
-- grain: one row per site × dataset × run instant, day_start - gap < sample_time < day_end.
-- parameters: view `consolidation_params` (day_start, day_end, gap, sampling_interval).
-- feeds: intermediate/int_resource_runs.sql (run numbers), intermediate/int_usage_holds.sql
--   (each sample's hold) and intermediate/int_run_intervals.sql (a stretch's start and end
--   from its first and last run number).
-- rule (docs/metering-rules.md, gap rule): a sample holds from its sample time until the next
--   successful run of the same dataset at the same site, and at most `gap`; a resource missing
--   from a run has ended at that run. Run instants come from the samples and from `runs`; only
--   those in (day_start - gap, day_end) can end a hold inside the day.
-- run_no: 0, 1, 2, … in time order per site × dataset. reaches_next_run: the hold ends exactly
--   at the next run instant, so a sample of the same resource at the next run continues it.
-- fill_start (docs/metering-rules.md, fill policy): where the hold stops being observed. A
--   sample stands for its own sampling interval [t, t + interval); a hold past it crosses a
--   collection instant that has no run, and that part, [fill_start, hold_end), carries the last
--   known state: it is estimated (filled). fill_start = hold_end when nothing is filled.
-- derived datasets: 'vcd_vm_guest_os' (the licence rows of int_samples) is read from the vcd_vm
--   samples, so every vcd_vm run instant is one of its instants too (a licensed VM gone from a
--   run has ended there, as the VM has); 'vcd_edge_gateway_ip' (the allocated IPs of an edge
--   gateway) likewise shares the vcd_edge_gateway run instants.
with params as (
    select day_start, day_end, gap, sampling_interval from consolidation_params
),

collected_times as (
    select site, dataset, sample_time
    from int_samples
    group by site, dataset, sample_time
    union
    select r.site, cast(r.dataset as varchar) as dataset, r.sample_time
    from (select site, sample_time, status, unnest(datasets) as dataset from runs) as r
    cross join params as p
    where r.status in ('ok', 'partial')
        and r.sample_time > p.day_start - p.gap
        and r.sample_time < p.day_end
),

run_times as (
    select site, dataset, sample_time from collected_times
    union
    select site, 'vcd_vm_guest_os' as dataset, sample_time
    from collected_times
    where dataset = 'vcd_vm'
    union
    select site, 'vcd_edge_gateway_ip' as dataset, sample_time
    from collected_times
    where dataset = 'vcd_edge_gateway'
),

next_runs as (
    select
        site, dataset, sample_time,
        row_number() over w - 1 as run_no,
        lead(sample_time) over w as next_time
    from run_times
    window w as (partition by site, dataset order by sample_time)
),

holds as (
    select
        n.site, n.dataset, n.sample_time, n.run_no, n.next_time,
        greatest(n.sample_time, p.day_start) as hold_start,
        least(coalesce(n.next_time, n.sample_time + p.gap), n.sample_time + p.gap, p.day_end)
            as hold_end,
        n.sample_time + p.sampling_interval as observed_end
    from next_runs as n
    cross join params as p
)

select
    site, dataset, sample_time, run_no, hold_start, hold_end,
    coalesce(hold_end = next_time, false) as reaches_next_run,
    greatest(hold_start, least(hold_end, observed_end)) as fill_start
from holds
