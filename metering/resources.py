"""Locate the data that ships with the package: SQL, templates, rate cards, pipelines, samples.

In a source checkout (or an editable install) they are the top-level folders of the
repository; in an installed wheel they are under ``metering/_data/`` (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_KINDS = ("sql", "reports", "pricing", "pipelines", "sample_data", "docs")


def resource_dir(kind: str) -> Path:
    """The directory holding ``kind`` (sql, reports, pricing, pipelines, sample_data, docs)."""
    if kind not in _KINDS:
        raise ValueError(f"unknown resource kind {kind!r}; expected one of {', '.join(_KINDS)}")
    for candidate in (_PACKAGE / "_data" / kind, _PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"metering cannot find its {kind}/ folder; is the install complete?")


def sql_path(name: str) -> Path:
    """Path of a named SQL file, e.g. ``sql_path("marts/invoice_lines.sql")``."""
    path = resource_dir("sql") / name
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file {name!r} under {resource_dir('sql')}")
    return path


def read_sql(name: str) -> str:
    return sql_path(name).read_text(encoding="utf-8")
