-- int_sample_levels: the samples that can hold into the day, one row per resource sample, with
--   the levels of its products side by side (up to three product slots).
-- grain: one row per site × resource × sample_time, day_start - gap < sample_time < day_end.
-- parameters: view `consolidation_params` (day_start, day_end, gap, cores_per_vcpu,
--   include_sidecars).
-- feeds: intermediate/int_usage_holds.sql.
-- why wide: a VM sample gives three product rows (vcpu, ram, vm_disk); its hold and the merging
--   of unchanged samples are computed once per sample, and the merged stretches are split into
--   products afterwards (int_resource_intervals.sql), on a few rows per resource and day.
-- why only these samples: a sample holds at most `gap`, so an earlier one cannot reach the day;
--   a sample at or after day_end could only end a hold at or after day_end, where the day cuts
--   it anyway.
-- rules (docs/metering-rules.md): compute (vcpu, ram) only while POWERED_ON, disk always;
--   GiB/GB = MiB ÷ 1024, computed as exact nano-units with integer arithmetic; TKG node VMs
--   are ordinary VMs here (parent_id links them to their cluster) and the cluster row is the
--   management fee only; DSE cores = Σ service CPU limits (+ sidecars if set) × cores/vCPU.
with params as (
    select day_start, day_end, gap, cores_per_vcpu, include_sidecars from consolidation_params
),

vm as (
    select
        v.site, v.org_name, v.vm_id, v.vm_name, v.is_tkg_node, v.tkg_cluster_id, v.powered_on,
        v.vcpu, v.memory_mb, v.storage_mb, v.storage_policy, v.sample_time
    from stg_vcd__vm as v
    cross join params as p
    where v.sample_time > p.day_start - p.gap and v.sample_time < p.day_end
),

vm_levels as (
    select
        site, 'vcd_vm' as dataset, org_name, 'vm' as resource_type, vm_id as resource_id,
        vm_name as resource_name,
        case when is_tkg_node then tkg_cluster_id end as parent_id,
        sample_time,
        'vm_disk' as product_1,
        storage_policy as dimension_1,
        cast(cast((storage_mb * 1953125) // 2 as decimal(18, 0)) * 0.000000001 as decimal(18, 9))
            as level_1,
        case when powered_on then 'vcpu' end as product_2,
        case when powered_on then '' end as dimension_2,
        case when powered_on then cast(vcpu as decimal(18, 9)) end as level_2,
        case when powered_on then 'ram' end as product_3,
        case when powered_on then '' end as dimension_3,
        case
            when powered_on then cast(
                cast((memory_mb * 1953125) // 2 as decimal(18, 0)) * 0.000000001
                as decimal(18, 9))
        end as level_3
    from vm
),

cluster_levels as (
    select
        c.site, 'cse_cluster' as dataset, c.org_name, 'tkg_cluster' as resource_type,
        c.cluster_id as resource_id, c.cluster_name as resource_name,
        cast(null as varchar) as parent_id, c.sample_time,
        'tkg_cluster' as product_1, '' as dimension_1, cast(1 as decimal(18, 9)) as level_1,
        cast(null as varchar) as product_2, cast(null as varchar) as dimension_2,
        cast(null as decimal(18, 9)) as level_2,
        cast(null as varchar) as product_3, cast(null as varchar) as dimension_3,
        cast(null as decimal(18, 9)) as level_3
    from stg_cse__cluster as c
    cross join params as p
    where c.sample_time > p.day_start - p.gap and c.sample_time < p.day_end
),

alp_levels as (
    select
        a.site, 'alp_app' as dataset, a.org_name, 'alp_instance' as resource_type,
        a.instance_id as resource_id, a.instance_name as resource_name,
        cast(null as varchar) as parent_id, a.sample_time,
        'alp_instance' as product_1, a.app_id as dimension_1,
        cast(1 as decimal(18, 9)) as level_1,
        cast(null as varchar) as product_2, cast(null as varchar) as dimension_2,
        cast(null as decimal(18, 9)) as level_2,
        cast(null as varchar) as product_3, cast(null as varchar) as dimension_3,
        cast(null as decimal(18, 9)) as level_3
    from stg_alp__app as a
    cross join params as p
    where a.sample_time > p.day_start - p.gap and a.sample_time < p.day_end
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
    where d.sample_time > p.day_start - p.gap and d.sample_time < p.day_end
),

dse_levels as (
    select
        site, 'dse_instance' as dataset, org_name, 'dse_instance' as resource_type,
        instance_id as resource_id, instance_name as resource_name,
        cast(null as varchar) as parent_id, sample_time,
        'dse_core' as product_1, kind as dimension_1,
        cast(vcpu * cores_per_vcpu as decimal(18, 9)) as level_1,
        cast(null as varchar) as product_2, cast(null as varchar) as dimension_2,
        cast(null as decimal(18, 9)) as level_2,
        cast(null as varchar) as product_3, cast(null as varchar) as dimension_3,
        cast(null as decimal(18, 9)) as level_3
    from dse_vcpu
)

select * from vm_levels
union all
select * from cluster_levels
union all
select * from alp_levels
union all
select * from dse_levels
