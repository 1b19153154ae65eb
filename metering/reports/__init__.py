"""Rendering of the documents in ``reports/``: invoices and credit notes (PDF + usage CSV),
the provider usage report (CSV, HTML, PDF), tenant showback (HTML) and the FOCUS export."""
