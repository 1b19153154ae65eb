"""The provider config's schema: the documented examples pass it, mistakes are one line
naming file, table and key (the CLI's side is in test_hostile_config.py)."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from metering.configschema import ProviderFile, validate_provider_file
from metering.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
BASE: dict[str, Any] = {
    "provider": {"name": "x", "tenant_catalog": "t.toml", "pricing_dir": "p"},
    "sites": [{"name": "az1", "vcd_url": "https://v", "vcd_user": "u", "vcd_password_env": "X"}],
}


def _documented_examples() -> list[tuple[str, dict[str, Any]]]:
    """Every ```toml block of the docs made only of provider-config tables."""
    tables = set(ProviderFile.model_fields)
    found = []
    for path in sorted([*(ROOT / "docs").glob("*.md"), ROOT / "README.md"]):
        for block in re.findall(r"```toml\n(.*?)```", path.read_text(encoding="utf-8"), re.S):
            doc = tomllib.loads(block)
            if doc and set(doc) <= tables:
                found.append((f"{path.name}: {sorted(doc)}", doc))
    return found


def _with(doc: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    for key, value in doc.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key].update(value)
        else:
            raw[key] = value
    return raw


def test_every_documented_config_example_passes_the_schema() -> None:
    examples = _documented_examples()
    documented = {table for _, doc in examples for table in doc}
    assert {"provider", "lake", "invoicing", "close", "scheduler", "alerts", "portal"} <= (
        documented
    )
    for name, doc in examples:
        validate_provider_file(_with(doc), name)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"portal": {"webhooks": [{"url": "https://h", "events": ["invoice.issue"]}]}},
            "provider.toml: [portal.webhooks[0]] events[0]: must be one of 'invoice.issued', "
            "'credit_note.issued' or 'close.blocked', got 'invoice.issue'; "
            "did you mean 'invoice.issued'?",
        ),
        (
            {"rating": {"stale_days": "refuses"}},
            "provider.toml: [rating] stale_days: must be one of 'reconsolidate' or 'refuse', "
            "got 'refuses'; did you mean 'refuse'?",
        ),
        ({"invoicing": {"workers": 0}}, "provider.toml: [invoicing] workers: must be 1 or more"),
        (
            {"close": {"coverage_threshold": "1.5"}},
            "provider.toml: [close] coverage_threshold: must be between 0 and 1 (a fraction)",
        ),
        ({"sites": []}, "provider.toml: [sites]: needs at least 1 entry"),
        (
            {"name": "x"},
            "provider.toml: unknown key `name` at the top of the file; "
            "did you mean `name` in [provider]?",
        ),
        (
            {"invoicing": {"frobnicate": 1}},
            "provider.toml: unknown key `frobnicate` in [invoicing]; valid keys: batch_tenants,",
        ),
    ],
)
def test_a_mistake_is_one_line_naming_file_table_and_key(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_provider_file(_with(doc), "provider.toml")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
