-- documents: the invoices and credit notes the close numbered, as the register holds them.
-- grain: one row per numbered document (drafts have no number and are not listed).
-- parameters: none (the warehouse's raw view `lake.documents`, which the close writes to
--   <lake>/close/documents/month=YYYY-MM/part.parquet from the register).
-- feeds: the warehouse view `documents` (docs/data-dictionary.md).
select
    cast(month || '-01' as date) as month,
    number,
    kind,
    state,
    tenant_id,
    tenant_name,
    currency,
    subtotal_amount,
    tax_amount,
    total_amount,
    issued_at,
    credits_number,
    replaces_number,
    content_hash,
    accepted_gaps,
    einvoice
from lake.documents
