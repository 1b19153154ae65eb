-- int_sample_levels: what each sampled resource uses per hour, as product rows.
-- grain: one row per site × resource × product × dimension × sample_time.
-- parameters: view `consolidation_params` (cores_per_vcpu, include_sidecars).
-- feeds: intermediate/int_usage_holds.sql.
-- rules (docs/metering-rules.md): compute (vcpu, ram) only while POWERED_ON, disk always;
--   GiB/GB = MiB ÷ 1024, computed as exact nano-units with integer arithmetic; TKG node VMs
--   are ordinary VMs here (parent_id links them to their cluster) and the cluster row is the
--   management fee only; DSE cores = Σ service CPU limits (+ sidecars if set) × cores/vCPU.
with params as (
    select cores_per_vcpu, include_sidecars from consolidation_params
),

vm as (
    select
        site, org_name, vm_id as resource_id, vm_name as resource_name,
        case when is_tkg_node then tkg_cluster_id end as parent_id,
        powered_on, vcpu, storage_policy, sample_time,
        cast(cast((memory_mb * 1953125) // 2 as decimal(18, 0)) * 0.000000001 as decimal(18, 9))
            as memory_gib,
        cast(cast((storage_mb * 1953125) // 2 as decimal(18, 0)) * 0.000000001 as decimal(18, 9))
            as storage_gb
    from stg_vcd__vm
),

vm_levels as (
    select site, 'vcd_vm' as dataset, org_name, 'vm' as resource_type, resource_id,
        resource_name, parent_id, 'vcpu' as product, '' as dimension,
        cast(vcpu as decimal(18, 9)) as level, sample_time
    from vm
    where powered_on
    union all
    select site, 'vcd_vm' as dataset, org_name, 'vm' as resource_type, resource_id,
        resource_name, parent_id, 'ram' as product, '' as dimension,
        memory_gib as level, sample_time
    from vm
    where powered_on
    union all
    select site, 'vcd_vm' as dataset, org_name, 'vm' as resource_type, resource_id,
        resource_name, parent_id, 'vm_disk' as product, storage_policy as dimension,
        storage_gb as level, sample_time
    from vm
),

cluster_levels as (
    select site, 'cse_cluster' as dataset, org_name, 'tkg_cluster' as resource_type,
        cluster_id as resource_id, cluster_name as resource_name, cast(null as varchar) as parent_id,
        'tkg_cluster' as product, '' as dimension, cast(1 as decimal(18, 9)) as level, sample_time
    from stg_cse__cluster
),

alp_levels as (
    select site, 'alp_app' as dataset, org_name, 'alp_instance' as resource_type,
        instance_id as resource_id, instance_name as resource_name,
        cast(null as varchar) as parent_id, 'alp_instance' as product, app_id as dimension,
        cast(1 as decimal(18, 9)) as level, sample_time
    from stg_alp__app
),

dse_vcpu as (
    select
        d.site, d.org_name, d.instance_id, d.instance_name, d.kind, d.sample_time,
        cast(
            cast(d.service_cpu_millicores
                + case when p.include_sidecars then d.sidecar_cpu_millicores else 0 end
                as decimal(18, 0)) * 0.001
            as decimal(19, 3)) as vcpu,
        p.cores_per_vcpu
    from stg_dse__instance as d
    cross join params as p
),

dse_levels as (
    select site, 'dse_instance' as dataset, org_name, 'dse_instance' as resource_type,
        instance_id as resource_id, instance_name as resource_name,
        cast(null as varchar) as parent_id, 'dse_core' as product, kind as dimension,
        cast(vcpu * cores_per_vcpu as decimal(18, 9)) as level, sample_time
    from dse_vcpu
)

select * from vm_levels
union all
select * from cluster_levels
union all
select * from alp_levels
union all
select * from dse_levels
