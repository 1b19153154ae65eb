"""Month-end close: freeze the rated month, issue numbered immutable invoices and credit notes,
render them, write the provider report and the FOCUS export (see ``run.close_month``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metering.close.run import CloseResult, close_month

__all__ = ["CloseResult", "close_month"]


def __getattr__(name: str) -> Any:
    # Lazy: metering.reports imports close submodules, so importing run here eagerly would cycle.
    if name in __all__:
        from metering.close import run

        return getattr(run, name)
    raise AttributeError(name)
