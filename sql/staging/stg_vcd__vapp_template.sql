-- stg_vcd__vapp_template: the VMs inside vApp templates (vcd_vapp_template: the per-org `vm`
--   query's isVAppTemplate rows, under the org owning their adminVAppTemplate), cast for rating.
-- grain: one row per collected record: usually one per site × template VM × sample_time.
-- parameters: none (reads the engine's view `vcd_vapp_template` over the lake dataset).
-- feeds: intermediate/int_samples.sql (the VM's allocated MB under its storage policy).
select
    cast(site as varchar) as site,
    cast(org_name as varchar) as org_name,
    cast(vm_id as varchar) as vm_id,
    cast(vm_name as varchar) as vm_name,
    cast(template_id as varchar) as template_id,
    cast(storage_mb as bigint) as storage_mb,
    cast(storage_policy as varchar) as storage_policy,
    cast(sample_time as timestamptz) as sample_time,
    cast(collected_at as timestamptz) as collected_at
from vcd_vapp_template
