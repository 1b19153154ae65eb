"""One read model of the billing state: documents and their lines, month to date, months and
their close state, coverage. The portal and its API read through it instead of reaching into
the close's register, rating outputs or run logs (docs/portal.md, "Read model").

Every method that returns a tenant's data takes the tenant id explicitly; authorisation is
the caller's job (metering.portal checks a principal before it asks), so this module never
guesses a tenant from a number or a filter.
"""

from __future__ import annotations

from metering.readmodel.model import BillingReadModel
from metering.readmodel.views import DocumentView, MonthState, MonthToDate, TenantView

__all__ = ["BillingReadModel", "DocumentView", "MonthState", "MonthToDate", "TenantView"]
