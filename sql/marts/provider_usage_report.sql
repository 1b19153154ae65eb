-- provider_usage_report: the month-end usage report for the commerce portal (long format).
-- grain: one row per site × tenant × product × dimension × metric; site '*' rows are the
--   tenant's total over all sites, and tenant '*' rows the provider's total (per site and '*').
-- reads: rated_usage and unrated_usage (every metered quantity, priced or not), report_node_clusters (TKG node VM →
--   cluster id, from usage_intervals), report_ose_stats
--   (objects, buckets, users per site and tenant at the month's last sample), report_params
--   (hours_in_month, dse_vcpus_per_core).
-- feeds: metering.reports.provider (CSV, HTML, PDF).
-- storage (VM disks, independent disks, VM snapshots and catalog media per policy, object
--   storage per policy) is also given as average_gb (independent disks and snapshotted VMs
--   counted per policy, catalog media as `items`, vApp templates' VMs as `template_vms`), and
--   VM memory as average_vram_gb (all VMs, and TKG node VMs: tkg_node_average_vram_gb), the
--   unit of vCloud Usage Meter's vRAM lines (docs/reports.md). Per-cluster rows are keyed
--   by the cluster's id (its RDE id), never its name: two tenants' `k8s-prod` stay two rows.
-- rules (the seed paper's): every VM counts, TKG nodes included (also shown per cluster);
--   ALP instances are reported per app (no licence cost); guest-OS licences per family as
--   vCPU-hours, VM-hours and licensed VMs; edge gateways as gateway-hours and gateways
--   listed, public IPs as IP-hours and the month's average allocated IPs; DSE cores = core-hours ÷ hours in
--   the month (core-hours from rating: vCPU limits of service containers ÷ the ratio), and the
--   reported cores are rounded UP once, at the total (never per tenant then summed).
--   Divisions are done in integers (nano units) so no DOUBLE enters the report.
with params as (
    select
        cast(hours_in_month as hugeint) as hours,
        dse_vcpus_per_core
    from report_params
),

usage as (
    -- all metered usage: rated, and unrated (no price or no tenant) which is still reported
    select u.site, u.tenant_id, u.resource_id, u.product, u.dimension, u.unit, u.quantity
    from rated_usage as u
    union all
    select
        n.site, coalesce(n.tenant_id, 'unmapped:' || n.org_name) as tenant_id, n.resource_id,
        n.product, n.dimension, n.unit, n.quantity
    from unrated_usage as n
),

measures as (
    -- summed quantities per product (hours, GB-hours, requests ...)
    select site, tenant_id, product, dimension, product || '_quantity' as metric,
        sum(quantity) as quantity, min(unit) as unit
    from usage
    group by site, tenant_id, product, dimension
),

vm_counts as (
    select site, tenant_id, 'vm' as product, '' as dimension, 'vms' as metric,
        cast(count(distinct resource_id) as decimal(38, 9)) as quantity, 'VMs' as unit
    from usage
    where product in ('vcpu', 'ram', 'vm_disk')
    group by site, tenant_id
    union all
    select u.site, u.tenant_id, 'vm', '', 'tkg_node_vms',
        cast(count(distinct u.resource_id) as decimal(38, 9)), 'VMs'
    from usage as u
    inner join report_node_clusters as n on u.site = n.site and u.resource_id = n.resource_id
    where u.product in ('vcpu', 'ram', 'vm_disk')
    group by u.site, u.tenant_id
),

per_cluster as (
    select u.site, u.tenant_id, 'tkg_cluster' as product, n.cluster_id as dimension,
        'node_vms' as metric,
        cast(count(distinct u.resource_id) as decimal(38, 9)) as quantity, 'VMs' as unit
    from usage as u
    inner join report_node_clusters as n on u.site = n.site and u.resource_id = n.resource_id
    where u.product in ('vcpu', 'ram', 'vm_disk')
    group by u.site, u.tenant_id, n.cluster_id
    union all
    select u.site, u.tenant_id, 'tkg_cluster', n.cluster_id,
        'node_vcpu_hours', sum(u.quantity), min(u.unit)
    from usage as u
    inner join report_node_clusters as n on u.site = n.site and u.resource_id = n.resource_id
    where u.product = 'vcpu'
    group by u.site, u.tenant_id, n.cluster_id
    union all
    select u.site, u.tenant_id, 'vm', '', 'tkg_node_ram_quantity', sum(u.quantity), min(u.unit)
    from usage as u
    inner join report_node_clusters as n on u.site = n.site and u.resource_id = n.resource_id
    where u.product = 'ram'
    group by u.site, u.tenant_id
),

counts as (
    select site, tenant_id, 'tkg_cluster' as product, '' as dimension, 'clusters' as metric,
        cast(count(distinct resource_id) as decimal(38, 9)) as quantity, 'clusters' as unit
    from usage where product = 'tkg_cluster'
    group by site, tenant_id
    union all
    select site, tenant_id, 'alp_instance', dimension, 'instances',
        cast(count(distinct resource_id) as decimal(38, 9)), 'instances'
    from usage where product = 'alp_instance'
    group by site, tenant_id, dimension
    union all
    -- VMs whose guest OS needs a licence, per family (the per-VM licence rows name each VM)
    select site, tenant_id, 'os_licence_vm', dimension, 'licensed_vms',
        cast(count(distinct resource_id) as decimal(38, 9)), 'VMs'
    from usage where product = 'os_licence_vm'
    group by site, tenant_id, dimension
    union all
    -- independent disks per storage policy (each disk is its own resource)
    select site, tenant_id, 'independent_disk', dimension, 'disks',
        cast(count(distinct resource_id) as decimal(38, 9)), 'disks'
    from usage where product = 'independent_disk'
    group by site, tenant_id, dimension
    union all
    -- VMs with a snapshot per storage policy (the snapshot rows name each VM)
    select site, tenant_id, 'vm_snapshot', dimension, 'snapshotted_vms',
        cast(count(distinct resource_id) as decimal(38, 9)), 'VMs'
    from usage where product = 'vm_snapshot'
    group by site, tenant_id, dimension
    union all
    -- catalog items stored, per storage policy (each item once, under the org that owns it)
    select site, tenant_id, product, dimension, 'items',
        cast(count(distinct resource_id) as decimal(38, 9)), 'items'
    from usage where product = 'catalog_media'
    group by site, tenant_id, product, dimension
    union all
    -- edge gateways listed in the month (the per-hour rows name each gateway)
    select site, tenant_id, 'edge_gateway', '', 'gateways',
        cast(count(distinct resource_id) as decimal(38, 9)), 'gateways'
    from usage where product = 'edge_gateway'
    group by site, tenant_id
    union all
    -- VMs inside vApp templates, per storage policy (each template VM is its own resource)
    select site, tenant_id, 'vapp_template', dimension, 'template_vms',
        cast(count(distinct resource_id) as decimal(38, 9)), 'VMs'
    from usage where product = 'vapp_template'
    group by site, tenant_id, dimension
),

ose as (
    select site, tenant_id, 'object_storage' as product, '' as dimension, metric,
        cast(quantity as decimal(38, 9)) as quantity, unit
    from report_ose_stats
    unpivot (quantity for metric in (objects, buckets, users))
    cross join (select 'count' as unit)
),

per_site as (
    select * from measures
    union all select * from vm_counts
    union all select * from per_cluster
    union all select * from counts
    union all select * from ose
),

all_rows as (
    select site, tenant_id, product, dimension, metric, quantity, unit from per_site
    union all
    select '*', tenant_id, product, dimension, metric, sum(quantity), min(unit)
    from per_site group by tenant_id, product, dimension, metric
    union all
    select site, '*', product, dimension, metric, sum(quantity), min(unit)
    from per_site group by site, product, dimension, metric
    union all
    select '*', '*', product, dimension, metric, sum(quantity), min(unit)
    from per_site group by product, dimension, metric
),

dse_cores as (
    -- average cores over the month, exact to 1e-6, and the reported cores rounded up
    select
        r.site, r.tenant_id, r.product, r.dimension,
        cast(cast(r.quantity * 1000000 as hugeint) // p.hours as decimal(38, 0)) * 0.000001
            as average_cores,
        (cast(r.quantity * 1000000000 as hugeint) + p.hours * 1000000000 - 1)
            // (p.hours * 1000000000) as reported_cores
    from all_rows as r
    cross join params as p
    where r.product = 'dse_core' and r.metric = 'dse_core_quantity'
),

storage_gb as (
    -- storage as the month's average GB (GB-hours ÷ hours in the month), exact to 1e-6
    select
        r.site, r.tenant_id, r.product, r.dimension,
        cast(cast(r.quantity * 1000000 as hugeint) // p.hours as decimal(38, 0)) * 0.000001
            as average_gb
    from all_rows as r
    cross join params as p
    where r.product in (
        'vm_disk', 'independent_disk', 'vm_snapshot', 'object_storage', 'catalog_media',
        'vapp_template'
    )
        and r.metric = r.product || '_quantity'
),

average_ips as (
    -- public IPs as the month's average allocated (IP-hours ÷ hours in the month), exact to 1e-6
    select
        r.site, r.tenant_id, r.product, r.dimension,
        cast(cast(r.quantity * 1000000 as hugeint) // p.hours as decimal(38, 0)) * 0.000001
            as average_ips
    from all_rows as r
    cross join params as p
    where r.product = 'public_ip' and r.metric = 'public_ip_quantity'
),

vram_gb as (
    -- VM memory as the month's average GB of vRAM (GiB-hours ÷ hours), exact to 1e-6
    select
        r.site, r.tenant_id, 'vm' as product, '' as dimension,
        case when r.product = 'ram' then 'average_vram_gb'
            else 'tkg_node_average_vram_gb' end as metric,
        -- ram rows are per dimension (the Org VDC model billed on allocation, or ''): summed
        cast(cast(sum(r.quantity) * 1000000 as hugeint) // min(p.hours) as decimal(38, 0))
            * 0.000001 as average_gb
    from all_rows as r
    cross join params as p
    where (r.product = 'ram' and r.metric = 'ram_quantity')
        or (r.product = 'vm' and r.metric = 'tkg_node_ram_quantity')
    group by
        r.site, r.tenant_id,
        case when r.product = 'ram' then 'average_vram_gb' else 'tkg_node_average_vram_gb' end
)

select site, tenant_id, product, dimension, metric, quantity, unit
from all_rows
union all
select site, tenant_id, product, dimension, 'average_cores',
    cast(average_cores as decimal(38, 9)), 'cores'
from dse_cores
union all
select site, tenant_id, product, dimension, 'reported_cores',
    cast(reported_cores as decimal(38, 9)), 'cores'
from dse_cores
union all
select site, tenant_id, product, dimension, 'average_gb', cast(average_gb as decimal(38, 9)), 'GB'
from storage_gb
union all
select site, tenant_id, product, dimension, metric, cast(average_gb as decimal(38, 9)), 'GB'
from vram_gb
union all
select site, tenant_id, product, dimension, 'average_ips', cast(average_ips as decimal(38, 9)),
    'IPs'
from average_ips
order by site = '*', site, tenant_id = '*', tenant_id, product, dimension, metric
