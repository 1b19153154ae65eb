-- margin: what each tenant paid against what serving it cost the provider.
-- grain: one row per month × tenant × product (invoice line products, plus
--   '(discount and minimum)' for the plan discount and minimum-commitment adjustment).
-- reads: rated_usage, invoice_lines, invoice_totals (rating outputs), cost_cards and
--   cost_rates (pricing/costs/*.toml, metering.commerce.costs).
-- feeds: the warehouse view `margin`, the margin report and the provider portal's margin page.
-- revenue_amount: the sum of the tenant's invoice lines of the product (each rounded half-up
--   by rating), before tax; the discount row carries discount + minimum adjustment, so the
--   tenant's revenue over all rows is its subtotal.
-- cost: per usage day, the cost card of the tenant's currency in effect that day (cards change
--   on whole days), the cost line of the product's dimension (else '*'), per kind (licence,
--   infrastructure): usage in billing units × unit_cost. Billing units: hour products as
--   measured, month products = unit-hours ÷ hours in the month, count products ÷ `per`.
--   The exact sum per month × tenant × product × kind is divided once, in integers (nano
--   units), then rounded half-up to the cent once: cost_amount = licence + infra.
--   A tenant whose currency has no card on a usage day has costed = false for that product
--   (its cost counts the days that had one).
-- month: DATE in the warehouse, 'YYYY-MM' text in the close's views of one month's files;
--   both are read as the month's first day.
with lines as (
    select cast(left(cast(month as varchar), 7) || '-01' as date) as month, tenant_id, product,
        list_amount
    from invoice_lines
),

totals as (
    select cast(left(cast(month as varchar), 7) || '-01' as date) as month, tenant_id, tenant_name, currency, discount_amount,
        minimum_adjustment
    from invoice_totals
),

rated as (
    select cast(left(cast(month as varchar), 7) || '-01' as date) as month, tenant_id, product, dimension, usage_date, quantity
    from rated_usage
),

hours as (
    select
        month,
        cast(datediff('hour', cast(month as timestamp), cast(month as timestamp) + interval 1 month)
            as hugeint) as hours_in_month
    from (select distinct month from rated)
),

usage_days as (
    select u.month, u.tenant_id, u.product, u.dimension, u.usage_date,
        sum(u.quantity) as quantity
    from rated as u
    group by u.month, u.tenant_id, u.product, u.dimension, u.usage_date
),

day_cards as (
    -- the card of the tenant's currency in effect on each usage day (null: none)
    select d.*, k.cost_card_id
    from usage_days as d
    inner join totals as t on t.month = d.month and t.tenant_id = d.tenant_id
    left join cost_cards as k
        on k.currency = t.currency
        and cast(d.usage_date as timestamp) >= k.valid_from
        and (k.valid_to is null or cast(d.usage_date as timestamp) < k.valid_to)
),

day_costs as (
    -- one cost line per day, product and kind: the exact dimension before '*'
    select d.month, d.tenant_id, d.product, r.kind, r.per, d.cost_card_id,
        cast(d.quantity as decimal(24, 9)) * cast(r.unit_cost as decimal(13, 9)) as cost_exact
    from day_cards as d
    inner join cost_rates as r
        on r.cost_card_id = d.cost_card_id and r.product = d.product
        and r.dimension in (d.dimension, '*')
    qualify row_number() over (
        partition by d.month, d.tenant_id, d.product, d.dimension, d.usage_date, r.kind
        order by r.dimension = '*'
    ) = 1
),

kind_costs as (
    select c.month, c.tenant_id, c.product, c.kind,
        -- exact sum ÷ the billing divisor, in nano units (integers: no DOUBLE), truncated
        sum(cast(cast(c.cost_exact * 1000000000 as hugeint)
            // (case when p.billing_basis = 'month' then h.hours_in_month
                     when p.billing_basis = 'count' then c.per else 1 end) as decimal(38, 0))
        ) * 0.000000001 as cost_nano
    from day_costs as c
    inner join products as p on p.product = c.product
    inner join hours as h on h.month = c.month
    group by c.month, c.tenant_id, c.product, c.kind
),

costs as (
    select month, tenant_id, product,
        cast(round(coalesce(sum(cost_nano) filter (where kind = 'licence'), 0), 2)
            as decimal(18, 2)) as licence_cost_amount,
        cast(round(coalesce(sum(cost_nano) filter (where kind = 'infrastructure'), 0), 2)
            as decimal(18, 2)) as infrastructure_cost_amount
    from kind_costs
    group by month, tenant_id, product
),

coverage as (
    select month, tenant_id, product,
        bool_and(cost_card_id is not null) as costed,
        string_agg(distinct cost_card_id, ', ' order by cost_card_id) as cost_card_ids
    from day_cards
    group by month, tenant_id, product
),

revenue as (
    select month, tenant_id, product, sum(list_amount) as revenue_amount
    from lines
    group by month, tenant_id, product
    union all
    select month, tenant_id, '(discount and minimum)',
        discount_amount + minimum_adjustment
    from totals
    where discount_amount + minimum_adjustment <> 0
),

keys as (
    select month, tenant_id, product from revenue
    union
    select month, tenant_id, product from coverage
)

select
    k.month, k.tenant_id, t.tenant_name, t.currency, k.product,
    cast(coalesce(r.revenue_amount, 0) as decimal(18, 2)) as revenue_amount,
    coalesce(c.licence_cost_amount, 0.00) as licence_cost_amount,
    coalesce(c.infrastructure_cost_amount, 0.00) as infrastructure_cost_amount,
    cast(coalesce(c.licence_cost_amount, 0) + coalesce(c.infrastructure_cost_amount, 0)
        as decimal(18, 2)) as cost_amount,
    cast(coalesce(r.revenue_amount, 0) - coalesce(c.licence_cost_amount, 0)
        - coalesce(c.infrastructure_cost_amount, 0) as decimal(18, 2)) as margin_amount,
    coalesce(v.costed, true) as costed,
    v.cost_card_ids
from keys as k
inner join totals as t on t.month = k.month and t.tenant_id = k.tenant_id
left join revenue as r on r.month = k.month and r.tenant_id = k.tenant_id and r.product = k.product
left join costs as c on c.month = k.month and c.tenant_id = k.tenant_id and c.product = k.product
left join coverage as v
    on v.month = k.month and v.tenant_id = k.tenant_id and v.product = k.product
order by k.month, k.tenant_id, k.product = '(discount and minimum)', k.product
