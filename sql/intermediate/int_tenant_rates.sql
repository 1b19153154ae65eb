-- int_tenant_rates: each tenant's rates: its plan's rate cards with its custom rates on top.
-- grain: one row per tenant × rate card × product × rate dimension × tier.
-- parameters: none (views `rates`, `rate_cards`, `tenant_rate_overrides`, `products`).
-- feeds: intermediate/int_rate_parts.sql, intermediate/int_charge_bands.sql.
-- rule: a custom rate replaces the plan's rate(s) for its product and dimension ('*' = all
--   dimensions of the product) in every card, as a per-unit price in the card's billing unit:
--   where the card prices the product per 1,000 (`per = 1000`), so does the custom rate (the
--   card's rate for the override's dimension, else its '*' rate, else its largest `per`).
--   A '*' custom rate leaves the card's charge-basis rates (metering.rating.charge_basis: the
--   0.00 of compute inside an Org VDC allocation, or of an allocation billed on usage) in
--   place: a custom vCPU price must not bill compute an allocation already pays for.
with plan_rates as (
    select
        t.tenant_id, r.policy, r.rate_card_id, r.currency, r.valid_from, r.valid_to,
        r.product, r.dimension, r.model, r.per, r.billing_basis, r.billing_unit, r.tier_no,
        r.tier_lower, r.tier_upper, r.unit_price, r.derived_from
    from int_tenants as t
    inner join rates as r on r.policy = t.plan
),

kept as (
    select *
    from plan_rates as pr
    where not exists (
        select 1
        from tenant_rate_overrides as o
        where o.tenant_id = pr.tenant_id
            and o.product = pr.product
            and (
                o.dimension = pr.dimension
                or (o.dimension = '*' and coalesce(pr.derived_from, '') not like 'charge basis%')
            )
    )
),

card_units as (
    -- the billing unit (`per`) each card gives each product and dimension
    select rate_card_id, product, dimension, max(per) as per
    from rates
    group by rate_card_id, product, dimension
),

product_units as (
    select rate_card_id, product, max(per) as per
    from rates
    group by rate_card_id, product
),

custom as (
    select
        t.tenant_id, c.policy, c.rate_card_id, c.currency, c.valid_from, c.valid_to,
        o.product, o.dimension, 'per_unit' as model,
        coalesce(exact.per, star.per, any_rate.per, 1) as per, pr.billing_basis,
        pr.billing_unit, 1 as tier_no, cast(0 as decimal(18, 9)) as tier_lower,
        cast(null as decimal(18, 9)) as tier_upper, o.unit_price, 'custom rate' as derived_from
    from tenant_rate_overrides as o
    inner join int_tenants as t on t.tenant_id = o.tenant_id
    inner join rate_cards as c on c.policy = t.plan
    inner join products as pr on pr.product = o.product
    left join card_units as exact
        on exact.rate_card_id = c.rate_card_id and exact.product = o.product
        and exact.dimension = o.dimension
    left join card_units as star
        on star.rate_card_id = c.rate_card_id and star.product = o.product
        and star.dimension = '*'
    left join product_units as any_rate
        on any_rate.rate_card_id = c.rate_card_id and any_rate.product = o.product
)

select
    tenant_id, policy, rate_card_id, currency, valid_from, valid_to, product, dimension,
    model, per, billing_basis, billing_unit, tier_no, tier_lower, tier_upper, unit_price,
    derived_from
from kept
union all
select
    tenant_id, policy, rate_card_id, currency, valid_from, valid_to, product, dimension,
    model, per, billing_basis, billing_unit, tier_no, tier_lower, tier_upper, unit_price,
    derived_from
from custom
