"""DSE collector: data-solution instances and their containers, CPU in exact millicores.

Reads the instance RDEs ``/cloudapi/1.0.0/entities/types/vmware/dsInstance/0.1`` (the
simulated shape of docs/api-reference §5). Each container is classified:

- ``operator``: a Kubernetes operator's container (``role: operator``, a name containing
  ``operator``, or listed under ``spec.operator.containers``); never billed;
- ``service``: runs the data service itself (``role: service``, or named after the kind:
  postgres, mysql, rabbitmq, mongodb);
- ``sidecar``: everything else (exporters, proxies).

CPU quantities are Kubernetes strings ("2", "1500m", "0.5") parsed exactly to integer
millicores; a quantity that is not a whole millicore quarantines the instance.
"""

from __future__ import annotations

from metering.sources import paging
from metering.sources.base import Context, Part
from metering.sources.records import (
    Batch,
    Record,
    RecordError,
    Row,
    cpu_millicores,
    dig,
    memory_bytes,
    opt_bool,
    opt_int,
    opt_str,
    quantity,
    req_str,
)

INSTANCE_PATH = "/cloudapi/1.0.0/entities/types/vmware/dsInstance/0.1"
_KINDS = (
    ("rabbitmq", "rabbitmq"),
    ("postgres", "postgres"),
    ("mysql", "mysql"),
    ("mongo", "mongodb"),
)
SERVICE_NAMES = {
    "rabbitmq": {"rabbitmq"},
    "postgres": {"postgres", "postgresql"},
    "mysql": {"mysql"},
    "mongodb": {"mongodb", "mongod"},
}


def kind_of(solution_type: str) -> str:
    """``"VMware SQL with PostgreSQL"`` → ``postgres``; unknown types → ``other``."""
    lowered = solution_type.lower()
    for needle, kind in _KINDS:
        if needle in lowered:
            return kind
    return "other"


def container_role(container: Record, kind: str) -> str:
    role = opt_str(container, "role")
    if role in ("service", "sidecar", "operator"):
        return role
    name = (opt_str(container, "name") or "").lower()
    if "operator" in name:
        return "operator"
    return "service" if name in SERVICE_NAMES.get(kind, set()) else "sidecar"


def _container_row(c: Record, role: str, replicas: int, where: str) -> Row:
    try:
        limit = quantity(c, "limits.cpu", cpu_millicores)
        request = quantity(c, "requests.cpu", cpu_millicores)
        return {
            "container_name": req_str(c, "name"),
            "role": role,
            "replicas": replicas,
            "cpu_request_millicores": request,
            "cpu_limit_millicores": limit,
            "cpu_limit": None if dig(c, "limits.cpu") is None else str(dig(c, "limits.cpu")),
            "memory_limit_bytes": quantity(c, "limits.memory", memory_bytes),
        }
    except RecordError as exc:
        raise RecordError(f"{where}.{exc}") from None


def _containers(rde: Record, kind: str, replicas: int) -> list[Row]:
    spec = dig(rde, "entity.spec") or {}
    listed = spec.get("containers") if isinstance(spec, dict) else None
    if not isinstance(listed, list) or not listed:
        raise RecordError("entity.spec.containers: missing or empty")
    operators = dig(rde, "entity.spec.operator.containers") or []
    rows = []
    for i, c in enumerate(listed):
        if not isinstance(c, dict):
            raise RecordError(f"entity.spec.containers[{i}]: not an object")
        role = container_role(c, kind)
        copies = 1 if role == "operator" else replicas
        rows.append(_container_row(c, role, copies, f"entity.spec.containers[{i}]"))
    for i, c in enumerate(operators if isinstance(operators, list) else []):
        if isinstance(c, dict):
            rows.append(_container_row(c, "operator", 1, f"entity.spec.operator.containers[{i}]"))
    return rows


def _cpu(row: Row) -> int:
    """Billed CPU of one copy: the limit, or the request when no limit is set."""
    value = row["cpu_limit_millicores"]
    if value is None:
        value = row["cpu_request_millicores"]
    return int(value or 0)


def instance_rows(rde: Record) -> tuple[Row, list[Row]]:
    """One ``dse_instance`` row and its ``dse_container`` rows."""
    solution = req_str(rde, "entity.spec.solutionType")
    kind = kind_of(solution)
    replicas = opt_int(rde, "entity.spec.data.replicas") or 1
    if replicas < 1:
        raise RecordError(f"entity.spec.data.replicas: must be >= 1, got {replicas}")
    keys = {
        "instance_id": req_str(rde, "id"),
        "instance_name": opt_str(rde, "name") or req_str(rde, "entity.metadata.name"),
        "org_id": opt_str(rde, "org.id"),
        "org_name": req_str(rde, "org.name"),
        "kind": kind,
    }
    containers = [{**keys, **c} for c in _containers(rde, kind, replicas)]

    def total(role: str) -> int:
        return sum(_cpu(c) * c["replicas"] for c in containers if c["role"] == role)

    instance = {
        **keys,
        "solution_type": solution,
        "version": opt_str(rde, "entity.spec.version"),
        "template_name": opt_str(rde, "entity.spec.templateName"),
        "owner_name": opt_str(rde, "owner.name"),
        "cluster_id": opt_str(rde, "entity.spec.cluster.id"),
        "cluster_name": opt_str(rde, "entity.spec.cluster.name"),
        "namespace": opt_str(rde, "entity.spec.namespace"),
        "replicas": replicas,
        "high_availability": opt_bool(rde, "entity.spec.data.highAvailability"),
        "entity_state": opt_str(rde, "state"),
        "phase": opt_str(rde, "entity.status.phase"),
        "service_cpu_millicores": total("service"),
        "sidecar_cpu_millicores": total("sidecar"),
        "operator_cpu_millicores": total("operator"),
        "memory_bytes": quantity(rde, "entity.spec.data.memory", memory_bytes),
        "storage_bytes": quantity(rde, "entity.spec.data.storage", memory_bytes),
    }
    return instance, containers


async def _instances(ctx: Context) -> list[Batch]:
    try:
        records = (await paging.openapi(ctx.client, INSTANCE_PATH)).records
    except paging.NotFound:
        records = []  # DSE not installed on this site: no instances
    instances, containers = Batch("dse_instance"), Batch("dse_container")

    def both(rde: Record) -> Row:
        instance, rows = instance_rows(rde)
        containers.rows.extend(rows)
        return instance

    instances.map(records, both, "id")
    return [instances, containers]


PARTS = (Part(("dse_instance", "dse_container"), _instances),)
