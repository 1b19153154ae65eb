-- stg_cse__cluster: TKG cluster (CSE RDE) samples, renamed and cast for rating.
-- grain: one row per site × cluster × sample_time.
-- parameters: none (reads the engine's view `cse_cluster`).
-- feeds: intermediate/int_sample_levels.sql (the cluster fee; node VMs come from stg_vcd__vm).
select
    cast(site as varchar) as site,
    cast(org_name as varchar) as org_name,
    cast(cluster_id as varchar) as cluster_id,
    cast(cluster_name as varchar) as cluster_name,
    cast(entity_state as varchar) as entity_state,
    cast(sample_time as timestamptz) as sample_time
from cse_cluster
