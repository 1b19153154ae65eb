"""Turning API records into lake rows: field readers that name what is wrong, exact
Kubernetes quantities, and :class:`Batch`, which keeps good rows and quarantines bad records.

A collector maps each record with a function that reads billed fields through
:func:`req` / :func:`opt` helpers; a missing or malformed billed field raises
:class:`RecordError` naming the field, and the record goes to quarantine with that reason and
its raw JSON. Unknown fields are ignored (the APIs grow).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from metering.window import parse_utc

Record = Mapping[str, Any]
Row = dict[str, Any]


class RecordError(ValueError):
    """One record cannot be used; the message names the field and the problem."""


def dig(record: Record, dotted: str) -> Any:
    """``dig(r, "entity.status.phase")``: a nested value, or None if any step is missing."""
    if type(record) is dict and "." not in dotted:
        return record.get(dotted)  # the common case, called for every field of every record
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def req_str(record: Record, dotted: str) -> str:
    value = dig(record, dotted)
    if not isinstance(value, str) or not value:
        raise RecordError(f"{dotted}: missing or not a string ({value!r})")
    return value


def opt_str(record: Record, dotted: str) -> str | None:
    value = dig(record, dotted)
    return value if isinstance(value, str) and value else None


def _as_int(value: Any, dotted: str) -> int:
    if isinstance(value, bool):
        raise RecordError(f"{dotted}: expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise RecordError(f"{dotted}: expected an integer, got {value!r}")


def req_int(record: Record, dotted: str, *, minimum: int | None = 0) -> int:
    value = _as_int(dig(record, dotted), dotted)
    if minimum is not None and value < minimum:
        raise RecordError(f"{dotted}: must be >= {minimum}, got {value}")
    return value


def opt_int(record: Record, dotted: str) -> int | None:
    value = dig(record, dotted)
    return None if value is None or value == "" else _as_int(value, dotted)


def opt_bool(record: Record, dotted: str) -> bool | None:
    value = dig(record, dotted)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def opt_time(record: Record, dotted: str) -> datetime | None:
    value = dig(record, dotted)
    if value in (None, ""):
        return None
    try:
        if isinstance(value, str) and value.isdigit():
            value = int(value)  # epoch milliseconds as text (Cloudian)
        if isinstance(value, int) and not isinstance(value, bool):
            return datetime.fromtimestamp(value // 1000, tz=UTC).replace(
                microsecond=(value % 1000) * 1000
            )
        return parse_utc(str(value))
    except (ValueError, OverflowError):
        raise RecordError(f"{dotted}: not a timestamp ({value!r})") from None


_CPU_UNITS = {"m": Decimal(1), "": Decimal(1000)}
_MEM_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
}


def _split(text: str, units: Iterable[str]) -> tuple[Decimal, str]:
    for unit in sorted(units, key=len, reverse=True):
        if unit and text.endswith(unit):
            number, suffix = text[: -len(unit)], unit
            break
    else:
        number, suffix = text, ""
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"not a Kubernetes quantity: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return value, suffix


def cpu_millicores(quantity: str | int) -> int:
    """Exact millicores of a Kubernetes CPU quantity: ``"2"``→2000, ``"1500m"``, ``"0.5"``→500.

    A value that is not a whole number of millicores (``"0.0005"``) is refused, never rounded.
    """
    if isinstance(quantity, bool):
        raise ValueError(f"not a CPU quantity: {quantity!r}")
    text = str(quantity).strip()
    value, unit = _split(text, _CPU_UNITS)
    milli = value * _CPU_UNITS[unit]
    if milli != milli.to_integral_value():
        raise ValueError(f"CPU quantity {text!r} is not a whole number of millicores")
    return int(milli)


def memory_bytes(quantity: str | int) -> int:
    """Exact bytes of a Kubernetes memory/storage quantity (``"4Gi"``, ``"512Mi"``, ``"1G"``)."""
    if isinstance(quantity, bool):
        raise ValueError(f"not a memory quantity: {quantity!r}")
    text = str(quantity).strip()
    value, unit = _split(text, _MEM_UNITS)
    total = value * _MEM_UNITS[unit]
    if total != total.to_integral_value():
        raise ValueError(f"memory quantity {text!r} is not a whole number of bytes")
    return int(total)


def quantity(record: Record, dotted: str, parse: Callable[[str | int], int]) -> int | None:
    """Parse an optional quantity field, naming it on error."""
    value = dig(record, dotted)
    if value in (None, ""):
        return None
    try:
        return parse(value)
    except ValueError as exc:
        raise RecordError(f"{dotted}: {exc}") from None


# What a mapper may raise on a record of an unexpected shape (a list where an object was
# due, a number too large for a float, ...): the record is quarantined, not the dataset.
_SHAPE_ERRORS = (TypeError, ValueError, KeyError, AttributeError, IndexError, ArithmeticError)


@dataclass
class Quarantined:
    dataset: str
    record_key: str
    reason: str
    raw_record: str


def _text(value: Any) -> str:
    """``value`` as text that can be stored (lone surrogates and the like escaped)."""
    text = str(value)
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


def raw_json(record: Any) -> str:
    """A record as JSON text for the quarantine (ASCII, so always storable)."""
    try:
        return json.dumps(record, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return json.dumps(_text(repr(record))[:100_000])


def bad_text(value: Any, column: str = "") -> str | None:
    """The first text in ``value`` (nested lists/dicts too) that is not valid Unicode (a lone
    surrogate from a ``\\ud800`` escape), as the reason naming where; else None."""
    if isinstance(value, str):
        if value.isascii():
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            shown = _text(value)[:80]
            return f"{column or 'value'}: not valid Unicode text ({shown!r})"
        return None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)  # type: ignore[assignment]
    else:
        return None
    for key, item in items:
        problem = bad_text(item, f"{column}.{key}" if column else str(key))
        if problem:
            return problem
    return None


@dataclass
class Batch:
    """Rows for one dataset plus the records that were rejected on the way.

    ``notes`` say what the dataset is missing although it was written (an enriching listing
    that failed); the run counts them like errors (status ``partial``).
    """

    dataset: str
    rows: list[Row] = field(default_factory=list)
    rejected: list[Quarantined] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # id(row) -> the API record it came from, so a row refused later (out of range, not
    # fitting the schema) is quarantined with the record as received
    _raw: dict[int, Any] = field(default_factory=dict, repr=False)

    def map(
        self, records: Iterable[Any], mapper: Callable[[Any], Row | list[Row] | None], key: str
    ) -> None:
        """Map every record; a :class:`RecordError` (or a non-object, or a record of a shape
        the mapper cannot read) quarantines that record only."""
        for position, record in enumerate(records):
            try:
                if type(record) is not dict and not isinstance(record, Mapping):
                    raise RecordError(f"record is a {type(record).__name__}, not an object")
                out = mapper(record)
            except RecordError as exc:
                self.reject(record, str(exc), key, position)
                continue
            except _SHAPE_ERRORS as exc:
                reason = f"unexpected shape ({type(exc).__name__}: {_text(exc)[:200]})"
                self.reject(record, reason, key, position)
                continue
            rows = out if isinstance(out, list) else [] if out is None else [out]
            for row in rows:
                self._raw[id(row)] = record
            self.rows.extend(rows)

    def reject(self, record: Any, reason: str, key: str, position: int = 0) -> None:
        ident = dig(record, key) if isinstance(record, Mapping) else None
        self.rejected.append(
            Quarantined(
                dataset=self.dataset,
                record_key=_text(ident) if ident not in (None, "") else f"#{position}",
                reason=_text(reason),
                raw_record=raw_json(record),
            )
        )

    def refuse(self, row: Row, reason: str, key: str) -> None:
        """Quarantine a mapped row (with the record it came from), keeping the others."""
        record = self._raw.get(id(row), row)
        ident = row.get(key) if key else None
        self.rejected.append(
            Quarantined(
                dataset=self.dataset,
                record_key=_text(ident) if ident not in (None, "") else "#row",
                reason=_text(reason),
                raw_record=raw_json(record),
            )
        )
