-- audit_conservation: usage intervals whose metered quantity is not fully accounted for.
-- grain: one bad row per usage interval key (site × resource × product × dimension × start).
-- parameters: view `rating_params` (month_start).
-- feeds: rate_month (any row fails the rating with RatingError).
-- invariant: metered = Σ rated parts + Σ unrated parts, exactly (scale 18, nano-hours).
-- how: one aggregate over the metered quantities and the parts together, per interval key,
--   instead of aggregating the parts and joining that to every interval (a second hash
--   table of the month's intervals). An interval is bad when its metered quantity differs
--   from what its key's parts add up to; several intervals on one key (which
--   audit_no_double_counting reports first for levels) are each compared with the key's
--   whole sum, as before: min and max of their metered quantities both equal to it. A key
--   with parts but nothing metered is not compared (as before).
--   Whole seconds from epoch_us, as in intermediate/int_rate_parts.sql.
with params as (
    select epoch_us(month_start) as month_start_us from rating_params
),

metered as (
    select
        u.site, u.resource_id, u.product, u.dimension, u.interval_start,
        case
            when u.measure = 'count' then cast(u.level as decimal(38, 18))
            else cast(
                cast(u.level as decimal(19, 9))
                * cast(cast(
                    (((epoch_us(u.interval_end) - p.month_start_us) // 1000000) * 1000000000)
                    // 3600
                    - (((epoch_us(u.interval_start) - p.month_start_us) // 1000000) * 1000000000)
                    // 3600
                    as decimal(18, 0)) * 0.000000001 as decimal(18, 9))
                as decimal(38, 18))
        end as metered_quantity,
        cast(null as decimal(38, 18)) as part_quantity
    from int_rating_usage as u
    cross join params as p
),

balance as (
    select
        site, resource_id, product, dimension, interval_start,
        min(metered_quantity) as low, max(metered_quantity) as high,
        -- a key with a null in it matches no part (equality joins never did): nothing of it
        -- counts as accounted for
        case
            when site is null or resource_id is null or product is null or dimension is null
                or interval_start is null then cast(0 as decimal(38, 18))
            else coalesce(sum(part_quantity), 0)
        end as accounted_quantity
    from (
        select site, resource_id, product, dimension, interval_start, metered_quantity,
            part_quantity
        from metered
        union all
        select site, resource_id, product, dimension, interval_start,
            cast(null as decimal(38, 18)) as metered_quantity, quantity_exact as part_quantity
        from int_rate_parts
        union all
        select site, resource_id, product, dimension, interval_start,
            cast(null as decimal(38, 18)) as metered_quantity, quantity_exact as part_quantity
        from int_unrated_parts
    ) as flows
    group by site, resource_id, product, dimension, interval_start
)

select
    site, resource_id, product, dimension, interval_start,
    case when low <> accounted_quantity then low else high end as metered_quantity,
    accounted_quantity
from balance
where low <> accounted_quantity or high <> accounted_quantity
order by site, resource_id, product, dimension, interval_start
