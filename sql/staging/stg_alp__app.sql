-- stg_alp__app: App Launchpad app instance samples, renamed and cast for rating.
-- grain: one row per site × app instance × sample_time.
-- parameters: none (reads the engine's view `alp_app`).
-- feeds: intermediate/int_sample_levels.sql.
select
    cast(site as varchar) as site,
    cast(org_name as varchar) as org_name,
    cast(instance_id as varchar) as instance_id,
    cast(instance_name as varchar) as instance_name,
    cast(app_id as varchar) as app_id,
    cast(status as varchar) as status,
    cast(sample_time as timestamptz) as sample_time
from alp_app
