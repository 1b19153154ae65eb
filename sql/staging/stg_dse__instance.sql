-- stg_dse__instance: DSE data-solution instance samples, renamed and cast for rating.
-- grain: one row per collected record: usually one per site × instance × sample_time.
--   A resource listed twice in one run (paging over a changing set, a retried page, two
--   collector processes) gives two rows here; int_unmerged_holds.sql keeps one of them.
-- parameters: none (reads the engine's view `dse_instance`). CPU is exact integer millicores,
--   already summed over containers × replicas by the collector; operators are kept apart.
-- feeds: intermediate/int_sample_levels.sql.
select
    cast(site as varchar) as site,
    cast(org_name as varchar) as org_name,
    cast(instance_id as varchar) as instance_id,
    cast(instance_name as varchar) as instance_name,
    cast(kind as varchar) as kind,
    cast(service_cpu_millicores as bigint) as service_cpu_millicores,
    cast(sidecar_cpu_millicores as bigint) as sidecar_cpu_millicores,
    cast(sample_time as timestamptz) as sample_time,
    cast(collected_at as timestamptz) as collected_at
from dse_instance
