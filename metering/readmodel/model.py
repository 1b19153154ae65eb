"""The read model's facade (see the package docstring)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from metering import tomlfile
from metering.close.rendering import document_paths, ubl_path
from metering.close.settings import InvoicingSettings, load_settings
from metering.config import ProviderConfig
from metering.errors import ConfigError
from metering.readmodel import usage
from metering.readmodel.documents import DocumentIndex, MonthDocuments
from metering.readmodel.margin import MarginCache, Margins
from metering.readmodel.runlog import RunLog
from metering.readmodel.views import DocumentView, MonthState, MonthToDate, TenantView
from metering.window import Window

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _catalog(path: Path) -> tuple[TenantView, ...]:
    """Who the tenants are and which VCD orgs they own. Only these keys are read here:
    rating validates the pricing keys, the close the bill-to ones."""
    fail = lambda p: ConfigError(f"cannot read tenant catalog {path.name}: {p}")  # noqa: E731
    raw = tomlfile.parse(tomlfile.read_text(path, fail), fail)
    found = []
    for i, entry in enumerate(raw.get("tenants", [])):
        tenant_id, orgs = entry.get("id"), entry.get("orgs", [])
        if not isinstance(tenant_id, str) or not isinstance(orgs, list):
            raise ConfigError(f"{path.name}: tenants[{i}]: needs an id and a list of orgs")
        name = entry.get("billing_name", tenant_id)
        found.append(
            TenantView(tenant_id, str(name), str(entry.get("currency", "")), tuple(map(str, orgs)))
        )
    return tuple(found)


def valid_month(text: str) -> bool:
    return bool(_MONTH.match(text))


class BillingReadModel:
    """Reads one provider's billing state (cheap to build; open one per process)."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self.settings: InvoicingSettings = load_settings(config)
        self.catalog: tuple[TenantView, ...] = _catalog(config.tenant_catalog)
        self._by_id = {t.tenant_id: t for t in reversed(self.catalog)}  # the first of an id
        self._sorted = sorted(self.catalog, key=lambda t: t.tenant_id)
        self.cache = usage.MonthCache(config)
        self.runlog = RunLog(config)
        self.margins = MarginCache(config)
        self.index = DocumentIndex(self.settings.register_path, self.settings.provider)

    # -- tenants -------------------------------------------------------------------------------

    def tenants(self) -> list[TenantView]:
        """The catalog's tenants, by id (unmapped orgs are not tenants one can sign in as)."""
        return list(self._sorted)

    def tenant(self, tenant_id: str) -> TenantView | None:
        return self._by_id.get(tenant_id)

    # -- documents -----------------------------------------------------------------------------

    def documents(
        self,
        tenant_id: str | None = None,
        *,
        month: str | None = None,
        kind: str | None = None,
    ) -> list[DocumentView]:
        """Issued documents (invoices, credited invoices, credit notes), newest first."""
        return self.index.listing().documents(tenant_id, month, kind)

    def document(self, number: str) -> tuple[DocumentView, dict[str, Any]] | None:
        """One issued document and its frozen body (lines, totals, usage), or None."""
        view = self.index.listing().by_number.get(number)
        found = self.index.document(number, bodies=True) if view is not None else None
        if view is None or found is None:
            return None
        return view, found.body

    def document_files(self, view: DocumentView) -> tuple[Path, Path]:
        """The PDF and usage CSV the close rendered for an issued document."""
        found = self.index.document(view.number, bodies=False)
        if found is None:
            raise LookupError(f"no document {view.number} in the register")
        return document_paths(self.settings, found)

    def ubl_file(self, view: DocumentView) -> Path | None:
        """The Peppol UBL e-invoice issued with a document, when the register lists one."""
        if "peppol-ubl" not in view.einvoice:
            return None
        return ubl_path(self.document_files(view)[0])

    def focus_rows(self, view: DocumentView) -> list[dict[str, Any]]:
        """The FOCUS rows the close exported for one document."""
        return usage.focus_rows(self.settings.out_dir, view.month, view.number)

    # -- months --------------------------------------------------------------------------------

    def months(self) -> list[MonthState]:
        """Every month with rating outputs or documents, newest first, with its close state."""
        listed = self.index.listing().months
        names = set(usage.rated_months(self.config)) | set(listed)
        states = []
        for month in sorted(names, reverse=True):
            docs = listed.get(month) or MonthDocuments()
            states.append(
                MonthState(
                    month=month,
                    rated=usage.rated(self.config, month),
                    closed=docs.invoices > 0,
                    invoices=docs.invoices,
                    credit_notes=docs.credit_notes,
                    totals=dict(docs.totals),
                )
            )
        return states

    def current_month(self) -> str | None:
        """The newest rated month: what "month to date" shows by default."""
        rated = usage.rated_months(self.config)
        return max(rated) if rated else None

    def warm(self) -> None:
        """Build what the next page will read, if it changed: the register's listing and
        the current month's tables (the portal calls this in the background)."""
        self.index.listing()
        month = self.current_month()
        if month is not None:
            self.cache.month(Window.parse_month(month))

    def month_to_date(self, tenant_id: str, month: str) -> MonthToDate:
        """One tenant's month as rating has it now (final once the month is closed)."""
        window = Window.parse_month(month)
        closed = bool(self.documents(tenant_id, month=month))
        return usage.month_to_date(self.cache, tenant_id, window, closed)

    def compare_months(self, tenant_id: str, months: list[str]) -> dict[str, Any]:
        """Totals per product of several months side by side (from rating outputs)."""
        return usage.compare(self.cache, tenant_id, [Window.parse_month(m) for m in months])

    def draft_body(self, tenant_id: str, month: str) -> tuple[dict[str, Any] | None, Any]:
        """The invoice body ``tenant_id``'s month would get from its current rating outputs
        (None: no rated usage), and the last usage day rated; what showback renders. Built
        as the close builds its bodies, so the two never disagree."""
        from metering.close.billto import load_bill_to
        from metering.close.documents import build_bodies
        from metering.close.inputs import open_month

        window = Window.parse_month(month)
        catalog = load_bill_to(self.config.tenant_catalog, self.settings.default_locale)
        con = open_month(self.config, window)
        try:
            bodies = build_bodies(con, window, self.settings, catalog)
            through = con.execute("select max(usage_date) from rated_usage").fetchone()
        finally:
            con.close()
        return bodies.get(tenant_id), (through[0] if through else None)

    # -- provider views ------------------------------------------------------------------------

    def month_summary(self, month: str) -> list[dict[str, Any]]:
        return usage.month_query(self.cache, Window.parse_month(month), "month_summary")

    def unrated(self, month: str) -> list[dict[str, Any]]:
        return usage.month_query(self.cache, Window.parse_month(month), "unrated_summary")

    def revenue_tenants(self, months: list[str]) -> list[str]:
        """Every tenant with invoice lines in any of ``months``, by id."""
        found: set[str] = set()
        for month in months:
            found |= usage.revenue_tenants(self.cache, Window.parse_month(month))
        return sorted(found)

    def revenue(self, months: list[str], tenants: list[str] | None = None) -> list[dict[str, Any]]:
        """Invoice line amounts per tenant, product and currency of each of ``months`` (of
        ``tenants``, default every tenant with lines), by month, then tenant id and product."""
        wanted = self.revenue_tenants(months) if tenants is None else tenants
        rows = []
        for month in months:
            for row in usage.revenue(self.cache, Window.parse_month(month), wanted):
                rows.append({"month": month, **row})
        return rows

    def margin(self, month: str) -> Margins:
        """The month's margin rows and sums (metering.commerce.margin; raises its errors)."""
        return self.margins.margins(Window.parse_month(month))

    def unmapped_orgs(self, month: str) -> list[dict[str, Any]]:
        return usage.month_query(self.cache, Window.parse_month(month), "unmapped_orgs")

    def coverage(self, month: str) -> list[dict[str, Any]]:
        """Per site and source: instants due and collected (the ``coverage`` dataset), days
        below the gate's threshold, and the month's collection runs."""
        from metering.completeness.settings import gate_settings

        threshold = gate_settings(self.config).coverage_threshold
        return self.runlog.coverage(Window.parse_month(month), threshold)

    def failed_runs(self, month: str) -> list[dict[str, Any]]:
        return self.runlog.runs(Window.parse_month(month), "failed_runs")

    def blocked_closes(self) -> list[dict[str, Any]]:
        """Closes that were due but could not run (the run history's ``waiting`` closes),
        newest first, one per month."""
        path = self.config.data_dir / "pipelines" / "runs.sqlite"
        if not path.exists():
            return []
        from metering.pipelines.history import RunHistory

        history = RunHistory(path)
        try:
            runs = history.runs("close")
        finally:
            history.close()
        latest: dict[str, Any] = {}
        for run in runs:  # newest first: the first run of a month says its state
            latest.setdefault(run.period, run)
        return [
            {"month": m, "reason": r.error or "", "since": r.started_at, "run_id": r.run_id}
            for m, r in sorted(latest.items(), reverse=True)
            if r.status == "waiting"
        ]

    def provider_files(self, month: str) -> dict[str, Path]:
        """The provider report and FOCUS files the close wrote for ``month``."""
        out = self.settings.out_dir
        found = {}
        for name in (
            f"report/provider-report-{month}.csv",
            f"report/provider-report-{month}.html",
            f"report/provider-report-{month}.pdf",
            f"focus/focus-{month}.csv",
            f"focus/focus-{month}.parquet",
        ):
            path = out / name
            if path.is_file():
                found[path.name] = path
        return found
