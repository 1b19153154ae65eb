-- int_resource_intervals: consecutive holds of one resource in which nothing changed, merged,
--   then split into one row per product; only for the resources int_resource_runs could not
--   merge by bitmask (duplicate samples, more than 64 runs in a day, a parent_id ''), which
--   int_run_intervals.sql covers.
-- grain: one row per site × resource × product × dimension × stretch of identical samples.
-- parameters: none.
-- feeds: intermediate/int_level_intervals.sql (which merges the products' stretches again:
--   a VM's disk does not change when its power state does).
-- how (gaps and islands in one sorted pass over each resource's holds): everything a sample
--   says is one struct (`attrs`, compared null-safe). In time order, a hold starts a stretch
--   unless the previous one ends where it starts with the same attrs, and ends one unless the
--   next one starts where it ends with the same attrs. Only those boundary rows are kept (at
--   most two per stretch); each end row takes its stretch's start and sample count from the
--   start row just before it. A sample with no org, name or level merges with nothing here, as
--   in int_level_intervals.
with keyed as (
    select
        site, dataset, resource_id, hold_start, hold_end,
        {
            'resource_type': resource_type,
            'org_name': org_name,
            'resource_name': resource_name,
            'parent_id': parent_id,
            'product_1': product_1,
            'dimension_1': dimension_1,
            'level_1': level_1,
            'product_2': product_2,
            'dimension_2': dimension_2,
            'level_2': level_2,
            'product_3': product_3,
            'dimension_3': dimension_3,
            'level_3': level_3
        } as attrs,
        org_name is not null and resource_name is not null and level_1 is not null
            and (product_2 is null or level_2 is not null)
            and (product_3 is null or level_3 is not null) as mergeable
    from int_sample_levels
    where present is null
),

marked as (
    select
        site, dataset, resource_id, hold_start, hold_end, attrs,
        row_number() over w as seq,
        not coalesce(
            mergeable and lag(mergeable) over w
            and lag(hold_end) over w = hold_start
            and lag(attrs) over w is not distinct from attrs,
            false
        ) as starts_stretch,
        not coalesce(
            mergeable and lead(mergeable) over w
            and lead(hold_start) over w = hold_end
            and lead(attrs) over w is not distinct from attrs,
            false
        ) as ends_stretch
    from keyed
    window w as (partition by site, dataset, resource_id order by hold_start)
),

stretches as (
    select
        site, dataset, resource_id, attrs, ends_stretch,
        case when starts_stretch then hold_start else lag(hold_start) over w end
            as interval_start,
        hold_end as interval_end,
        seq - case when starts_stretch then seq else lag(seq) over w end + 1 as samples
    from marked
    where starts_stretch or ends_stretch
    window w as (partition by site, dataset, resource_id order by hold_start)
),

ended as (
    select
        site, dataset, resource_id, interval_start, interval_end, samples,
        attrs.resource_type as resource_type,
        attrs.org_name as org_name,
        attrs.resource_name as resource_name,
        attrs.parent_id as parent_id,
        attrs.product_1 as product_1,
        attrs.dimension_1 as dimension_1,
        attrs.level_1 as level_1,
        attrs.product_2 as product_2,
        attrs.dimension_2 as dimension_2,
        attrs.level_2 as level_2,
        attrs.product_3 as product_3,
        attrs.dimension_3 as dimension_3,
        attrs.level_3 as level_3
    from stretches
    where ends_stretch
)

select
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
    product_1 as product, dimension_1 as dimension, level_1 as level,
    interval_start, interval_end, samples
from ended
where product_1 is not null
union all
select
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
    product_2 as product, dimension_2 as dimension, level_2 as level,
    interval_start, interval_end, samples
from ended
where product_2 is not null
union all
select
    site, dataset, org_name, resource_type, resource_id, resource_name, parent_id,
    product_3 as product, dimension_3 as dimension, level_3 as level,
    interval_start, interval_end, samples
from ended
where product_3 is not null
