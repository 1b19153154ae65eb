-- int_resource_intervals: consecutive holds of one resource in which nothing changed, merged,
--   then split into one row per product.
-- grain: one row per site × resource × product × dimension × stretch of identical samples.
-- parameters: none.
-- feeds: intermediate/int_level_intervals.sql (which merges the products' stretches again:
--   a VM's disk does not change when its power state does).
-- rule: in time order, a hold continues the stretch of the hold before it when that one ends
--   where it starts, says exactly the same (`attrs`: every column but the times, compared
--   null-safe) and both are complete (an org, a name and every level); a sample missing one of
--   them merges with nothing, as in int_level_intervals.
-- how (gaps and islands without sorting the samples): holds of a resource that say the same
--   are one group (a hash aggregate). A resource's runs are numbered (int_run_holds.run_no), so
--   a group is two 64-bit masks: the runs it has a hold at, and those whose hold reaches the
--   next run. A stretch starts at a present run whose previous run is not a linked member of the
--   group, and ends at a present run that is not linked to a present next run; the i-th start
--   pairs with the i-th end. Between two runs of a resource there is no other hold, so this is
--   the time-ordered merge. It needs each hold of a resource at its own run (no duplicate
--   samples) and run numbers below 64 (a day of hourly runs has about 26); any other resource
--   takes the sorted pass below (`sorted_*`: lag/lead over the resource's holds in time order).
with grouped as (
    select
        site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
        product_1, dimension_1, level_1, product_2, dimension_2, level_2,
        product_3, dimension_3, level_3,
        count(*) as holds,
        max(run_no) as last_run,
        bit_or(cast(1 as ubigint) << least(run_no, 63)) as present,
        bit_or(
            case when reaches_next_run then cast(1 as ubigint) << least(run_no, 63)
            else cast(0 as ubigint) end
        ) as linked
    from int_usage_holds
    group by
        site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
        product_1, dimension_1, level_1, product_2, dimension_2, level_2,
        product_3, dimension_3, level_3
),

resources as (
    select
        site, dataset, resource_id,
        max(last_run) < 64 and bit_count(bit_or(present)) = sum(holds) as by_masks
    from grouped
    group by site, dataset, resource_id
),

masked as (
    select
        g.*,
        g.org_name is not null and g.resource_name is not null and g.level_1 is not null
            and (g.product_2 is null or g.level_2 is not null)
            and (g.product_3 is null or g.level_3 is not null) as mergeable
    from grouped as g
    semi join resources as r
        on r.site = g.site and r.dataset = g.dataset and r.resource_id = g.resource_id
        and r.by_masks
),

marked as (
    select
        *,
        case when mergeable
            then present & ~(((present & linked) & cast(9223372036854775807 as ubigint)) << 1)
            else present end as starts,
        case when mergeable then present & ~(linked & (present >> 1)) else present end as ends
    from masked
),

masked_stretches as (
    select
        site, dataset, resource_id, resource_type, org_name, resource_name, parent_id,
        product_1, dimension_1, level_1, product_2, dimension_2, level_2,
        product_3, dimension_3, level_3,
        unnest(list_filter(range(64), lambda i: (starts >> i) & 1 = 1)) as first_run,
        unnest(list_filter(range(64), lambda i: (ends >> i) & 1 = 1)) as last_run
    from marked
),

by_masks as (
    select
        s.site, s.dataset, s.resource_id, f.hold_start as interval_start,
        l.hold_end as interval_end, s.last_run - s.first_run + 1 as samples,
        s.resource_type, s.org_name, s.resource_name, s.parent_id,
        s.product_1, s.dimension_1, s.level_1, s.product_2, s.dimension_2, s.level_2,
        s.product_3, s.dimension_3, s.level_3
    from masked_stretches as s
    inner join int_run_holds as f
        on f.site = s.site and f.dataset = s.dataset and f.run_no = s.first_run
    inner join int_run_holds as l
        on l.site = s.site and l.dataset = s.dataset and l.run_no = s.last_run
),

sorted_keyed as (
    select
        h.site, h.dataset, h.resource_id, h.hold_start, h.hold_end,
        {
            'resource_type': h.resource_type,
            'org_name': h.org_name,
            'resource_name': h.resource_name,
            'parent_id': h.parent_id,
            'product_1': h.product_1,
            'dimension_1': h.dimension_1,
            'level_1': h.level_1,
            'product_2': h.product_2,
            'dimension_2': h.dimension_2,
            'level_2': h.level_2,
            'product_3': h.product_3,
            'dimension_3': h.dimension_3,
            'level_3': h.level_3
        } as attrs,
        h.org_name is not null and h.resource_name is not null and h.level_1 is not null
            and (h.product_2 is null or h.level_2 is not null)
            and (h.product_3 is null or h.level_3 is not null) as mergeable
    from int_usage_holds as h
    semi join resources as r
        on r.site = h.site and r.dataset = h.dataset and r.resource_id = h.resource_id
        and not r.by_masks
),

sorted_marked as (
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
    from sorted_keyed
    window w as (partition by site, dataset, resource_id order by hold_start)
),

sorted_stretches as (
    select
        site, dataset, resource_id, attrs, ends_stretch,
        case when starts_stretch then hold_start else lag(hold_start) over w end
            as interval_start,
        hold_end as interval_end,
        seq - case when starts_stretch then seq else lag(seq) over w end + 1 as samples
    from sorted_marked
    where starts_stretch or ends_stretch
    window w as (partition by site, dataset, resource_id order by hold_start)
),

ended as (
    select * from by_masks
    union all
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
    from sorted_stretches
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
