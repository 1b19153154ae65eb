"""The provider config's schema, and its errors as one line naming file, section and key.

:func:`validate_provider_file` checks a parsed ``provider.toml`` against
:class:`~metering.configschema.models.ProviderFile` and turns the first problem into a
:class:`~metering.errors.ConfigError` such as::

    provider.toml: unknown key `colour` in [provider.branding]; did you mean `accent_color`?
    provider.toml: unknown section [invoicng]; did you mean [invoicing]?
    provider.toml: [invoicing] payment_terms_days: must be 0 or more, got -5

A misspelt key is matched against its own section first, then against every other section
(``payment_terms`` under ``[provider]`` points to ``[invoicing] payment_terms_days``).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterator, Mapping
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError, create_model
from pydantic.fields import FieldInfo

from metering.configschema.models import ProviderFile, Table
from metering.errors import ConfigError

__all__ = ["ProviderFile", "format_error", "validate_provider_file"]

Loc = tuple[str | int, ...]

_KINDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "model_type": "a table",
    "dict_type": "a table",
    "model_attributes_type": "a table",
}
_TOML_TYPES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "list": "a list",
    "dict": "a table",
    "date": "a date",
    "datetime": "a date-time",
    "time": "a time",
}


def validate_provider_file(raw: Mapping[str, Any], file_name: str) -> ProviderFile:
    """``raw`` as the typed :class:`ProviderFile`, or a one-line :class:`ConfigError`."""
    try:
        model = ProviderFile.model_validate(dict(raw))
        limits_model().model_validate(model.collect.limits)
    except ValidationError as exc:
        prefix: Loc = ("collect", "limits") if exc.title == "Limits" else ()
        first = exc.errors(include_url=False)[0]
        raise ConfigError(format_error(file_name, first, prefix)) from None
    return model


@functools.cache
def limits_model() -> type[BaseModel]:
    """``[collect.limits]``: one table per bounded dataset, one key per bounded column,
    built from the collectors' :data:`~metering.sources.limits.BOUNDS`."""
    from metering.sources.limits import BOUNDS  # imports metering.config: only when called

    tables: dict[str, Any] = {}
    for dataset, columns in BOUNDS.items():
        fields: dict[str, Any] = {
            column: (int | None, _ge(bound.minimum)) for column, bound in columns.items()
        }
        table = create_model(f"Limits_{dataset}", __base__=Table, **fields)
        tables[dataset] = (table | None, None)
    return create_model("Limits", __base__=Table, **tables)


def _ge(minimum: int) -> Any:
    from pydantic import Field

    return Field(default=None, ge=minimum)


def format_error(file_name: str, error: Mapping[str, Any], prefix: Loc = ()) -> str:
    """One line for one pydantic error: file, ``[section]``, key, what is wrong."""
    loc: Loc = (*prefix, *error["loc"])
    section, key = _split(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{file_name}: {_unknown(loc, section, key, error['input'])}"
    where = f"[{section}] {key}" if section else f"[{key}]" if _is_table(loc) else key
    return f"{file_name}: {where}: {_problem(kind, error)}"


def _problem(kind: str, error: Mapping[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return "is required"
    if kind in _KINDS:
        return f"must be {_KINDS[kind]}, got {_TOML_TYPES.get(type(value).__name__, 'another')}"
    if kind == "greater_than_equal":
        return f"must be {ctx['ge']} or more, got {value}"
    if kind == "greater_than":
        return f"must be more than {ctx['gt']}, got {value}"
    if kind == "less_than_equal":
        return f"must be {ctx['le']} or less, got {value}"
    if kind == "literal_error":
        problem = f"must be one of {ctx['expected']}, got {value!r}"
        choices = [c.strip(" '") for c in str(ctx["expected"]).replace(" or ", ", ").split(",")]
        near = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
        return f"{problem}; did you mean {near[0]!r}?" if near else problem
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length', 1)} entry"
    if kind == "string_pattern_mismatch":
        return f"{value!r} does not have the required form ({ctx['pattern']})"
    if kind == "value_error":
        return str(ctx.get("error") or error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def _split(loc: Loc) -> tuple[str, str]:
    """``("sites", 1, "vcd_url")`` → ``("sites[1]", "vcd_url")``; list indexes stay on the
    name they index (``events[2]``)."""
    names: list[str] = []
    for part in loc:
        if isinstance(part, int) and names:
            names[-1] += f"[{part}]"
        else:
            names.append(str(part))
    return ".".join(names[:-1]), names[-1] if names else ""


def _is_table(loc: Loc) -> bool:
    return len(loc) == 1


def _unknown(loc: Loc, section: str, key: str, value: Any) -> str:
    valid = _field_names(loc[:-1])
    if f"{key}_env" in valid:
        return (
            f"[{section}] {key}: secrets are not written in the config; use {key}_env or {key}_file"
        )
    is_table = isinstance(value, Mapping) or (
        isinstance(value, list) and all(isinstance(v, Mapping) for v in value) and value != []
    )
    what = f"unknown section [{_join(section, key)}]" if is_table else f"unknown key `{key}`"
    if not is_table:
        what += f" in [{section}]" if section else " at the top of the file"
    near = _nearest(key, valid, 0.6)
    if near:
        hint = f"[{_join(section, near)}]" if is_table else f"`{near}`"
        return f"{what}; did you mean {hint}?"
    elsewhere = _elsewhere(key)
    if elsewhere:
        return f"{what}; did you mean {elsewhere}?"
    listed = ", ".join(sorted(valid)) or "none"
    return f"{what}; valid {'sections' if not section else 'keys'}: {listed}"


def _join(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key


def _elsewhere(key: str) -> str | None:
    """The nearest key of any other section, as ``[section] key``."""
    everywhere: dict[str, str] = {}
    for where, name in _all_keys(ProviderFile, ""):
        everywhere.setdefault(name, where)  # the first section that has the key
    near = _nearest(key, list(everywhere), 0.75)
    if near is None:
        return None
    where = everywhere[near]
    return f"`{near}` in [{where}]" if where else f"[{near}]"


def _nearest(key: str, names: list[str], cutoff: float) -> str | None:
    """The name most like ``key``, whole or by its last words (``colour`` → ``accent_color``)."""
    candidates: dict[str, str] = {}
    for name in names:
        words = name.split("_")
        for i in range(len(words)):
            candidates.setdefault("_".join(words[i:]), name)
    near = difflib.get_close_matches(key, list(candidates), n=1, cutoff=cutoff)
    return candidates[near[0]] if near else None


def _all_keys(model: type[BaseModel], where: str) -> Iterator[tuple[str, str]]:
    for field_name, info in model.model_fields.items():
        name = info.alias or field_name
        yield where, name
        inner = _model_of(info.annotation)
        if inner is not None:
            yield from _all_keys(inner, _join(where, name))


def _field_names(loc: Loc) -> list[str]:
    """The keys valid at ``loc`` (a table of the schema)."""
    model: type[BaseModel] | None = ProviderFile
    if loc[:2] == ("collect", "limits"):
        model, loc = limits_model(), loc[2:]
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        info = _keys(model).get(part)
        model = _model_of(info.annotation) if info is not None else None
    return list(_keys(model)) if model is not None else []


def _keys(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """The TOML keys of ``model`` (a field's alias where it has one)."""
    return {info.alias or name: info for name, info in model.model_fields.items()}


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``Model``, ``Model | None``, ``list[Model]`` (else None)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, list) or type(annotation).__name__ == "UnionType":
        for arg in get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None
