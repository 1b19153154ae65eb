-- invoice_usage_appendix: the usage behind every invoice line, for the invoice's CSV appendix.
-- grain: one row per tenant, site, resource, product, dimension, unit and rate card (the
--   month summed; a resource priced by two cards of the month has a row per card, so each
--   row traces to the lines of its card, and FOCUS splits a line over its card's resources).
-- reads: rated_usage, feeds: metering.close (frozen into each invoice's body).
-- list_amount stays unrounded: lines are rounded once, in invoice_lines.
-- filled_hours: the row's hours carried by the fill policy (docs/metering-rules.md).
with usage as (
    select
        tenant_id,
        site,
        resource_id,
        resource_name,
        product,
        dimension,
        unit,
        quantity,
        list_amount,
        usage_date,
        rate_card_id,
        coalesce(filled_hours, 0) as filled_hours
    from rated_usage
)

select
    tenant_id,
    site,
    resource_id,
    max(resource_name) as resource_name,
    product,
    dimension,
    unit,
    sum(quantity) as quantity,
    sum(list_amount) as list_amount,
    min(usage_date) as first_date,
    max(usage_date) as last_date,
    rate_card_id,
    sum(filled_hours) as filled_hours
from usage
group by tenant_id, site, resource_id, product, dimension, unit, rate_card_id
order by tenant_id, site, product, dimension, resource_id, rate_card_id
