-- audit_no_double_counting: a resource metered twice for the same time (a level held twice,
--   or requests counted twice for one span: both would be billed twice), or compute charged
--   on a TKG cluster (its node VMs are billed as VMs; the cluster pays only its fee).
-- grain: one bad row per overlapping usage interval or misplaced product row.
-- parameters: none.
-- feeds: rate_month (any row fails the rating with RatingError).
with ordered as (
    select
        site, resource_id, product, dimension, interval_start, interval_end,
        lag(interval_end) over (
            partition by resource_id, product, dimension, measure
            order by interval_start, interval_end
        ) as previous_end
    from int_rating_usage
)

select 'overlap' as problem, site, resource_id, product, dimension, interval_start
from ordered
where previous_end > interval_start
union all
select 'compute on a cluster' as problem, site, resource_id, product, dimension, interval_start
from int_rating_usage
where resource_type = 'tkg_cluster' and product <> 'tkg_cluster'
union all
select 'cluster fee on a vm' as problem, site, resource_id, product, dimension, interval_start
from int_rating_usage
where product = 'tkg_cluster' and resource_type <> 'tkg_cluster'
order by problem, site, resource_id, product, dimension, interval_start
