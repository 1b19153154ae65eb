-- stg_vcd__vm_snapshot: VCD VM snapshot samples (a VM's SnapshotSection), renamed and cast for
--   rating.
-- grain: one row per collected record: usually one per site × VM with a snapshot × sample_time.
-- parameters: none (reads the engine's view `vcd_vm_snapshot` over the lake dataset of that
--   name).
-- feeds: intermediate/int_samples.sql (the bytes the VM's snapshots hold, per its policy).
select
    cast(site as varchar) as site,
    cast(org_name as varchar) as org_name,
    cast(vm_id as varchar) as vm_id,
    cast(vm_name as varchar) as vm_name,
    cast(storage_policy as varchar) as storage_policy,
    cast(size_bytes as bigint) as size_bytes,
    cast(sample_time as timestamptz) as sample_time,
    cast(collected_at as timestamptz) as collected_at
from vcd_vm_snapshot
