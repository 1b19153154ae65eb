-- int_cloudian_intervals: Cloudian's hourly usage series read as intervals (never re-sampled).
-- grain: one row per bucket × product × dimension × hourly interval starting in the day.
-- parameters: view `consolidation_params` (day_start, day_end).
-- reads: stg_cloudian__usage, and int_cloudian_groups.sql (group → org name).
-- feeds: marts/usage_intervals.sql.
-- rules (docs/metering-rules.md): SB (bytes stored) is a level in GB (2^30 bytes, exact
--   nano-GB by integer arithmetic) held over the interval; HG/HP/HD are request counts;
--   BI/BO (bytes in/out) are GB transferred over the interval (object_transfer in/out).
--   Cloudian sites form one multi-DC cluster, so several sites may report the same bucket's
--   series: logical bytes are billed once, from one site, never again for the replicas;
--   different buckets all count. The site is the tenant's home site (the catalog's
--   `home_site` of the tenant whose org the group maps to) when it reports that bucket and
--   hour, else the first reporting site in `[rating] series_site_order` (default: the order
--   of `[[sites]]`), then by name (view `series_sites`: org_name → home site, and site → rank;
--   domain.md: billed once, at the tenant's home site).
--   A site that reports an hour twice (a retried page, a backfill beside the regular run)
--   bills it once too: its row collected last, at the same collected_at the higher value
--   (then storage policy, interval end): one row per bucket, operation and hour, whatever
--   the order of files and rows.
-- why a hash first: ranking every row of the day (a window sorted on five keys) cost more than
--   the rest of this model. A row whose key hash occurs once has no duplicate (equal keys hash
--   equal, NULLs included), so it is its key's only row and is kept as is; only rows sharing a
--   hash (duplicates, or a collision) are ranked, by their real keys, as before.
with params as (
    select day_start, day_end from consolidation_params
),

filtered as (
    select
        u.site, u.group_id, u.user_id, u.bucket, u.storage_policy, u.operation,
        u.interval_start, u.interval_end, u.value, u.collected_at,
        hash(u.group_id, u.user_id, u.bucket, u.operation, u.interval_start) as key_hash
    from stg_cloudian__usage as u
    cross join params as p
    where u.interval_start >= p.day_start
        and u.interval_start < p.day_end
        and u.bucket is not null
        and u.operation in ('SB', 'HG', 'HP', 'HD', 'BI', 'BO')
),

repeated as (
    -- hashes of more than one row: true duplicates, or (rarely) different keys that collide
    select key_hash
    from filtered
    group by key_hash
    having count(*) > 1
),

usage as (
    select
        site, group_id, user_id, bucket, storage_policy, operation, interval_start,
        interval_end, value, 1 as pick
    from filtered
    anti join repeated using (key_hash)
    union all
    select
        u.site, u.group_id, u.user_id, u.bucket, u.storage_policy, u.operation,
        u.interval_start, u.interval_end, u.value,
        row_number() over (
            partition by u.group_id, u.user_id, u.bucket, u.operation, u.interval_start
            order by
                case when h.home_site = u.site then 0 else 1 end,
                coalesce(r.site_rank, 2147483647), u.site,
                u.collected_at desc nulls last, u.value desc nulls last,
                u.storage_policy nulls last, u.interval_end desc nulls last
        ) as pick
    from filtered as u
    left join int_cloudian_groups as g on g.group_id = u.group_id
    left join home_sites as h on h.org_name = g.org_name
    left join series_sites as r on r.site = u.site
    semi join repeated using (key_hash)
),

typed as (
    select
        u.site, u.group_id, u.bucket, g.org_name, u.interval_start, u.interval_end,
        case u.operation
            when 'SB' then 'object_storage'
            when 'BI' then 'object_transfer'
            when 'BO' then 'object_transfer'
            else 'object_requests'
        end as product,
        case u.operation
            when 'SB' then coalesce(u.storage_policy, '')
            when 'HG' then 'GET'
            when 'HP' then 'PUT'
            when 'HD' then 'DELETE'
            when 'BI' then 'in'
            when 'BO' then 'out'
        end as dimension,
        case when u.operation = 'SB' then 'level' else 'count' end as measure,
        case
            when u.operation in ('SB', 'BI', 'BO') then cast(
                cast((u.value // 2097152) * 1953125
                    + ((u.value % 2097152) * 1953125) // 2097152 as decimal(18, 0))
                * 0.000000001 as decimal(18, 9))
            else cast(u.value as decimal(18, 9))
        end as level
    from usage as u
    left join int_cloudian_groups as g on g.group_id = u.group_id
    where u.pick = 1
)

select
    site, 'cloudian_usage' as dataset, org_name, 'bucket' as resource_type,
    group_id || '/' || bucket as resource_id, bucket as resource_name,
    cast(null as varchar) as parent_id, product, dimension, measure, level,
    interval_start, interval_end, cast(1 as bigint) as samples
from typed
