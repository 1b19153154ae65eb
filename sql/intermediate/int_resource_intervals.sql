-- int_resource_intervals: consecutive holds of one resource in which nothing changed, merged,
--   then split into one row per product.
-- grain: one row per site × resource × product × dimension × stretch of identical samples.
-- parameters: none.
-- feeds: intermediate/int_level_intervals.sql (which merges the products' stretches again:
--   a VM's disk does not change when its power state does).
-- how (gaps and islands in one sorted pass): a partition holds a resource's samples that are
--   identical in every attribute and level. In time order, a hold starts a stretch unless the
--   previous one ends where it starts, and ends one unless the next starts where it ends. Only
--   those boundary rows are kept (at most two per stretch); each end row takes its stretch's
--   start and sample count from the start row just before it. A sample with no org, name or
--   level merges with nothing here, as in int_level_intervals.
with keyed as (
    select
        site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
        product_1, dimension_1, level_1, product_2, dimension_2, level_2,
        product_3, dimension_3, level_3, hold_start, hold_end,
        case
            when org_name is null or resource_name is null or level_1 is null
                or (product_2 is not null and level_2 is null)
                or (product_3 is not null and level_3 is null)
                then hold_start
        end as alone_at
    from int_usage_holds
),

marked as (
    select
        site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
        product_1, dimension_1, level_1, product_2, dimension_2, level_2,
        product_3, dimension_3, level_3, alone_at, hold_start, hold_end,
        lag(hold_end) over w as previous_end,
        lead(hold_start) over w as next_start,
        row_number() over w as seq
    from keyed
    window w as (
        partition by
            site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
            product_1, dimension_1, level_1, product_2, dimension_2, level_2,
            product_3, dimension_3, level_3, alone_at
        order by hold_start
    )
),

bounds as (
    select
        site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
        product_1, dimension_1, level_1, product_2, dimension_2, level_2,
        product_3, dimension_3, level_3, alone_at, hold_start, hold_end, seq,
        previous_end is distinct from hold_start as starts_stretch,
        next_start is distinct from hold_end as ends_stretch
    from marked
    where previous_end is distinct from hold_start or next_start is distinct from hold_end
),

stretches as (
    select
        site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
        product_1, dimension_1, level_1, product_2, dimension_2, level_2,
        product_3, dimension_3, level_3, ends_stretch,
        case when starts_stretch then hold_start else lag(hold_start) over w end
            as interval_start,
        hold_end as interval_end,
        seq - case when starts_stretch then seq else lag(seq) over w end + 1 as samples
    from bounds
    window w as (
        partition by
            site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
            product_1, dimension_1, level_1, product_2, dimension_2, level_2,
            product_3, dimension_3, level_3, alone_at
        order by hold_start
    )
)

select
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
    product_1 as product, dimension_1 as dimension, level_1 as level,
    interval_start, interval_end, samples
from stretches
where ends_stretch and product_1 is not null
union all
select
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
    product_2 as product, dimension_2 as dimension, level_2 as level,
    interval_start, interval_end, samples
from stretches
where ends_stretch and product_2 is not null
union all
select
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
    product_3 as product, dimension_3 as dimension, level_3 as level,
    interval_start, interval_end, samples
from stretches
where ends_stretch and product_3 is not null
