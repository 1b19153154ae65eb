-- stg_alp__app: App Launchpad app instance samples, renamed and cast for rating.
-- grain: one row per collected record: usually one per site × app instance × sample_time.
--   A resource listed twice in one run (paging over a changing set, a retried page, two
--   collector processes) gives two rows here; int_unmerged_holds.sql keeps one of them.
-- parameters: none (reads the engine's view `alp_app`).
-- feeds: intermediate/int_sample_levels.sql.
select
    cast(site as varchar) as site,
    cast(org_name as varchar) as org_name,
    cast(instance_id as varchar) as instance_id,
    cast(instance_name as varchar) as instance_name,
    cast(app_id as varchar) as app_id,
    cast(status as varchar) as status,
    cast(sample_time as timestamptz) as sample_time,
    cast(collected_at as timestamptz) as collected_at
from alp_app
