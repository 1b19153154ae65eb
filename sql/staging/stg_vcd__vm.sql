-- stg_vcd__vm: VCD VM samples, renamed and cast for rating.
-- grain: one row per collected record: usually one per site × VM × sample_time.
--   A resource listed twice in one run (paging over a changing set, a retried page, two
--   collector processes) gives two rows here; int_unmerged_holds.sql keeps one of them.
-- parameters: none (reads the engine's view `vcd_vm` over the lake dataset of the same name).
-- feeds: intermediate/int_sample_levels.sql.
select
    cast(site as varchar) as site,
    cast(org_name as varchar) as org_name,
    cast(vm_id as varchar) as vm_id,
    cast(vm_name as varchar) as vm_name,
    cast(vdc_id as varchar) as vdc_id,
    cast(powered_on as boolean) as powered_on,
    cast(vcpu as bigint) as vcpu,
    cast(memory_mb as bigint) as memory_mb,
    cast(storage_mb as bigint) as storage_mb,
    cast(storage_policy as varchar) as storage_policy,
    cast(is_tkg_node as boolean) as is_tkg_node,
    cast(tkg_cluster_id as varchar) as tkg_cluster_id,
    cast(guest_os as varchar) as guest_os,
    cast(sample_time as timestamptz) as sample_time,
    cast(collected_at as timestamptz) as collected_at
from vcd_vm
