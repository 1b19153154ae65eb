-- invoice_totals: one row per tenant and month: lines, discount, minimum, subtotal, tax, total.
-- grain: one row per tenant (every catalog tenant, and every unmapped org with usage).
-- parameters: view `rating_params` (month, month_start, month_end).
-- feeds: the close (invoice headers), the warehouse view `invoice_totals`,
--   audits/audit_totals_equal_lines.sql.
-- rules (domain.md example 7): lines_amount = Σ rounded lines; discount_amount =
--   −round(lines_amount × discount %) (negative); minimum_adjustment lifts the net to the
--   tenant's commitment (or the plan's minimum monthly charge); subtotal = lines + discount +
--   minimum; tax = round(subtotal × tax_rate) once; total = subtotal + tax.
with params as (
    select month, month_start, month_end from rating_params
),

lines as (
    select tenant_id, sum(list_amount) as lines_amount
    from invoice_lines
    group by tenant_id
),

plan_minimum as (
    select tenant_id, minimum_monthly_charge
    from (
        select
            t.tenant_id, c.minimum_monthly_charge,
            row_number() over (partition by t.tenant_id order by c.valid_from) as card_rank
        from int_tenants as t
        inner join rate_cards as c on c.policy = t.plan
        cross join params as p
        where c.valid_from < p.month_end
            and (c.valid_to is null or c.valid_to > p.month_start)
    ) as ranked
    where card_rank = 1
),

base as (
    select
        t.tenant_id, t.tenant_name, t.currency, t.minor_unit, t.tax_rate, t.discount_rate,
        cast(coalesce(l.lines_amount, 0) as decimal(18, 2)) as lines_amount,
        case
            when t.minimum_monthly_commitment > 0 then t.minimum_monthly_commitment
            else coalesce(m.minimum_monthly_charge, cast(0 as decimal(18, 2)))
        end as minimum_amount
    from int_tenants as t
    left join lines as l on l.tenant_id = t.tenant_id
    left join plan_minimum as m on m.tenant_id = t.tenant_id
),

discounted as (
    select
        *,
        -(case
            when minor_unit = 0 then cast(
                round(cast(lines_amount as decimal(19, 2)) * discount_rate, 0) as decimal(18, 2))
            else cast(
                round(cast(lines_amount as decimal(19, 2)) * discount_rate, 2) as decimal(18, 2))
        end) as discount_amount
    from base
),

minimum as (
    select
        *,
        cast(greatest(cast(0 as decimal(18, 2)), minimum_amount - (lines_amount + discount_amount))
            as decimal(18, 2)) as minimum_adjustment
    from discounted
),

subtotal as (
    select *, cast(lines_amount + discount_amount + minimum_adjustment as decimal(18, 2))
        as subtotal_amount
    from minimum
),

taxed as (
    select
        *,
        case
            when minor_unit = 0 then cast(
                round(cast(subtotal_amount as decimal(19, 2)) * tax_rate, 0) as decimal(18, 2))
            else cast(
                round(cast(subtotal_amount as decimal(19, 2)) * tax_rate, 2) as decimal(18, 2))
        end as tax_amount
    from subtotal
)

select
    p.month, s.tenant_id, s.tenant_name, s.currency, s.lines_amount, s.discount_amount,
    s.minimum_adjustment, s.subtotal_amount,
    cast(s.tax_rate as decimal(9, 6)) as tax_rate,
    s.tax_amount,
    cast(s.subtotal_amount + s.tax_amount as decimal(18, 2)) as total_amount
from taxed as s
cross join params as p
order by s.tenant_id
