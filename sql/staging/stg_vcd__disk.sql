-- stg_vcd__disk: VCD independent disk samples (adminDisk query), renamed and cast for rating.
-- grain: one row per collected record: usually one per site × disk × sample_time.
-- parameters: none (reads the engine's view `vcd_disk` over the lake dataset of that name).
-- feeds: intermediate/int_samples.sql (the disk's provisioned size per storage policy).
select
    cast(site as varchar) as site,
    cast(org_name as varchar) as org_name,
    cast(disk_id as varchar) as disk_id,
    cast(disk_name as varchar) as disk_name,
    cast(size_mb as bigint) as size_mb,
    cast(storage_policy as varchar) as storage_policy,
    cast(sample_time as timestamptz) as sample_time,
    cast(collected_at as timestamptz) as collected_at
from vcd_disk
