-- stg_cse__cluster: TKG cluster (CSE RDE) samples, renamed and cast for rating.
-- grain: one row per collected record: usually one per site × cluster × sample_time.
--   A resource listed twice in one run (paging over a changing set, a retried page, two
--   collector processes) gives two rows here; int_unmerged_holds.sql keeps one of them.
-- parameters: none (reads the engine's view `cse_cluster`).
-- feeds: intermediate/int_sample_levels.sql (the cluster fee; node VMs come from stg_vcd__vm).
select
    cast(site as varchar) as site,
    cast(org_name as varchar) as org_name,
    cast(cluster_id as varchar) as cluster_id,
    cast(cluster_name as varchar) as cluster_name,
    cast(entity_state as varchar) as entity_state,
    cast(sample_time as timestamptz) as sample_time,
    cast(collected_at as timestamptz) as collected_at
from cse_cluster
