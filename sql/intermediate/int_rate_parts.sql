-- int_rate_parts: usage split at rate-card changes; each part carries its rate and quantity.
-- grain: one row per usage interval × rate card in force during it (rate_key: its
--   int_usage_rates row).
-- parameters: view `rating_params` (month_start: anchor of the hour arithmetic).
-- feeds: intermediate/int_charge_periods.sql, marts/rated_usage.sql,
--   audits/audit_conservation.sql (intermediate/int_unrated_parts.sql cuts its few intervals
--   the same way).
-- rules: a level interval is cut at each card boundary and each part is priced at its own
--   card; a count (requests) is priced by the card in force at the start of its interval.
--   Within a card a rate for the exact dimension wins over '*' (int_usage_rates).
--   Hours are exact nano-hours counted from month_start with integer arithmetic
--   (floor(seconds × 10^9 / 3600)), so the hours of adjacent parts always add up to the
--   hours of the whole; quantity_exact keeps full precision (scale 18). Whole seconds are
--   the integer quotient of (epoch_us(t) − epoch_us(month_start)) by 10^6: every t here is
--   at or after month_start, where that is date_diff('second', month_start, t) exactly, in
--   integer arithmetic instead of a calendar call per row (~1 µs each in DuckDB).
with params as (
    select epoch_us(month_start) as month_start_us from rating_params
),

candidates as (
    select
        u.usage_date, u.site, u.dataset, u.org_name, u.tenant_id, u.resource_type,
        u.resource_id, u.resource_name, u.parent_id, u.product, u.dimension, u.measure,
        u.level, u.interval_start, u.interval_end, u.filled,
        r.rate_card_id, r.rate_key, r.rate_dimension, r.model, r.per, r.billing_basis,
        r.billing_unit, r.currency, r.valid_from, r.valid_to, r.unit_price as first_price,
        case
            when u.measure = 'count' then u.interval_start
            else greatest(u.interval_start, r.valid_from)
        end as part_start,
        case
            when u.measure = 'count' then u.interval_end
            else least(u.interval_end, coalesce(r.valid_to, u.interval_end))
        end as part_end
    from int_rating_usage as u
    inner join int_usage_rates as r
        on r.tenant_id = u.tenant_id
        and r.product = u.product
        and r.dimension is not distinct from u.dimension
        and (
            (u.measure = 'level'
                and r.valid_from < u.interval_end
                and (r.valid_to is null or r.valid_to > u.interval_start))
            or (u.measure = 'count'
                and r.valid_from <= u.interval_start
                and (r.valid_to is null or r.valid_to > u.interval_start))
        )
),

timed as (
    select
        c.*,
        (((epoch_us(c.part_end) - p.month_start_us) // 1000000) * 1000000000) // 3600
        - (((epoch_us(c.part_start) - p.month_start_us) // 1000000) * 1000000000) // 3600
            as nano_hours
    from candidates as c
    cross join params as p
)

select
    usage_date, site, dataset, org_name, tenant_id, resource_type, resource_id,
    resource_name, parent_id, product, dimension, measure, level, interval_start,
    interval_end, filled, rate_card_id, rate_key, rate_dimension, model, per, billing_basis,
    billing_unit, currency, valid_from, valid_to, first_price, part_start, part_end, nano_hours,
    case
        when measure = 'count' then cast(level as decimal(38, 18))
        else cast(
            cast(level as decimal(19, 9))
            * cast(cast(nano_hours as decimal(18, 0)) * 0.000000001 as decimal(18, 9))
            as decimal(38, 18))
    end as quantity_exact
from timed
