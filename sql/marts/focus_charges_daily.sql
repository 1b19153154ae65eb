-- focus_charges_daily: the FOCUS rows of focus_charges.sql with each usage row split per day
--   (`[invoicing] focus_period = "day"`, `metering close --focus-period day`).
-- grain: one row per usage row of focus_charges and day its resource was rated under that
--   row's rate card (ChargePeriodStart/End = that day, [00:00, 24:00) UTC); the row's amount is
--   split over its days in proportion to the day's quantity in rated_usage (the lineage: a
--   row is one resource under one card, so its days' quantities are what its amount is for),
--   exactly to the document's minor unit (largest remainder, integers: no decimal division),
--   and so are PricingQuantity and ConsumedQuantity (to 1e-9). A row with no rated day (a
--   fixed fee, discount, adjustment or tax, a line no resource carried) stays a whole-month row.
-- x_FilledHours: that day's filled hours of the resource under the card (rated_usage).
-- reads: focus_month_rows (focus_charges.sql's rows for a batch of documents),
--   close_documents (the documents' minor units), focus_daily_weights (the month's
--   rated_usage: tenant_id, site, resource_id, product, dimension, rate_card_id, usage_date,
--   quantity, filled_hours).
-- feeds: metering.reports.focus (Parquet + CSV).
-- invariant: per source row, the days' BilledCost sum to the row's: sum(BilledCost) per
--   InvoiceId is still the document's total (tested).
with month_rows as (
    select * from focus_month_rows  -- row_id: the row's place in focus_charges' order
),

days as (
    select
        tenant_id,
        site,
        resource_id,
        product || ':' || coalesce(dimension, '') as sku_id,
        rate_card_id,
        usage_date,
        cast(sum(abs(quantity)) * 1000000000 as hugeint) as w,
        sum(filled_hours) as filled_hours
    from focus_daily_weights
    group by tenant_id, site, resource_id, product, dimension, rate_card_id, usage_date
),

joined as (
    select
        m.row_id,
        d.usage_date,
        d.w,
        d.filled_hours,
        sum(d.w) over (partition by m.row_id) as wsum,
        cast(m."BilledCost" * c.minor_scale as hugeint) as units,
        cast(m."PricingQuantity" * 1000000000 as hugeint) as pricing_nano,
        cast(m."ConsumedQuantity" * 1000000000 as hugeint) as consumed_nano,
        c.minor_factor
    from month_rows as m
    inner join close_documents as c on m."InvoiceId" = c.number
    inner join days as d
        on
            m."BillingAccountId" = d.tenant_id
            and m."AvailabilityZone" = d.site
            and m."ResourceId" = d.resource_id
            and m."SkuId" = d.sku_id
            -- usage rated before rows named their card has none: all its days (as the month)
            and (d.rate_card_id is null or m."SkuPriceId" = d.rate_card_id || '/' || d.sku_id)
    where m."ChargeCategory" = 'Usage' and d.w > 0
),

shares as (
    select
        *,
        abs(units) * w // wsum as units_base,
        abs(units) * w % wsum as units_rem,
        abs(pricing_nano) * w // wsum as pricing_base,
        abs(pricing_nano) * w % wsum as pricing_rem,
        abs(consumed_nano) * w // wsum as consumed_base,
        abs(consumed_nano) * w % wsum as consumed_rem
    from joined
),

ranked as (
    select
        *,
        abs(units) - sum(units_base) over (partition by row_id) as units_left,
        abs(pricing_nano) - sum(pricing_base) over (partition by row_id) as pricing_left,
        abs(consumed_nano) - sum(consumed_base) over (partition by row_id) as consumed_left,
        row_number() over (partition by row_id order by units_rem desc, usage_date) as units_rn,
        row_number() over (partition by row_id order by pricing_rem desc, usage_date)
            as pricing_rn,
        row_number() over (partition by row_id order by consumed_rem desc, usage_date)
            as consumed_rn
    from shares
),

day_parts as (
    select
        row_id,
        usage_date,
        filled_hours,
        cast(
            cast(sign(units) * (units_base + case when units_rn <= units_left then 1 else 0 end)
                as decimal(18, 0)) * minor_factor as decimal(18, 2)
        ) as cost,
        cast(
            cast(sign(pricing_nano)
                * (pricing_base + case when pricing_rn <= pricing_left then 1 else 0 end)
                as decimal(38, 0)) * 0.000000001 as decimal(38, 9)
        ) as pricing_quantity,
        cast(
            cast(sign(consumed_nano)
                * (consumed_base + case when consumed_rn <= consumed_left then 1 else 0 end)
                as decimal(38, 0)) * 0.000000001 as decimal(38, 9)
        ) as consumed_quantity
    from ranked
),

split_rows as (
    select
        m.* replace (
            p.cost as "BilledCost",
            p.cost as "ListCost",
            p.cost as "ContractedCost",
            p.cost as "EffectiveCost",
            p.pricing_quantity as "PricingQuantity",
            p.consumed_quantity as "ConsumedQuantity",
            timezone('UTC', cast(p.usage_date as timestamp)) as "ChargePeriodStart",
            timezone('UTC', cast(p.usage_date + 1 as timestamp)) as "ChargePeriodEnd",
            cast(coalesce(p.filled_hours, 0) as decimal(38, 9)) as "x_FilledHours"
        ),
        p.usage_date as split_date
    from month_rows as m
    inner join day_parts as p on m.row_id = p.row_id
),

whole_rows as (
    select
        *,
        null as split_date
    from month_rows
    where row_id not in (select row_id from day_parts)
)

select * exclude (row_id, split_date)
from (
    select * from split_rows
    union all by name
    select * from whole_rows
)
order by row_id, split_date
