-- invoice_lines: what each tenant is charged this month, one priced line per charge and band.
-- grain: one row per tenant × product × dimension × site × rate card × tier band, plus one
--   row per fixed monthly fee.
-- parameters: view `rating_params` (month, month_start, month_end).
-- feeds: marts/invoice_totals.sql, the close (invoices, reports), the warehouse view
--   `invoice_lines`, audits/audit_totals_equal_lines.sql.
-- rules (docs/metering-rules.md): list_amount = quantity × unit_price rounded half-up to the
--   currency's minor unit, once per line; traceable to usage by tenant_id, product,
--   dimension, site ('*' = all sites) and rate_card_id / price_from / price_to in rated_usage.
-- estimated (docs/metering-rules.md, fill policy): the line's usage has filled hours, the
--   hours carried from a resource's last known state over missed collection instants
--   (filled_hours, in resource-hours; the bands of one tiered period share its usage and its
--   count). Nothing else makes a line estimated: a day with no intervals is not billed at all.
with params as (
    select month, month_start, month_end from rating_params
),

fmt as (
    select
        b.*,
        rtrim(rtrim(cast(b.tier_lower as varchar), '0'), '.') as lower_text,
        rtrim(rtrim(cast(b.tier_upper as varchar), '0'), '.') as upper_text,
        rtrim(rtrim(cast(b.month_total as varchar), '0'), '.') as total_text
    from int_charge_bands as b
),

usage_lines as (
    select
        f.tenant_id, pr.service, f.product, f.line_dimension as dimension, f.line_site as site,
        pr.label
            || case when f.line_dimension in ('', '*') then '' else ' ' || f.line_dimension end
            || case when f.line_site = '*' then '' else ' (' || f.line_site || ')' end
            as description,
        f.band_quantity as quantity,
        case when f.per = 1000 then '1,000 ' || f.billing_unit || 's' else f.billing_unit end
            as unit,
        f.unit_price, f.rate_card_id, f.price_from, f.price_to, f.tier_no,
        case f.model
            when 'per_unit' then coalesce(f.derived_from, '')
            when 'graduated' then 'graduated tier ' || cast(f.tier_no as varchar) || ': '
                || f.lower_text || '–' || coalesce(f.upper_text, '∞')
            else 'volume tier ' || cast(f.tier_no as varchar) || ': '
                || f.lower_text || '–' || coalesce(f.upper_text, '∞')
                || ' (month total ' || f.total_text || ')'
        end as tier_detail,
        cast(cast(f.band_quantity as decimal(19, 9)) * f.unit_price as decimal(38, 18))
            as amount_exact,
        f.currency, f.usage_quantity, pr.usage_unit, f.filled_hours
    from fmt as f
    inner join products as pr on pr.product = f.product
),

fee_cards as (
    select
        t.tenant_id, c.rate_card_id, c.valid_from,
        row_number() over (partition by t.tenant_id order by c.valid_from) as card_rank
    from int_tenants as t
    inner join rate_cards as c on c.policy = t.plan
    cross join params as p
    where c.valid_from < p.month_end
        and (c.valid_to is null or c.valid_to > p.month_start)
),

fee_lines as (
    select
        fc.tenant_id, 'Fees' as service, 'fixed_fee' as product, f.fee_id as dimension,
        '*' as site, f.description, cast(1 as decimal(38, 9)) as quantity, 'month' as unit,
        cast(f.amount as decimal(18, 9)) as unit_price, fc.rate_card_id,
        p.month_start as price_from, p.month_end as price_to, 1 as tier_no,
        'fixed monthly fee' as tier_detail, cast(f.amount as decimal(38, 18)) as amount_exact,
        c.currency, cast(1 as decimal(38, 18)) as usage_quantity, 'month' as usage_unit,
        cast(0 as decimal(28, 9)) as filled_hours
    from fee_cards as fc
    inner join fixed_fees as f on f.rate_card_id = fc.rate_card_id
    inner join rate_cards as c on c.rate_card_id = fc.rate_card_id
    cross join params as p
    where fc.card_rank = 1
),

all_lines as (
    select * from usage_lines
    union all
    select * from fee_lines
)

select
    p.month,
    l.tenant_id,
    cast(row_number() over (
        partition by l.tenant_id
        order by l.service, l.product, l.dimension, l.site, l.price_from, l.tier_no
    ) as integer) as line_no,
    l.service, l.product, l.dimension, l.site, l.description,
    cast(l.quantity as decimal(38, 9)) as quantity,
    l.unit,
    cast(l.unit_price as decimal(18, 9)) as unit_price,
    l.rate_card_id, l.price_from, l.price_to, l.tier_detail,
    case
        when t.minor_unit = 0 then cast(round(l.amount_exact, 0) as decimal(18, 2))
        else cast(round(l.amount_exact, 2) as decimal(18, 2))
    end as list_amount,
    l.filled_hours > 0 as estimated,
    l.currency,
    cast(l.usage_quantity as decimal(38, 9)) as usage_quantity,
    l.usage_unit,
    cast(l.tier_no as integer) as tier_no,
    cast(l.filled_hours as decimal(38, 9)) as filled_hours
from all_lines as l
inner join int_tenants as t on t.tenant_id = l.tenant_id
cross join params as p
order by l.tenant_id, line_no
