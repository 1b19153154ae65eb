-- int_unrated_parts: usage no rate covers (no tenant, or no rate in force), with the reason.
-- grain: one row per usage interval with an uncovered remainder.
-- parameters: view `rating_params` (month_start).
-- feeds: marts/unrated_usage.sql, audits/audit_conservation.sql.
-- reads: int_rating_usage, int_usage_rates, int_tenant_rates, int_tenants.
-- rule: nothing is dropped: uncovered quantity = level × (hours of the interval − hours
--   covered by rate parts), exact in nano-hours; counts are uncovered when no card is in force.
with params as (
    select epoch_us(month_start) as month_start_us from rating_params
),

-- The validity of every card with a first-tier rate per tenant, product and rate dimension.
spans as (
    select distinct tenant_id, product, dimension, valid_from, valid_to
    from int_tenant_rates
    where tier_no = 1
),

-- Usage no single card's rate covers whole: only these can have an uncovered remainder (a
-- card covering an interval whole prices all of it, and the cards of a plan never overlap),
-- so only these are compared with their rate parts, instead of every interval of the month.
-- Written as two left joins on equality keys (the exact dimension, then '*') keeping the
-- rows neither matches, not as correlated NOT EXISTS: with range predicates in the
-- correlation the engine decorrelates those through a distinct of every interval's keys,
-- held in memory (a full-size month ran out of memory there). A kept row matched nothing,
-- so it appears once.
open_usage as (
    select u.*
    from int_rating_usage as u
    left join spans as s
        on s.tenant_id = u.tenant_id and s.product = u.product
        and s.dimension = u.dimension
        and s.valid_from <= u.interval_start
        and (s.valid_to is null
            or s.valid_to >= u.interval_end
            or (u.measure = 'count' and s.valid_to > u.interval_start))
    left join spans as w
        on w.tenant_id = u.tenant_id and w.product = u.product
        and w.dimension = '*'
        and w.valid_from <= u.interval_start
        and (w.valid_to is null
            or w.valid_to >= u.interval_end
            or (u.measure = 'count' and w.valid_to > u.interval_start))
    where s.tenant_id is null and w.tenant_id is null
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
