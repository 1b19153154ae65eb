"""Optional extras: which modules each brings, and one clear error when one is missing.

``pyproject.toml`` lists the extras' distributions; this names the modules metering imports
from them (tests/foundation/test_cli_usage.py checks that the two agree)::

    require_extra("spark", "rate --engine spark")
"""

from __future__ import annotations

import importlib.util

from metering.errors import MissingExtra

# extra -> the top-level modules metering imports from it
EXTRAS: dict[str, tuple[str, ...]] = {"spark": ("pyspark", "sqlglot")}


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported here."""
    return [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]


def require_extra(extra: str, feature: str) -> None:
    """Raise :class:`MissingExtra` naming the pip command when ``extra`` is not installed."""
    missing = missing_modules(extra)
    if missing:
        raise MissingExtra(extra_message(extra, feature, missing))


def extra_message(extra: str, feature: str, missing: list[str]) -> str:
    return (
        f"{feature} needs the {extra} extra ({', '.join(missing)} not installed): "
        f"pip install 'metering[{extra}]'"
    )


def extra_of(module: str | None) -> str | None:
    """The extra that brings top-level module ``module`` (``sqlglot.exp`` → ``spark``)."""
    top = (module or "").partition(".")[0]
    return next((extra for extra, names in EXTRAS.items() if top in names), None)
