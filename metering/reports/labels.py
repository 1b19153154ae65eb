"""Customer labels of the provider usage report: a keyed hash of the tenant, never its name.

vCloud Usage Meter anonymises the fields of its reports that carry names by hashing them
(its default "data hashing" level); providers upload those reports to the commerce portal
without their customers' names. The provider report does the same: every tenant appears as
``HMAC-SHA256(key, "tenant:" + tenant_id)`` cut to ``LABEL_HEX`` hex digits, with a ``c-``
prefix. The key is the provider's secret (``[commerce] label_key_env`` or
``label_key_file``, default the environment variable ``METERING_LABEL_KEY``); it is never
written anywhere (not in the report, not in the mapping, not in a log or error). The same
key gives the same label every month, so months can be compared; without the key a label
cannot be traced back to a tenant, even by trying every tenant id.

Beside the report, a private file (mode 0600) maps each label of the month to its tenant id
and billing name, for the provider's own use; it is never uploaded and never in the CSV.

::

    [commerce]
    hash_labels = true                     # false: the CSV carries tenant ids in clear
    label_key_env = "METERING_LABEL_KEY"   # or label_key_file = "secrets/label.key"
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass

from metering.config import ProviderConfig, Secret
from metering.errors import ConfigError
from metering.lake.storage import LakePath, write_bytes
from metering.reports.csvfile import csv_bytes

DEFAULT_KEY_ENV = "METERING_LABEL_KEY"
LABEL_HEX = 20  # 80 bits: no collision among millions of tenants (checked anyway)
MIN_KEY_CHARS = 16
ALL = "*"  # the report's "all tenants" rows keep their marker
MAPPING_COLUMNS = ("customer_label", "tenant_id", "tenant_name")


@dataclass(frozen=True)
class LabelSettings:
    """How the report names customers: hashed with ``key``, or (``key`` None) in clear."""

    key: Secret | None

    @property
    def hashed(self) -> bool:
        return self.key is not None

    def describe(self) -> str:
        if self.key is None:
            return "tenant ids in clear ([commerce] hash_labels = false)"
        return f"HMAC-SHA256 of the tenant id with the provider's key, {LABEL_HEX} hex digits"


def label_settings(config: ProviderConfig) -> LabelSettings:
    """``[commerce]`` of the provider config; one line naming the key when it is unusable."""
    section = config.section("commerce")
    if not section.get("hash_labels", bool, True):
        return LabelSettings(None)
    data = section.data
    if "label_key_env" not in data and "label_key_file" not in data:
        if DEFAULT_KEY_ENV not in os.environ:
            raise section.error(
                "label_key_env",
                "customer labels are hashed with a provider secret: set label_key_env or "
                f"label_key_file (default: environment variable {DEFAULT_KEY_ENV}), or "
                "hash_labels = false",
            )
        key = Secret(os.environ[DEFAULT_KEY_ENV])
    else:
        found = section.secret("label_key", config.source_file.parent)
        assert found is not None  # required
        key = found
    if len(key.reveal()) < MIN_KEY_CHARS:
        raise section.error("label_key", f"the key must have at least {MIN_KEY_CHARS} characters")
    return LabelSettings(key)


def customer_label(settings: LabelSettings, tenant_id: str) -> str:
    """The tenant's label in the report (``*`` stays ``*``)."""
    if tenant_id == ALL or settings.key is None:
        return tenant_id
    digest = hmac.new(
        settings.key.reveal().encode("utf-8"), f"tenant:{tenant_id}".encode(), hashlib.sha256
    )
    return "c-" + digest.hexdigest()[:LABEL_HEX]


def label_map(settings: LabelSettings, tenant_ids: Iterable[str]) -> dict[str, str]:
    """tenant id → label for ``tenant_ids``; two tenants with one label stop the report."""
    labels: dict[str, str] = {}
    seen: dict[str, str] = {}
    for tenant in sorted(set(tenant_ids)):
        label = customer_label(settings, tenant)
        if seen.setdefault(label, tenant) != tenant:
            raise ConfigError(f"two tenants share the customer label {label}; change the key")
        labels[tenant] = label
    return labels


def write_mapping(path: LakePath, labels: dict[str, str], names: dict[str, str]) -> None:
    """label → tenant id and name, readable by the owner only (0600), atomically."""
    rows = (
        [label, tenant, names.get(tenant, tenant)]
        for tenant, label in sorted(labels.items(), key=lambda item: item[1])
        if tenant != ALL
    )
    data = csv_bytes(MAPPING_COLUMNS, rows)
    write_bytes(path, data, mode=0o600)
