"""The tenant portal and billing API (``metering serve``; docs/portal.md).

Tenants sign in with their VMware Cloud Director account and see their month to date, their
invoices and credit notes; provider staff (VCD system administrators) see months, coverage
and revenue; billing systems read ``/api/v1`` with provider-issued API keys and receive
signed webhooks. Everything is read through :mod:`metering.readmodel`.
"""

from __future__ import annotations

from metering.portal.app import build_portal, create_app

__all__ = ["build_portal", "create_app"]
