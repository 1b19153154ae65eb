-- int_usage_levels: the month's usage intervals summed per key and level: the metered side of
--   audits/audit_conservation.sql, and the usage keys and unmapped orgs of the month.
-- grain: one row per tenant × site × product × dimension × measure × level.
-- parameters: view `rating_params` (month_start: anchor of the hour arithmetic).
-- feeds: intermediate/int_tenants.sql, intermediate/int_usage_keys.sql,
--   audits/audit_conservation.sql.
-- rules: nano_hours are each interval's whole seconds from month_start turned into
--   nano-hours with the integer arithmetic of intermediate/int_rate_parts.sql, summed;
--   intervals counts them; org_name is the least org name of the group.
-- performance: the three readers each scanned the month's intervals (65 M at full size);
--   this is one scan, and a few tens of thousands of rows at full size (materialised).
with params as (
    select epoch_us(month_start) as month_start_us from rating_params
)

select
    u.tenant_id, u.site, u.product, u.dimension, u.measure, u.level,
    count(*) as intervals,
    sum(
        (((epoch_us(u.interval_end) - p.month_start_us) // 1000000) * 1000000000) // 3600
        - (((epoch_us(u.interval_start) - p.month_start_us) // 1000000) * 1000000000) // 3600
    ) as nano_hours,
    min(u.org_name) as org_name
from int_rating_usage as u
cross join params as p
group by u.tenant_id, u.site, u.product, u.dimension, u.measure, u.level
