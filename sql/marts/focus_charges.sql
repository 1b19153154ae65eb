-- focus_charges: every charge of a month's issued documents as FOCUS 1.2 rows.
-- grain: one row per document line and resource (a line's rounded amount is split over the
--   resources of its site/product/dimension that its rate card priced, in proportion to their
--   unrounded list amounts under that card, exactly to the minor unit by largest remainder,
--   in integers: no decimal division), plus one row per document for its discount, minimum
--   adjustment and tax when not zero. A resource with no usage in a card's period gets no
--   share of that card's line. (A body frozen before usage rows named their card has none:
--   its lines split over the resources of their site/product/dimension, as then.)
-- x_FilledHours: the resource-hours of the row the fill policy carried (estimated;
--   docs/metering-rules.md); the line's own count on a row that is the whole line.
-- reads: close_documents (one row per issued/credited document; body = its frozen JSON),
-- feeds: metering.reports.focus (Parquet + CSV).
-- invariant: sum(BilledCost) per InvoiceId = the document's total_amount (audited in tests).
with services as (
    -- one FOCUS service per (product, DSE kind): ServiceName → exactly one ServiceCategory and
    -- ServiceSubcategory (validator ServiceName-C-005-C/-C-008-C); units in FOCUS UnitFormat
    -- (<singular>-<plural> for compounds, `<n> <plural>` for a unit quantity). `per_unit` is
    -- the unit of a price quoted per N (`1000 Requests`), with its N put in front.
    select * from (values
        ('vcpu', null, 'Compute', 'Compute', 'Virtual Machines', 'vCPU-Hours'),
        ('ram', null, 'Compute', 'Compute', 'Virtual Machines', 'GiB-Hours'),
        ('vm_disk', null, 'Storage', 'Storage', 'Block Storage', 'GB-Months'),
        ('independent_disk', null, 'Storage', 'Storage', 'Block Storage', 'GB-Months'),
        ('vm_snapshot', null, 'Storage', 'Storage', 'Block Storage', 'GB-Months'),
        ('tkg_cluster', null, 'TKG', 'Compute', 'Containers', 'Cluster-Hours'),
        ('object_storage', null, 'Object storage', 'Storage', 'Object Storage', 'GB-Months'),
        ('object_requests', null, 'Object storage', 'Storage', 'Object Storage', 'Requests'),
        ('object_transfer', null, 'Object storage', 'Storage', 'Object Storage', 'GB'),
        ('alp_instance', null, 'ALP', 'Compute', 'Containers', 'Instance-Hours'),
        ('dse_core', 'rabbitmq', 'DSE RabbitMQ', 'Integration', 'Messaging', 'Core-Hours'),
        ('dse_core', 'postgres', 'DSE PostgreSQL', 'Databases', 'Relational Databases',
            'Core-Hours'),
        ('dse_core', 'mysql', 'DSE MySQL', 'Databases', 'Relational Databases', 'Core-Hours'),
        ('vdc_cpu', null, 'Org VDC', 'Compute', 'Virtual Machines', 'GHz-Hours'),
        ('vdc_ram', null, 'Org VDC', 'Compute', 'Virtual Machines', 'GiB-Hours'),
        ('os_licence', null, 'Licences', 'Compute', 'Virtual Machines', 'vCPU-Hours'),
        ('os_licence_vm', null, 'Licences', 'Compute', 'Virtual Machines', 'VM-Months'),
        ('catalog_media', null, 'Catalog storage', 'Storage', 'Block Storage', 'GB-Months'),
        ('edge_gateway', null, 'Edge gateways', 'Networking', 'Network Routing',
            'Gateway-Hours'),
        ('edge_gateway_month', null, 'Edge gateways', 'Networking', 'Network Routing',
            'Gateway-Months'),
        ('public_ip', null, 'Public IP addresses', 'Networking', 'Network Connectivity',
            'IP-Hours'),
        ('public_ip_month', null, 'Public IP addresses', 'Networking', 'Network Connectivity',
            'IP-Months'),
        ('vapp_template', null, 'Catalog storage', 'Storage', 'Block Storage', 'GB-Months'),
        ('fixed_fee', null, 'Fees', 'Other', 'Other (Other)', 'Months')
    ) as s (product, kind, service_name, category, subcategory, unit)
),

docs as (
    select
        *,
        coalesce(credits_number, number) as usage_number
    from close_documents
),

lines as (
    select
        number,
        usage_number,
        minor_scale,
        minor_factor,
        unnest(from_json(json_extract(body, '$.lines'),
            '[{"line_no": "INTEGER", "service": "VARCHAR", "product": "VARCHAR",
               "dimension": "VARCHAR", "site": "VARCHAR", "description": "VARCHAR",
               "quantity": "VARCHAR", "unit": "VARCHAR", "unit_price": "VARCHAR",
               "rate_card_id": "VARCHAR", "price_from": "VARCHAR", "price_to": "VARCHAR",
               "list_amount": "VARCHAR", "estimated": "BOOLEAN",
               "filled_hours": "VARCHAR"}]'), recursive := true)
    from docs
),

usage as (
    select
        number as usage_number,
        unnest(from_json(json_extract(body, '$.usage'),
            '[{"site": "VARCHAR", "resource_id": "VARCHAR", "resource_name": "VARCHAR",
               "product": "VARCHAR", "dimension": "VARCHAR", "list_amount": "VARCHAR",
               "rate_card_id": "VARCHAR", "filled_hours": "VARCHAR"}]'),
            recursive := true)
    from docs
    where kind = 'invoice'
),

weights as (
    select
        usage_number,
        site,
        product,
        dimension,
        resource_id,
        resource_name,
        rate_card_id,
        cast(coalesce(filled_hours, '0') as decimal(38, 9)) as filled_hours,
        cast(abs(cast(list_amount as decimal(38, 9))) * 1000000000 as hugeint) as w
    from usage
    where cast(list_amount as decimal(38, 9)) <> 0
),

line_units as (
    select
        l.*,
        cast(cast(l.list_amount as decimal(18, 2)) * l.minor_scale as hugeint) as units,
        cast(cast(l.quantity as decimal(38, 9)) * 1000000000 as hugeint) as qty_nano,
        -- a price quoted per N units says so in front of its unit ("1,000 requests")
        coalesce(cast(nullif(regexp_replace(
            regexp_extract(l.unit, '^([0-9][0-9,.]*) ', 1), '[^0-9]', '', 'g'), '') as bigint), 1)
            as unit_count
    from lines as l
),

joined as (
    select
        c.*,
        w.resource_id,
        w.resource_name,
        w.filled_hours as resource_filled_hours,
        w.w,
        sum(w.w) over (partition by c.number, c.line_no) as wsum
    from line_units as c
    left join weights as w
        on
            c.usage_number = w.usage_number
            and c.site = w.site
            and c.product = w.product
            and c.dimension = w.dimension
            and (w.rate_card_id is null or w.rate_card_id = c.rate_card_id)
),

split as (
    select
        *,
        case when wsum > 0 then abs(units) * w // wsum else abs(units) end as base_units,
        case when wsum > 0 then abs(units) * w % wsum else 0 end as remainder
    from joined
),

ranked as (
    select
        *,
        abs(units) - sum(base_units) over (partition by number, line_no) as leftover,
        row_number() over (
            partition by number, line_no order by remainder desc, resource_id
        ) as rn
    from split
),

usage_rows as (
    select
        number,
        'Usage' as charge_category,
        service,
        product,
        dimension,
        site,
        resource_id,
        resource_name,
        description,
        unit,
        unit_count,
        cast(unit_price as decimal(18, 9)) as unit_price,
        rate_card_id,
        cast(
            cast(sign(units) * (base_units + case when rn <= leftover then 1 else 0 end)
                as decimal(18, 0)) * minor_factor as decimal(18, 2)
        ) as billed_cost,
        cast(
            cast(case when wsum > 0 then qty_nano * w // wsum else qty_nano end as decimal(38, 0))
            * 0.000000001 as decimal(38, 9)
        ) as quantity,
        cast(
            case when wsum > 0 then resource_filled_hours
            else coalesce(cast(filled_hours as decimal(38, 9)), 0) end as decimal(38, 9)
        ) as filled_hours,
        line_no
    from ranked
),

totals as (
    select
        number,
        cast(json_extract_string(body, '$.totals.lines_amount') as decimal(18, 2)) as lines_amount,
        cast(json_extract_string(body, '$.totals.minimum_adjustment') as decimal(18, 2))
            as minimum_adjustment,
        cast(json_extract_string(body, '$.totals.subtotal_amount') as decimal(18, 2))
            as subtotal_amount,
        cast(json_extract_string(body, '$.totals.tax_amount') as decimal(18, 2)) as tax_amount,
        json_extract_string(body, '$.totals.tax_rate') as tax_rate
    from docs
),

invoice_rows as (
    select
        number,
        'Credit' as charge_category,
        'Plan discount' as description,
        subtotal_amount - lines_amount - minimum_adjustment as billed_cost
    from totals
    union all
    select
        number,
        'Adjustment' as charge_category,
        'Minimum monthly commitment adjustment' as description,
        minimum_adjustment as billed_cost
    from totals
    union all
    select
        number,
        'Tax' as charge_category,
        'Tax at ' || tax_rate || ' of the subtotal' as description,
        tax_amount as billed_cost
    from totals
),

charges as (
    select * from usage_rows
    union all
    select
        number,
        charge_category,
        null as service,
        null as product,
        null as dimension,
        null as site,
        null as resource_id,
        null as resource_name,
        description,
        null as unit,
        null as unit_count,
        null as unit_price,
        null as rate_card_id,
        billed_cost,
        null as quantity,
        null as filled_hours,
        null as line_no
    from invoice_rows
    where billed_cost <> 0
)

select
    cast(c.billed_cost as decimal(18, 2)) as "BilledCost",
    d.tenant_id as "BillingAccountId",
    d.tenant_name_ascii as "BillingAccountName",
    'Tenant' as "BillingAccountType",
    d.currency as "BillingCurrency",
    d.period_end as "BillingPeriodEnd",
    d.period_start as "BillingPeriodStart",
    c.charge_category as "ChargeCategory",
    case when d.is_correction then 'Correction' end as "ChargeClass",
    c.description as "ChargeDescription",
    case when c.charge_category = 'Usage' then 'Usage-Based' else 'Recurring' end
        as "ChargeFrequency",
    d.period_end as "ChargePeriodEnd",
    d.period_start as "ChargePeriodStart",
    cast(case when c.charge_category = 'Usage' then c.billed_cost else 0 end as decimal(18, 2))
        as "ContractedCost",
    c.unit_price as "ContractedUnitPrice",
    cast(c.quantity * c.unit_count as decimal(38, 9)) as "ConsumedQuantity",
    case when c.charge_category = 'Usage' then coalesce(su.unit, c.unit) end as "ConsumedUnit",
    cast(c.billed_cost as decimal(18, 2)) as "EffectiveCost",
    d.number as "InvoiceId",
    d.issuer_name as "InvoiceIssuerName",
    cast(case when c.charge_category = 'Usage' then c.billed_cost else 0 end as decimal(18, 2))
        as "ListCost",
    c.unit_price as "ListUnitPrice",
    case when c.charge_category = 'Usage' then 'Standard' end as "PricingCategory",
    c.quantity as "PricingQuantity",
    case
        when c.charge_category <> 'Usage' then null
        when su.unit is null then c.unit
        when c.unit_count > 1 then cast(c.unit_count as varchar) || ' ' || su.unit
        else su.unit
    end as "PricingUnit",
    d.issuer_name as "ProviderName",
    d.issuer_name as "PublisherName",
    -- FOCUS 1.3's replacements of ProviderName / PublisherName, ahead of time: the provider
    -- runs the VCD sites it sells, so it is service and host provider; a fee, discount,
    -- adjustment or tax runs on no infrastructure ("Not Applicable", as 1.3 says)
    d.issuer_name as "ServiceProviderName",
    case
        when c.charge_category = 'Usage' and c.product <> 'fixed_fee' then d.issuer_name
        else 'Not Applicable'
    end as "HostProviderName",
    d.region_id as "RegionId",
    d.region_id as "RegionName",
    c.site as "AvailabilityZone",
    c.resource_id as "ResourceId",
    -- FOCUS StringHandling: ASCII only. A resource named after its org (an Org VDC such as
    -- 'Café Müller-vdc') loses its accents, then any other non-ASCII character; nothing left:
    -- its id
    case when c.resource_name is not null then coalesce(
        nullif(trim(regexp_replace(strip_accents(c.resource_name), '[^ -~]', '', 'g')), ''),
        c.resource_id
    ) end as "ResourceName",
    case when c.resource_id is not null then c.product end as "ResourceType",
    coalesce(sv.category, 'Other') as "ServiceCategory",
    coalesce(
        sv.service_name,
        case when c.product = 'dse_core' then 'DSE ' || c.dimension end,
        c.service,
        c.charge_category
    ) as "ServiceName",
    coalesce(sv.subcategory, 'Other (Other)') as "ServiceSubcategory",
    case when c.product is not null then c.product || ':' || coalesce(c.dimension, '') end
        as "SkuId",
    -- a rate card prices many SKUs: its id alone would name several (SkuPriceId-C-008-M)
    case when c.rate_card_id is not null then
        c.rate_card_id || '/' || c.product || ':' || coalesce(c.dimension, '')
    end as "SkuPriceId",
    case when c.site is not null then d.tenant_id || '@' || c.site end as "SubAccountId",
    case when c.site is not null then d.tenant_name_ascii || ' (' || c.site || ')' end
        as "SubAccountName",
    case when c.site is not null then 'VCD organization' end as "SubAccountType",
    json_object('tenant_id', d.tenant_id, 'document_kind', d.kind, 'month', d.month)
        as "Tags",
    case
        when c.product in (
            'vm_disk', 'independent_disk', 'vm_snapshot', 'object_storage', 'catalog_media',
            'vapp_template'
        )
            then c.dimension
    end as "x_StoragePolicy",
    case when c.product in ('vm_disk', 'object_storage') then p.replication_factor end
        as "x_ReplicationFactor",
    d.kind as "x_DocumentKind",
    d.tenant_name as "x_BillingAccountNameUnicode",
    c.filled_hours as "x_FilledHours"
from charges as c
inner join docs as d on c.number = d.number
left join storage_policy_factors as p on c.dimension = p.policy_name
left join services as sv on c.product = sv.product and (sv.kind is null or sv.kind = c.dimension)
-- a product's unit whatever its kind (a DSE kind not listed above has its unit too)
left join (select distinct product, unit from services) as su on c.product = su.product
-- line_no last: a resource billed on two lines of one document (a price that changed within
-- the month) gets its rows in line order, not in whatever order the join produced them
order by d.number, c.charge_category desc, c.site, c.product, c.dimension, c.resource_id, c.line_no
