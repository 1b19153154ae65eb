-- int_samples: the samples that can hold into the day, one row per resource sample, with the
--   raw figures their product levels come from (int_sample_levels.sql computes the levels).
-- grain: one row per collected sample, day_start - gap < sample_time < day_end: usually one per
--   site × resource × sample_time; a resource listed twice in a run has two (int_resource_runs
--   sends it to the sorted merge, whose int_unmerged_holds keeps one per run).
-- parameters: view `consolidation_params` (day_start, day_end, gap, include_sidecars).
-- feeds: intermediate/int_run_holds.sql (run instants), intermediate/int_resource_runs.sql and
--   intermediate/int_usage_holds.sql.
-- why raw figures: identical samples are grouped before their levels are computed (the
--   exact decimal arithmetic then runs once per group, not once per sample).
-- why only these samples: a sample holds at most `gap`, so an earlier one cannot reach the day;
--   a sample at or after day_end could only end a hold at or after day_end, where the day cuts
--   it anyway.
-- figures: VM storage_mb, vcpu, memory_mb and power state; DSE service CPU limits (+ sidecars
--   if set) in millicores; none for clusters and apps. TKG node VMs are ordinary VMs here
--   (parent_id links them to their cluster). collected_at only picks among a run's duplicate
--   samples (int_unmerged_holds); the bitmask merge does not read it.
-- Org VDC charge basis (docs/metering-rules.md, "Org VDC charge basis"): a VM's
--   compute_dimension is the allocation model of its VDC's sample at the same run when that
--   VDC is billed on allocation (Allocation Pool, Reservation Pool, Flex with a CPU or memory
--   allocation), else '' (Pay-As-You-Go, an elastic Flex without allocation, or no VDC sample
--   at that run); such a VDC is also a resource of its own (dataset vcd_org_vdc, dimension =
--   its model, figure_1 = CPU allocation MHz, figure_2 = memory allocation MB). The rate card
--   then bills the VMs' compute or the VDC's allocation (metering.rating.policy).
-- guest-OS licences (docs/metering-rules.md, "Guest-OS licences"): a VM whose guest OS is of a
--   licence family is also a resource of its own, dataset 'vcd_vm_guest_os' (it shares the
--   vcd_vm runs, int_run_holds), dimension = the family, parent_id = the VM, figure_2 = its
--   vCPUs. The family is recognised from VCD's guestOs (the vSphere guest full name) by its
--   start, case-insensitively: 'Microsoft Windows Server' = windows-server, 'Red Hat
--   Enterprise Linux' = rhel, 'SUSE Linux Enterprise' = sles; any other guest OS has none.
-- independent disks (docs/metering-rules.md, "Independent disks"): one resource per disk,
--   dataset 'vcd_disk', dimension = its storage policy, figure_1 = its size in MiB; billed
--   every hour it is listed, attached or not, like a VM's disk.
-- VM snapshots (docs/metering-rules.md, "VM snapshots"): one resource per VM that has any,
--   dataset 'vcd_vm_snapshot' (its own runs), resource_id = parent_id = the VM, dimension = the
--   VM's storage policy, figure_1 = the bytes its snapshots hold.
-- catalog storage (docs/metering-rules.md, "Catalog storage"): a catalog media item is a
--   resource of its own (dataset vcd_media), dimension = its storage policy, figure_1 = its
--   stored bytes, charged to the org that owns it (the record's org). A VM inside a vApp
--   template likewise (dataset vcd_vapp_template, parent_id = the template), figure_1 = its
--   allocated MB, charged to the org owning the template.
-- edge gateways and public IPs (docs/metering-rules.md, "Edge gateways and public IPs"): a
--   listed edge gateway is a resource (dataset vcd_edge_gateway, dimension ''), whatever its
--   status; the external IPs allocated to it are a resource of their own, dataset
--   'vcd_edge_gateway_ip' (it shares the vcd_edge_gateway runs, int_run_holds), parent_id = the
--   gateway, figure_1 = the allocated IP count, only while that count is above 0. The
--   gateway's own row carries no figure, so a change of its IPs does not cut its interval.
with params as (
    select day_start, day_end, gap, include_sidecars from consolidation_params
),

vdc_samples as (
    -- every Org VDC sample with the model its compute is billed under (null: on usage only)
    select
        d.*,
        case
            when d.allocation_model in ('AllocationPool', 'ReservationPool')
                then d.allocation_model
            when d.allocation_model = 'Flex'
                and (coalesce(d.cpu_allocation_mhz, 0) > 0
                    or coalesce(d.memory_allocation_mb, 0) > 0)
                then 'Flex'
        end as billing_model
    from stg_vcd__org_vdc as d
    cross join params as p
    where d.sample_time > p.day_start - p.gap and d.sample_time < p.day_end
),

vdcs as (
    -- one per VDC and run (a VDC listed twice in a run: the sample collected last)
    select site, sample_time, vdc_id, billing_model
    from vdc_samples
    qualify row_number() over (
        partition by site, sample_time, vdc_id
        order by collected_at desc nulls last, billing_model nulls last
    ) = 1
),

vm as (
    select
        v.site, 'vcd_vm' as dataset, v.org_name, 'vm' as resource_type, v.vm_id as resource_id,
        v.vm_name as resource_name,
        case when v.is_tkg_node then v.tkg_cluster_id end as parent_id,
        v.sample_time, v.powered_on, v.storage_policy as dimension,
        coalesce(d.billing_model, '') as compute_dimension,
        v.storage_mb as figure_1, v.vcpu as figure_2, v.memory_mb as figure_3, v.collected_at
    from stg_vcd__vm as v
    cross join params as p
    left join vdcs as d
        on d.site = v.site and d.sample_time = v.sample_time and d.vdc_id = v.vdc_id
    where v.sample_time > p.day_start - p.gap and v.sample_time < p.day_end
),

vdc_rows as (
    select
        d.site, 'vcd_org_vdc' as dataset, d.org_name, 'org_vdc' as resource_type,
        d.vdc_id as resource_id, d.vdc_name as resource_name,
        cast(null as varchar) as parent_id, d.sample_time,
        cast(null as boolean) as powered_on, d.billing_model as dimension,
        '' as compute_dimension,
        coalesce(d.cpu_allocation_mhz, 0) as figure_1,
        coalesce(d.memory_allocation_mb, 0) as figure_2,
        cast(null as bigint) as figure_3, d.collected_at
    from vdc_samples as d
    where d.billing_model is not null
),

licences as (
    select
        v.site, 'vcd_vm_guest_os' as dataset, v.org_name, 'vm_guest_os' as resource_type,
        v.vm_id as resource_id, v.vm_name as resource_name, v.vm_id as parent_id,
        v.sample_time, v.powered_on,
        case
            when lower(v.guest_os) like 'microsoft windows server%' then 'windows-server'
            when lower(v.guest_os) like 'red hat enterprise linux%' then 'rhel'
            when lower(v.guest_os) like 'suse linux enterprise%' then 'sles'
        end as dimension,
        '' as compute_dimension,
        cast(null as bigint) as figure_1, v.vcpu as figure_2, cast(null as bigint) as figure_3,
        v.collected_at
    from stg_vcd__vm as v
    cross join params as p
    where v.sample_time > p.day_start - p.gap and v.sample_time < p.day_end
        and (
            lower(v.guest_os) like 'microsoft windows server%'
            or lower(v.guest_os) like 'red hat enterprise linux%'
            or lower(v.guest_os) like 'suse linux enterprise%'
        )
),

disks as (
    select
        d.site, 'vcd_disk' as dataset, d.org_name, 'independent_disk' as resource_type,
        d.disk_id as resource_id, d.disk_name as resource_name,
        cast(null as varchar) as parent_id, d.sample_time,
        cast(null as boolean) as powered_on, d.storage_policy as dimension,
        '' as compute_dimension,
        d.size_mb as figure_1, cast(null as bigint) as figure_2,
        cast(null as bigint) as figure_3, d.collected_at
    from stg_vcd__disk as d
    cross join params as p
    where d.sample_time > p.day_start - p.gap and d.sample_time < p.day_end
),

snapshots as (
    select
        s.site, 'vcd_vm_snapshot' as dataset, s.org_name, 'vm_snapshot' as resource_type,
        s.vm_id as resource_id, s.vm_name as resource_name, s.vm_id as parent_id,
        s.sample_time, cast(null as boolean) as powered_on, s.storage_policy as dimension,
        '' as compute_dimension,
        s.size_bytes as figure_1, cast(null as bigint) as figure_2,
        cast(null as bigint) as figure_3, s.collected_at
    from stg_vcd__vm_snapshot as s
    cross join params as p
    where s.sample_time > p.day_start - p.gap and s.sample_time < p.day_end
),

media as (
    select
        m.site, 'vcd_media' as dataset, m.org_name, 'catalog_media' as resource_type,
        m.media_id as resource_id, m.media_name as resource_name,
        cast(null as varchar) as parent_id, m.sample_time,
        cast(null as boolean) as powered_on, m.storage_policy as dimension,
        '' as compute_dimension,
        m.size_bytes as figure_1, cast(null as bigint) as figure_2,
        cast(null as bigint) as figure_3, m.collected_at
    from stg_vcd__media as m
    cross join params as p
    where m.sample_time > p.day_start - p.gap and m.sample_time < p.day_end
),

edges as (
    select
        e.site, 'vcd_edge_gateway' as dataset, e.org_name, 'edge_gateway' as resource_type,
        e.edge_gateway_id as resource_id, e.edge_gateway_name as resource_name,
        cast(null as varchar) as parent_id, e.sample_time,
        cast(null as boolean) as powered_on, '' as dimension, '' as compute_dimension,
        cast(null as bigint) as figure_1, cast(null as bigint) as figure_2,
        cast(null as bigint) as figure_3, e.collected_at
    from stg_vcd__edge_gateway as e
    cross join params as p
    where e.sample_time > p.day_start - p.gap and e.sample_time < p.day_end
),

edge_ips as (
    select
        e.site, 'vcd_edge_gateway_ip' as dataset, e.org_name, 'public_ip' as resource_type,
        e.edge_gateway_id as resource_id, e.edge_gateway_name as resource_name,
        e.edge_gateway_id as parent_id, e.sample_time,
        cast(null as boolean) as powered_on, '' as dimension, '' as compute_dimension,
        e.allocated_ip_count as figure_1, cast(null as bigint) as figure_2,
        cast(null as bigint) as figure_3, e.collected_at
    from stg_vcd__edge_gateway as e
    cross join params as p
    where e.sample_time > p.day_start - p.gap and e.sample_time < p.day_end
        and e.allocated_ip_count > 0
),

template_vms as (
    select
        t.site, 'vcd_vapp_template' as dataset, t.org_name, 'vapp_template_vm' as resource_type,
        t.vm_id as resource_id, t.vm_name as resource_name, t.template_id as parent_id,
        t.sample_time, cast(null as boolean) as powered_on, t.storage_policy as dimension,
        '' as compute_dimension,
        t.storage_mb as figure_1, cast(null as bigint) as figure_2,
        cast(null as bigint) as figure_3, t.collected_at
    from stg_vcd__vapp_template as t
    cross join params as p
    where t.sample_time > p.day_start - p.gap and t.sample_time < p.day_end
),

clusters as (
    select
        c.site, 'cse_cluster' as dataset, c.org_name, 'tkg_cluster' as resource_type,
        c.cluster_id as resource_id, c.cluster_name as resource_name,
        cast(null as varchar) as parent_id, c.sample_time,
        cast(null as boolean) as powered_on, '' as dimension, '' as compute_dimension,
        cast(null as bigint) as figure_1, cast(null as bigint) as figure_2,
        cast(null as bigint) as figure_3, c.collected_at
    from stg_cse__cluster as c
    cross join params as p
    where c.sample_time > p.day_start - p.gap and c.sample_time < p.day_end
),

apps as (
    select
        a.site, 'alp_app' as dataset, a.org_name, 'alp_instance' as resource_type,
        a.instance_id as resource_id, a.instance_name as resource_name,
        cast(null as varchar) as parent_id, a.sample_time,
        cast(null as boolean) as powered_on, a.app_id as dimension, '' as compute_dimension,
        cast(null as bigint) as figure_1, cast(null as bigint) as figure_2,
        cast(null as bigint) as figure_3, a.collected_at
    from stg_alp__app as a
    cross join params as p
    where a.sample_time > p.day_start - p.gap and a.sample_time < p.day_end
),

dse as (
    select
        d.site, 'dse_instance' as dataset, d.org_name, 'dse_instance' as resource_type,
        d.instance_id as resource_id, d.instance_name as resource_name,
        cast(null as varchar) as parent_id, d.sample_time,
        cast(null as boolean) as powered_on, d.kind as dimension, '' as compute_dimension,
        d.service_cpu_millicores
        + case when p.include_sidecars then d.sidecar_cpu_millicores else 0 end as figure_1,
        cast(null as bigint) as figure_2, cast(null as bigint) as figure_3, d.collected_at
    from stg_dse__instance as d
    cross join params as p
    where d.sample_time > p.day_start - p.gap and d.sample_time < p.day_end
)

select * from vm
union all
select * from vdc_rows
union all
select * from licences
union all
select * from disks
union all
select * from snapshots
union all
select * from media
union all
select * from edges
union all
select * from edge_ips
union all
select * from template_vms
union all
select * from clusters
union all
select * from apps
union all
select * from dse
