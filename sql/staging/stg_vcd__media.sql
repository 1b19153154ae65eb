-- stg_vcd__media: VCD catalog media samples (adminMedia query), renamed and cast for rating.
-- grain: one row per collected record: usually one per site × media item × sample_time.
-- parameters: none (reads the engine's view `vcd_media` over the lake dataset of that name).
-- feeds: intermediate/int_samples.sql (the item's stored bytes under its storage policy).
select
    cast(site as varchar) as site,
    cast(org_name as varchar) as org_name,
    cast(media_id as varchar) as media_id,
    cast(media_name as varchar) as media_name,
    cast(size_bytes as bigint) as size_bytes,
    cast(storage_policy as varchar) as storage_policy,
    cast(sample_time as timestamptz) as sample_time,
    cast(collected_at as timestamptz) as collected_at
from vcd_media
