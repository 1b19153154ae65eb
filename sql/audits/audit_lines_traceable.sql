-- audit_lines_traceable: usage invoice lines the lineage does not add up to, as an equality of
--   aggregates.
-- grain: one bad row per line group (tenant × product × dimension × site × rate card: a
--   per-unit line, or the bands of one tiered charge), or per charge key billed on no line.
-- parameters: none.
-- feeds: rate_month (any row fails the rating with RatingError).
-- invariant: each line group's usage_quantity = Σ quantity of the lineage rows it traces to by
--   the rule every reader of rated_usage uses (marts/rated_usage.sql, "line": the rows of its
--   tenant, product and rate card with the line's own site and dimension, else site '*' and
--   their dimension, else '*' and '*'), and every rated quantity is on a line.
-- how: on the aggregates: the lineage rows summed per charge key
--   (intermediate/int_charge_keys.sql, tens of thousands of rows), each key mapped to its line
--   group by that rule, the sums compared to the lines at the lines' scale (10^-9). Not one
--   pass over the 20.9 M rated rows.
with line_groups as (
    select
        tenant_id, product, dimension, site, rate_card_id,
        min(line_no) as line_no,
        min(usage_quantity) as usage_quantity,
        max(usage_quantity) as usage_quantity_max
    from invoice_lines
    where product <> 'fixed_fee'
    group by tenant_id, product, dimension, site, rate_card_id
),

candidates as (
    select
        k.tenant_id, k.product, k.dimension as key_dimension, k.site as key_site,
        k.rate_card_id, k.usage_quantity as key_quantity,
        g.dimension, g.site,
        row_number() over (
            partition by k.tenant_id, k.product, k.dimension, k.site, k.rate_card_id
            order by case when g.site = '*' then 1 else 0 end,
                case when g.dimension = '*' then 1 else 0 end
        ) as preference
    from int_charge_keys as k
    left join line_groups as g
        on g.tenant_id = k.tenant_id
        and g.product = k.product
        and g.rate_card_id = k.rate_card_id
        and (g.site = k.site or g.site = '*')
        and (g.dimension = k.dimension or g.dimension = '*')
),

traced as (
    select
        tenant_id, product, dimension, site, rate_card_id,
        cast(sum(key_quantity) as decimal(38, 9)) as traced_quantity
    from candidates
    where preference = 1 and site is not null
    group by tenant_id, product, dimension, site, rate_card_id
)

select
    g.tenant_id, g.line_no, g.product, g.dimension, g.site, g.rate_card_id,
    g.usage_quantity, t.traced_quantity
from line_groups as g
left join traced as t
    on t.tenant_id = g.tenant_id and t.product = g.product and t.dimension = g.dimension
    and t.site = g.site and t.rate_card_id = g.rate_card_id
where t.traced_quantity is null
    or t.traced_quantity <> g.usage_quantity
    or g.usage_quantity <> g.usage_quantity_max
union all
select
    tenant_id, cast(null as integer) as line_no, product, key_dimension as dimension,
    key_site as site, rate_card_id, cast(null as decimal(38, 9)) as usage_quantity,
    cast(key_quantity as decimal(38, 9)) as traced_quantity
from candidates
where preference = 1 and site is null and key_quantity <> 0
order by tenant_id, product, dimension, site, rate_card_id
