-- int_sample_levels: the product levels of what each resource held (int_usage_holds), up to
--   three product slots side by side.
-- grain: as int_usage_holds (a group of identical samples with its run bitmasks, or one sample
--   with its hold).
-- parameters: view `consolidation_params` (cores_per_vcpu).
-- feeds: intermediate/int_run_intervals.sql (rows with bitmasks) and
--   intermediate/int_resource_intervals.sql (rows with a hold).
-- why wide: a VM sample gives three product rows (vcpu, ram, vm_disk); the merging of unchanged
--   samples is computed once per sample (or group), and the merged stretches are split into
--   products afterwards, on a few rows per resource and day.
-- rules (docs/metering-rules.md): compute (vcpu, ram) only while POWERED_ON, disk always;
--   an independent disk: its provisioned GB (independent_disk) per storage policy, always;
--   a VM's snapshots: the GB they hold (vm_snapshot; bytes ÷ 2^30, exact nano-GB as Cloudian's
--   bytes) per the VM's storage policy, while listed;
--   vcpu and ram under the VM's compute_dimension (its VDC's model when billed on allocation);
--   an Org VDC billed on allocation: vdc_cpu GHz (MHz ÷ 1000) and vdc_ram GiB (MB ÷ 1024);
--   a licensed guest OS: one VM (os_licence_vm) always, its vCPUs (os_licence) while POWERED_ON;
--   catalog media: stored GB = bytes ÷ 2^30, floored to the nano-GB (exact for whole 2 MiB);
--   an edge gateway: one gateway (edge_gateway and edge_gateway_month, the same gateway-hours,
--   the rate card prices one); its allocated IPs: public_ip and public_ip_month (IP-hours);
--   a vApp template's VM: allocated GB = MiB ÷ 1024, as a VM's disk;
--   GiB/GB = MiB ÷ 1024, computed as exact nano-units with integer arithmetic; the cluster row
--   is the management fee only (its node VMs are VMs); an app instance is one unit of its app;
--   DSE cores = Σ service CPU limits (+ sidecars if set, int_samples) × cores/vCPU.
with params as (
    select cores_per_vcpu from consolidation_params
)

select
    h.site, h.dataset, h.org_name, h.resource_type, h.resource_id, h.resource_name,
    h.parent_id, h.hold_start, h.hold_end, h.present, h.linked, h.last_run,
    case h.dataset
        when 'vcd_vm' then 'vm_disk'
        when 'vcd_disk' then 'independent_disk'
        when 'vcd_vm_snapshot' then 'vm_snapshot'
        when 'vcd_vm_guest_os' then 'os_licence_vm'
        when 'vcd_org_vdc' then 'vdc_cpu'
        when 'vcd_media' then 'catalog_media'
        when 'vcd_edge_gateway' then 'edge_gateway'
        when 'vcd_edge_gateway_ip' then 'public_ip'
        when 'vcd_vapp_template' then 'vapp_template'
        when 'cse_cluster' then 'tkg_cluster'
        when 'alp_app' then 'alp_instance'
        when 'dse_instance' then 'dse_core'
    end as product_1,
    h.dimension as dimension_1,
    case
        when h.dataset in ('vcd_vm', 'vcd_disk', 'vcd_vapp_template') then cast(
            cast((h.figure_1 * 1953125) // 2 as decimal(18, 0)) * 0.000000001
            as decimal(18, 9))
        when h.dataset = 'vcd_vm_snapshot' then cast(
            cast((h.figure_1 // 2097152) * 1953125
                + ((h.figure_1 % 2097152) * 1953125) // 2097152 as decimal(18, 0))
            * 0.000000001 as decimal(18, 9))
        when h.dataset = 'dse_instance' then cast(
            cast(cast(h.figure_1 as decimal(18, 0)) * 0.001 as decimal(19, 3))
            * p.cores_per_vcpu
            as decimal(18, 9))
        when h.dataset = 'vcd_org_vdc'
            then cast(cast(h.figure_1 as decimal(18, 0)) * 0.001 as decimal(18, 9))
        when h.dataset = 'vcd_media' then cast(
            cast((cast(h.figure_1 as hugeint) * 1953125) // 2097152 as decimal(18, 0))
            * 0.000000001
            as decimal(18, 9))
        when h.dataset = 'vcd_edge_gateway_ip' then cast(h.figure_1 as decimal(18, 9))
        else cast(1 as decimal(18, 9))
    end as level_1,
    case
        when h.dataset = 'vcd_vm' and h.powered_on then 'vcpu'
        when h.dataset = 'vcd_vm_guest_os' and h.powered_on then 'os_licence'
        when h.dataset = 'vcd_org_vdc' then 'vdc_ram'
        when h.dataset = 'vcd_edge_gateway' then 'edge_gateway_month'
        when h.dataset = 'vcd_edge_gateway_ip' then 'public_ip_month'
    end as product_2,
    case
        when h.dataset = 'vcd_vm' and h.powered_on then h.compute_dimension
        when h.dataset = 'vcd_vm_guest_os' and h.powered_on then h.dimension
        when h.dataset = 'vcd_org_vdc' then h.dimension
        when h.dataset in ('vcd_edge_gateway', 'vcd_edge_gateway_ip') then h.dimension
    end as dimension_2,
    case
        when h.dataset in ('vcd_vm', 'vcd_vm_guest_os') and h.powered_on
            then cast(h.figure_2 as decimal(18, 9))
        when h.dataset = 'vcd_org_vdc' then cast(
            cast((h.figure_2 * 1953125) // 2 as decimal(18, 0)) * 0.000000001
            as decimal(18, 9))
        when h.dataset = 'vcd_edge_gateway' then cast(1 as decimal(18, 9))
        when h.dataset = 'vcd_edge_gateway_ip' then cast(h.figure_1 as decimal(18, 9))
    end as level_2,
    case when h.dataset = 'vcd_vm' and h.powered_on then 'ram' end as product_3,
    case when h.dataset = 'vcd_vm' and h.powered_on then h.compute_dimension end
        as dimension_3,
    case
        when h.dataset = 'vcd_vm' and h.powered_on then cast(
            cast((h.figure_3 * 1953125) // 2 as decimal(18, 0)) * 0.000000001
            as decimal(18, 9))
    end as level_3
from int_usage_holds as h
cross join params as p
