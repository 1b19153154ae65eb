"""Plausibility of collected values: a range for every billed quantity and the known values
of every field a bill depends on, checked for each row before it is written.

A row outside them is quarantined with the value and the bound (``vcpu: 4611686018427387904
is above the plausible maximum 768 (collect.limits.vcd_vm.vcpu)``); the rest of its dataset
is written. Without this, ``numberOfCpus = 2^62`` was collected and then failed the month's
rating (a DECIMAL overflow), and ``1e30`` failed the whole dataset's write.

A collector declares the columns it fills here: a :class:`Bound` per quantity in
:data:`BOUNDS` (with the documented basis of its maximum) and a set of known values per
enumerated field in :data:`KNOWN`. The maxima can be changed per provider in the provider TOML
(docs/collectors.md)::

    [collect.limits.vcd_vm]
    vcpu = 1024
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from metering.config import ProviderConfig
from metering.errors import LakeError
from metering.lake import store
from metering.sources.records import Batch, Row, bad_text


@dataclass(frozen=True)
class Bound:
    """An inclusive range for one integer column, and where its maximum comes from."""

    minimum: int
    maximum: int
    basis: str


GIB = 2**30
TIB = 2**40
PIB = 2**50
# vSphere 8 configuration maximums per VM: 768 vCPUs, 24 TB of memory, virtual disks of up
# to 62 TB, at most 256 of them (4 NVMe controllers x 64).
_VM_VCPU = Bound(1, 768, "vSphere 8: 768 vCPUs per VM")
_VM_MEMORY_MB = Bound(1, 24 * 2**20, "vSphere 8: 24 TB of memory per VM")
_VM_STORAGE_MB = Bound(0, 256 * 62 * 2**20, "vSphere 8: 256 disks x 62 TB per VM")
_MILLICORES = Bound(0, 768 * 1000 * 64, "768 vCPUs per node x 64 replicas")
_REPLICAS = Bound(0, 10_000, "10,000 replicas (Kubernetes supports 5,000 nodes a cluster)")
_BYTES = Bound(0, 16 * PIB, "16 PiB: far above one tenant's object storage")
_FILE_BYTES = Bound(0, 62 * TIB, "vSphere 8: a datastore file of at most 62 TB")
_OBJECTS = Bound(0, 10**12, "a trillion objects")
_REQUESTS = Bound(0, 10**12, "a trillion requests per bucket and hour")
# An edge gateway's external IPs come from its uplinks' subnets; a /16 is 65,536 addresses.
_EDGE_IPS = Bound(0, 2**16, "65,536 IPs: a whole /16 external network on one gateway")

BOUNDS: dict[str, dict[str, Bound]] = {
    "vcd_vm": {"vcpu": _VM_VCPU, "memory_mb": _VM_MEMORY_MB, "storage_mb": _VM_STORAGE_MB},
    "vcd_media": {"size_bytes": _FILE_BYTES},
    "vcd_vapp_template": {"storage_mb": _VM_STORAGE_MB},
    "cse_node_pool": {
        "desired_replicas": _REPLICAS,
        "available_replicas": _REPLICAS,
        "vcpu_per_node": _VM_VCPU,
        "memory_mb_per_node": _VM_MEMORY_MB,
        "disk_size_mb": _VM_STORAGE_MB,
    },
    "cse_cluster": {"control_plane_nodes": _REPLICAS, "worker_nodes": _REPLICAS},
    "vcd_edge_gateway": {"allocated_ip_count": _EDGE_IPS, "used_ip_count": _EDGE_IPS},
    "dse_instance": {
        "replicas": _REPLICAS,
        "service_cpu_millicores": _MILLICORES,
        "sidecar_cpu_millicores": _MILLICORES,
        "operator_cpu_millicores": _MILLICORES,
        "memory_bytes": _BYTES,
        "storage_bytes": _BYTES,
    },
    "dse_container": {
        "replicas": _REPLICAS,
        "cpu_request_millicores": _MILLICORES,
        "cpu_limit_millicores": _MILLICORES,
        "memory_limit_bytes": _BYTES,
    },
    "ose_tenant_usage": {"used_bytes": _BYTES, "object_count": _OBJECTS},
    "ose_bucket": {"used_bytes": _BYTES, "object_count": _OBJECTS},
    "cloudian_bucket_usage": {"byte_count": _BYTES, "object_count": _OBJECTS},
    # one column for stored bytes (SB) and request counts (HG/HP/HD): the larger bound
    "cloudian_usage": {"value": _BYTES},
}

# VM status values of the VCD API (go-vcloud-director types/v56 VAppStatuses, -1..19, and
# VCD 10.x's PARTIALLY_POWERED_OFF / PARTIALLY_SUSPENDED). Only POWERED_ON bills compute; a
# value outside this set is quarantined, never read as "off" (docs/metering-rules.md).
VCD_VM_STATUSES = frozenset(
    {
        "FAILED_CREATION",
        "UNRESOLVED",
        "RESOLVED",
        "DEPLOYED",
        "SUSPENDED",
        "POWERED_ON",
        "WAITING_FOR_INPUT",
        "UNKNOWN",
        "UNRECOGNIZED",
        "POWERED_OFF",
        "INCONSISTENT_STATE",
        "MIXED",
        "DESCRIPTOR_PENDING",
        "COPYING_CONTENTS",
        "DISK_CONTENTS_PENDING",
        "QUARANTINED",
        "QUARANTINE_EXPIRED",
        "REJECTED",
        "TRANSFER_TIMEOUT",
        "VAPP_UNDEPLOYED",
        "VAPP_PARTIALLY_DEPLOYED",
        "PARTIALLY_POWERED_OFF",
        "PARTIALLY_SUSPENDED",
    }
)

KNOWN: dict[str, dict[str, frozenset[str]]] = {"vcd_vm": {"status": VCD_VM_STATUSES}}


@dataclass(frozen=True)
class Limits:
    """The bounds and known values collection checks rows against (defaults + config)."""

    bounds: Mapping[str, Mapping[str, Bound]] = field(default_factory=lambda: BOUNDS)
    known: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=lambda: KNOWN)

    def problem(self, dataset: str, row: Mapping[str, Any]) -> str | None:
        """Why ``row`` of ``dataset`` is not plausible, or None."""
        for column, bound in self.bounds.get(dataset, {}).items():
            value = row.get(column)
            if value is None or isinstance(value, bool) or not isinstance(value, int | float):
                continue  # absent, or not a number: the schema check names it
            if value > bound.maximum:
                return (
                    f"{column}: {value} is above the plausible maximum {bound.maximum} "
                    f"(collect.limits.{dataset}.{column}; {bound.basis})"
                )
            if value < bound.minimum:
                return f"{column}: {value} is below the minimum {bound.minimum}"
        for column, values in self.known.get(dataset, {}).items():
            value = row.get(column)
            if value is not None and value not in values:
                return f"{column}: unknown value {str(value)[:80]!r}, not billed by guess"
        return None


def limits_from_config(config: ProviderConfig) -> Limits:
    """The defaults with the provider's ``[collect.limits.<dataset>] <column> = max``."""
    section = config.section("collect").sub("limits")
    bounds = {name: dict(columns) for name, columns in BOUNDS.items()}
    for dataset in section.data:
        table = section.sub(dataset)
        if dataset not in BOUNDS:
            raise section.error(dataset, f"no bounded quantities; known: {', '.join(BOUNDS)}")
        for column in table.data:
            if column not in BOUNDS[dataset]:
                known = ", ".join(BOUNDS[dataset])
                raise table.error(column, f"not a bounded quantity of {dataset}; known: {known}")
            value = table.get(column, int)
            if value < BOUNDS[dataset][column].minimum:
                raise table.error(column, f"must be at least {BOUNDS[dataset][column].minimum}")
            bounds[dataset][column] = replace(
                BOUNDS[dataset][column], maximum=value, basis="set in the provider config"
            )
    return Limits(bounds=bounds)


# The column that names a row's resource in the quarantine (the first one a row has).
_KEYS = (
    "vm_id",
    "edge_gateway_id",
    "instance_id",
    "cluster_id",
    "backup_name",
    "bucket",
    "policy_id",
    "group_id",
    "vdc_id",
    "org_id",
)


def screen(batch: Batch, limits: Limits, complete: Callable[[Row], Row]) -> list[Row]:
    """The rows of ``batch`` to write, completed by ``complete`` (site, run, times); every
    other row is quarantined on the batch with its reason: a value out of range or not
    known, text that is not valid Unicode, a value that does not fit the dataset's schema."""
    good: list[Row] = []
    for row in batch.rows:
        key = next((k for k in _KEYS if row.get(k) not in (None, "")), "")
        problem = limits.problem(batch.dataset, row) or bad_text(row)
        if problem:
            batch.refuse(row, problem, key)
        else:
            good.append(row)
    full = [complete(row) for row in good]
    try:
        store.to_table(batch.dataset, full)
        return full
    except LakeError:
        pass  # find the rows that do not fit, one by one (only when some do not)
    fitting = []
    for row, out in zip(good, full, strict=True):
        try:
            store.to_table(batch.dataset, [out])
        except LakeError as exc:
            key = next((k for k in _KEYS if row.get(k) not in (None, "")), "")
            batch.refuse(row, exc.message.removeprefix(f"{batch.dataset}: "), key)
            continue
        fitting.append(out)
    return fitting
