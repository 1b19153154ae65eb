-- unmapped_orgs: orgs no tenant catalog entry names, with what they used; the close holds their
--   invoices as drafts without a number until the catalog maps the org.
-- grain: one row per month × unmapped org.
-- parameters: none (the warehouse's views `invoice_totals` and `rated_usage`).
-- feeds: the warehouse view `unmapped_orgs` (docs/data-dictionary.md).
with unmapped as (
    select month, tenant_id, currency, total_amount
    from invoice_totals
    where starts_with(tenant_id, 'unmapped:')
),

sites as (
    select month, tenant_id, list(distinct site order by site) as sites
    from rated_usage
    where starts_with(tenant_id, 'unmapped:')
    group by month, tenant_id
)

select
    u.month,
    substr(u.tenant_id, length('unmapped:') + 1) as org_name,
    u.tenant_id,
    s.sites,
    u.currency,
    u.total_amount,
    'held: a draft without a number until the tenant catalog maps the org' as status
from unmapped as u
left join sites as s on s.month = u.month and s.tenant_id = u.tenant_id
order by u.month, u.tenant_id
