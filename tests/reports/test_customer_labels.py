"""The provider report for the commerce portal names no customer: labels are a keyed hash
(HMAC-SHA256 with the provider's key, stable across months), the label → tenant mapping is a
private file beside the report, and TKG per-cluster rows are keyed by cluster id."""

from __future__ import annotations

import csv
import io
import stat
from decimal import Decimal

import pytest

from metering.close.run import close_month
from metering.errors import ConfigError
from metering.reports.labels import LabelSettings, customer_label, label_settings
from tests.close.builders import (
    FROZEN_NOW,
    MONTH,
    load_case,
    make_config,
    rating_rows,
    write_consolidated_days,
    write_lake_extras,
    write_rating,
    write_storage_policy,
)
from tests.conftest import TEST_LABEL_KEY


def _two_prod_clusters(tmp_path):
    """The case, with ACME running a cluster of the same name as EVIL's (`tkg-prod`)."""
    config = make_config(tmp_path)
    case = load_case()
    case["clusters"].append(["az1", "cluster-2", "tkg-prod"])
    case["node_clusters"].append(["az1", "vm-acme-node", "cluster-2"])
    case["usage"].append(
        ["acme", "az1", "vm-acme-node", "tkg-prod-w-0", "vcpu", "", "vCPU-hour", 1, 31, "2", "0"]
    )
    write_rating(config, rating_rows(case))
    write_lake_extras(config, case)
    write_storage_policy(config)
    write_consolidated_days(config)
    return config


def _read(path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_the_report_csv_names_no_customer_and_the_private_mapping_does(tmp_path):
    config = _two_prod_clusters(tmp_path)
    result = close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)
    report = result.outputs["provider_csv"]
    text = report.read_text(encoding="utf-8")
    for clear in ("acme", "evil", "ACME Industries", "orphan-org", "tkg-prod", TEST_LABEL_KEY):
        assert clear not in text
    mapping_file = report.with_name("provider-report-2026-10.labels.csv")
    assert stat.S_IMODE(mapping_file.stat().st_mode) == 0o600
    mapping = {r["tenant_id"]: r for r in _read(mapping_file)}
    assert set(mapping) == {"acme", "evil", "unmapped:orphan-org"}
    assert mapping["acme"]["tenant_name"] == "ACME Industries GmbH"
    assert TEST_LABEL_KEY not in mapping_file.read_text(encoding="utf-8")
    # the label is the keyed hash of the tenant id: the same next month, for the same key
    key = label_settings(config)
    assert mapping["acme"]["customer_label"] == customer_label(key, "acme")
    assert customer_label(key, "acme").startswith("c-") and len(customer_label(key, "acme")) == 22
    other = LabelSettings(type(key.key)("another-provider-key-0123"))  # type: ignore[misc]
    assert customer_label(other, "acme") != customer_label(key, "acme")
    rows = _read(report)
    labels = {r["customer_label"] for r in rows}
    assert labels == {"*"} | {m["customer_label"] for m in mapping.values()}
    # two tenants' clusters named tkg-prod: one row each, keyed by cluster id
    per_cluster = {
        (r["customer_label"], r["dimension"]): Decimal(r["quantity"])
        for r in rows
        if r["site"] == "*" and r["metric"] == "node_vms"
    }
    assert per_cluster == {
        (mapping["evil"]["customer_label"], "cluster-1"): 4,
        ("*", "cluster-1"): 4,
        (mapping["acme"]["customer_label"], "cluster-2"): 1,
        ("*", "cluster-2"): 1,
    }
    # the readable report shows labels too, and says how they are made
    html = result.outputs["provider_html"].read_text(encoding="utf-8")
    assert "ACME Industries" not in html and mapping["acme"]["customer_label"] in html
    assert "HMAC-SHA256" in html


def test_vram_is_reported_as_the_months_average_gb(tmp_path):
    config = make_config(tmp_path)
    case = load_case()
    case["usage"].append(["acme", "az1", "vm-9", "vm-9", "ram", "", "GiB-hour", 1, 31, "96", "0"])
    write_rating(config, rating_rows(case))
    write_lake_extras(config, case)
    write_consolidated_days(config)
    result = close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)
    rows = _read(result.outputs["provider_csv"])

    def total(metric: str) -> Decimal:
        (row,) = [
            r for r in rows if (r["site"], r["customer_label"], r["metric"]) == ("*", "*", metric)
        ]
        return Decimal(row["quantity"])

    hours = 744
    # GiB-hours ÷ hours in the month, cut to 1e-6 (the case's VMs plus 4 GiB all month)
    expected = (total("ram_quantity") / hours).quantize(Decimal("0.000001"), "ROUND_DOWN")
    assert total("average_vram_gb") == expected and expected > 4


def test_without_a_key_the_close_refuses_before_issuing(tmp_path, monkeypatch):
    monkeypatch.delenv("METERING_LABEL_KEY")
    config = make_config(tmp_path)
    with pytest.raises(
        ConfigError, match=r"\[commerce\] label_key_env: customer labels are hashed"
    ):
        close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)
    assert not (config.data_dir / "invoices.sqlite").exists()


def test_a_short_key_is_refused_and_never_echoed(tmp_path, monkeypatch):
    monkeypatch.setenv("METERING_LABEL_KEY", "short-secret")
    with pytest.raises(ConfigError, match="at least 16 characters") as caught:
        label_settings(make_config(tmp_path))
    assert "short-secret" not in str(caught.value)
