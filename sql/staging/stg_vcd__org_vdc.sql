-- stg_vcd__org_vdc: VCD Org VDC samples (adminOrgVdc query), renamed and cast for rating.
-- grain: one row per collected record: usually one per site × VDC × sample_time.
-- parameters: none (reads the engine's view `vcd_org_vdc` over the lake dataset of that name).
-- feeds: intermediate/int_samples.sql (the VDC's allocation, and the allocation model its VMs'
--   compute is billed under).
select
    cast(site as varchar) as site,
    cast(org_name as varchar) as org_name,
    cast(vdc_id as varchar) as vdc_id,
    cast(vdc_name as varchar) as vdc_name,
    cast(allocation_model as varchar) as allocation_model,
    cast(cpu_allocation_mhz as bigint) as cpu_allocation_mhz,
    cast(memory_allocation_mb as bigint) as memory_allocation_mb,
    cast(sample_time as timestamptz) as sample_time,
    cast(collected_at as timestamptz) as collected_at
from vcd_org_vdc
