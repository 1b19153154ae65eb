-- audit_conservation: usage intervals whose metered quantity is not fully accounted for.
-- grain: one bad row per usage interval (site × resource × product × dimension × start).
-- parameters: view `rating_params` (month_start).
-- feeds: rate_month (any row fails the rating with RatingError).
-- invariant: metered = Σ rated parts + Σ unrated parts, exactly (scale 18, nano-hours).
with params as (
    select month_start from rating_params
),

metered as (
    select
        u.site, u.resource_id, u.product, u.dimension, u.interval_start,
        case
            when u.measure = 'count' then cast(u.level as decimal(38, 18))
            else cast(
                cast(u.level as decimal(19, 9))
                * cast(cast(
                    (date_diff('second', p.month_start, u.interval_end) * 1000000000) // 3600
                    - (date_diff('second', p.month_start, u.interval_start) * 1000000000) // 3600
                    as decimal(18, 0)) * 0.000000001 as decimal(18, 9))
                as decimal(38, 18))
        end as metered_quantity
    from int_rating_usage as u
    cross join params as p
),

accounted as (
    select site, resource_id, product, dimension, interval_start,
        sum(quantity_exact) as quantity
    from (
        select site, resource_id, product, dimension, interval_start, quantity_exact
        from int_rate_parts
        union all
        select site, resource_id, product, dimension, interval_start, quantity_exact
        from int_unrated_parts
    ) as parts
    group by site, resource_id, product, dimension, interval_start
)

select
    m.site, m.resource_id, m.product, m.dimension, m.interval_start, m.metered_quantity,
    coalesce(a.quantity, 0) as accounted_quantity
from metered as m
left join accounted as a
    on a.site = m.site and a.resource_id = m.resource_id and a.product = m.product
    and a.dimension = m.dimension and a.interval_start = m.interval_start
where m.metered_quantity <> coalesce(a.quantity, 0)
order by m.site, m.resource_id, m.product, m.dimension, m.interval_start
