-- int_unrated_parts: usage no rate covers (no tenant, or no rate in force), with the reason.
-- grain: one row per usage interval with an uncovered remainder.
-- parameters: view `rating_params` (month_start, month_end).
-- feeds: marts/unrated_usage.sql, audits/audit_conservation.sql.
-- reads: int_rating_usage, int_usage_keys, int_usage_rates, int_tenants.
-- rule: nothing is dropped: uncovered quantity = level × (hours of the interval − hours
--   covered by rate parts), exact in nano-hours; counts are uncovered when no card is in force.
with params as (
    select month_start, month_end, epoch_us(month_start) as month_start_us from rating_params
),

-- The month as each usage key's cards cover it (int_usage_rates: one row per card with a rate
-- for the key, its exact dimension or '*'), each card's validity clipped to the month.
spans as (
    select
        r.tenant_id, r.product, r.dimension,
        greatest(r.valid_from, p.month_start) as span_start,
        least(coalesce(r.valid_to, p.month_end), p.month_end) as span_end
    from int_usage_rates as r
    cross join params as p
    where r.valid_from < p.month_end
        and (r.valid_to is null or r.valid_to > p.month_start)
),

reach as (
    select
        tenant_id, product, dimension, span_start, span_end,
        max(span_end) over (
            partition by tenant_id, product, dimension
            order by span_start, span_end
            rows between unbounded preceding and 1 preceding
        ) as reached
    from spans
),

-- Keys whose cards cover the whole month, from its first instant to its last with no hole:
-- none of their usage can have an uncovered remainder (a level interval is cut at each card
-- boundary into parts that add up to it; a count is covered by the card in force at its
-- start), so their intervals are not compared with their parts at all.
covered_keys as (
    select tenant_id, product, dimension
    from reach
    cross join params as p
    group by tenant_id, product, dimension, p.month_start, p.month_end
    having min(span_start) <= p.month_start
        and max(span_end) >= p.month_end
        and coalesce(bool_or(reached < span_start), false) = false
),

-- The other keys: a card missing for part of the month, or no card at all (no rate, or no
-- tenant: a Cloudian group that maps to no org). A few keys, usually none.
open_keys as (
    select k.tenant_id, k.product, k.dimension
    from int_usage_keys as k
    left join covered_keys as c
        on c.tenant_id is not distinct from k.tenant_id
        and c.product is not distinct from k.product
        and c.dimension is not distinct from k.dimension
    where c.product is null
),

-- Only the usage of those keys can have an uncovered remainder, so only it is compared with
-- its rate parts, instead of every interval of the month. An inner join on a small table
-- (usually empty: the month's intervals are then not read here at all).
open_usage as (
    select u.*
    from int_rating_usage as u
    inner join open_keys as k
        on k.tenant_id is not distinct from u.tenant_id
        and k.product is not distinct from u.product
        and k.dimension is not distinct from u.dimension
),

-- What the rate parts of those intervals cover: the parts as intermediate/int_rate_parts.sql
-- cuts them (the same join on int_usage_rates, the same nano-hours), for these intervals
-- only, instead of reading the parts of every interval of the month to find theirs.
covered as (
    select
        o.site, o.resource_id, o.product, o.dimension, o.interval_start,
        sum(
            (((epoch_us(
                case
                    when o.measure = 'count' then o.interval_end
                    else least(o.interval_end, coalesce(r.valid_to, o.interval_end))
                end) - p.month_start_us) // 1000000) * 1000000000) // 3600
            - (((epoch_us(
                case
                    when o.measure = 'count' then o.interval_start
                    else greatest(o.interval_start, r.valid_from)
                end) - p.month_start_us) // 1000000) * 1000000000) // 3600
        ) as nano_hours,
        count(*) as parts
    from open_usage as o
    inner join int_usage_rates as r
        on r.tenant_id = o.tenant_id
        and r.product = o.product
        and r.dimension is not distinct from o.dimension
        and (
            (o.measure = 'level'
                and r.valid_from < o.interval_end
                and (r.valid_to is null or r.valid_to > o.interval_start))
            or (o.measure = 'count'
                and r.valid_from <= o.interval_start
                and (r.valid_to is null or r.valid_to > o.interval_start))
        )
    cross join params as p
    group by o.site, o.resource_id, o.product, o.dimension, o.interval_start
),

usage as (
    select
        u.*,
        (((epoch_us(u.interval_end) - p.month_start_us) // 1000000) * 1000000000) // 3600
        - (((epoch_us(u.interval_start) - p.month_start_us) // 1000000) * 1000000000) // 3600
            as nano_hours,
        t.plan
    from open_usage as u
    cross join params as p
    left join int_tenants as t on t.tenant_id = u.tenant_id
),

gaps as (
    select
        u.usage_date, u.site, u.org_name, u.tenant_id, u.resource_type, u.resource_id,
        u.resource_name, u.product, u.dimension, u.measure, u.level, u.interval_start,
        u.interval_end, u.plan,
        case
            when u.measure = 'count' then case when c.parts is null then 1 else 0 end
            else u.nano_hours - coalesce(c.nano_hours, 0)
        end as nano_uncovered
    from usage as u
    left join covered as c
        on c.site = u.site and c.resource_id = u.resource_id and c.product = u.product
        and c.dimension = u.dimension and c.interval_start = u.interval_start
)

select
    usage_date, site, org_name, tenant_id, resource_type, resource_id, resource_name,
    product, dimension, measure, interval_start, interval_end,
    case
        when measure = 'count' then cast(level as decimal(38, 18))
        else cast(
            cast(level as decimal(19, 9))
            * cast(cast(nano_uncovered as decimal(18, 0)) * 0.000000001 as decimal(18, 9))
            as decimal(38, 18))
    end as quantity_exact,
    case
        when org_name is null then 'no tenant: the Cloudian group maps to no VCD org'
        else 'no price: plan ' || coalesce(plan, '?') || ' has no rate for ' || product
            || case when dimension = '' then '' else '/' || dimension end || ' in force'
    end as reason
from gaps
where nano_uncovered > 0
