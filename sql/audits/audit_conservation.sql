-- audit_conservation: metered usage not fully accounted for, as an equality of aggregates.
-- grain: one bad row per tenant × site × product × dimension.
-- parameters: none (the hour arithmetic is intermediate/int_usage_levels.sql's).
-- feeds: rate_month (any row fails the rating with RatingError).
-- invariant: per key, Σ metered = Σ rated + Σ unrated, exactly (scale 18, nano-hours): the
--   rated side is intermediate/int_charge_keys.sql (the sums the invoice lines are priced
--   from), the unrated side int_unrated_parts; a key on only one side is compared with 0.
-- how: the metered side is the month's intervals' integer nano-hours (and counts) summed per
--   key and level (intermediate/int_usage_levels.sql, one pass shared with the usage keys
--   and the unmapped orgs), each group's level multiplied once: Σ level × h =
--   level × Σ h exactly, because a part's quantity is level (scale 9) × hours (scale 9) with
--   no rounding. No part is recomputed and nothing is compared per interval, so the audit
--   costs one aggregate of the intervals, not a second rating. What it gives up against a
--   per-interval balance: an interval rated short and another of the same key rated over by
--   exactly as much would not show (the parts carry their own interval's key, so such a pair
--   needs two opposite errors); a lost, doubled or unpriced quantity does.
--   A key with a null site, product or dimension matches no rate (equality joins never
--   did): nothing of it counts as accounted for. Whole seconds from epoch_us, as in
--   intermediate/int_rate_parts.sql.
with levels as (
    select tenant_id, site, product, dimension, measure, level, intervals, nano_hours
    from int_usage_levels
),

metered as (
    select
        tenant_id, site, product, dimension,
        case
            when measure = 'count' then cast(
                cast(level as decimal(19, 9)) * cast(intervals as decimal(19, 0))
                as decimal(38, 18))
            else cast(
                cast(level as decimal(19, 9))
                * cast(cast(nano_hours as decimal(19, 0)) * 0.000000001 as decimal(19, 9))
                as decimal(38, 18))
        end as metered_quantity,
        cast(null as decimal(38, 18)) as accounted_quantity
    from levels
),

balance as (
    select
        tenant_id, site, product, dimension,
        coalesce(sum(metered_quantity), 0) as metered_quantity,
        case
            when site is null or product is null or dimension is null
                then cast(0 as decimal(38, 18))
            else coalesce(sum(accounted_quantity), 0)
        end as accounted_quantity
    from (
        select tenant_id, site, product, dimension, metered_quantity, accounted_quantity
        from metered
        union all
        select tenant_id, site, product, dimension,
            cast(null as decimal(38, 18)) as metered_quantity,
            usage_quantity as accounted_quantity
        from int_charge_keys
        union all
        select tenant_id, site, product, dimension,
            cast(null as decimal(38, 18)) as metered_quantity,
            quantity_exact as accounted_quantity
        from int_unrated_parts
    ) as flows
    group by tenant_id, site, product, dimension
)

select tenant_id, site, product, dimension, metered_quantity, accounted_quantity
from balance
where metered_quantity <> accounted_quantity
order by tenant_id, site, product, dimension
