-- invoice_totals: the rating's monthly totals per tenant with what the close made of them.
-- grain: one row per month × tenant (every catalog tenant, every unmapped org with usage).
-- parameters: none (the warehouse's raw views `lake.invoice_totals`, the rating output as
--   written, and `lake.documents`, the register's documents as the close writes them).
-- feeds: the warehouse view `invoice_totals` (docs/data-dictionary.md).
-- status: 'closed' once the month's close issued the tenant's invoice (`invoice_number`;
--   the issued figures are in `documents`), 'estimate' otherwise: the month is not closed
--   yet, or the tenant waits as a draft (an unmapped org, a gap the gate holds).
with issued as (
    select month, tenant_id, number
    from lake.documents
    where kind = 'invoice' and state = 'issued'
)

select
    t.*,
    case when i.number is null then 'estimate' else 'closed' end as status,
    i.number as invoice_number
from lake.invoice_totals as t
left join issued as i
    on i.tenant_id = t.tenant_id and i.month = strftime(t.month, '%Y-%m')
