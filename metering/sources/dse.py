"""DSE collector: data-solution instances and their containers, CPU in exact millicores.

Public code (go-vcd ``govcd/dse_*.go``, ``types/v56/dse.go``) knows DSE's configuration RDEs:
``vmware:dsConfig:0.1`` (one per data solution), ``vmware:dsInstanceTemplate:0.1`` (sizes:
``spec.data.cpu/memory/storage/highAvailability``) and ``vmware:dsOrgConfig:0.1.1``. The
instance entity is not in any public source (docs/collectors.md, "DSE"): it is read as
``vmware:dsInstance`` RDEs of every version the site registers, found through
``/cloudapi/1.0.0/entityTypes`` (the filter go-vcd's ``getRdeType`` uses). A site with no
``dsInstance`` type fails the part with one line saying whether DSE is installed at all
(``dsConfig`` registered) or only its instance type is unknown; a registered type with no
instances is a good answer with zero rows.

An instance's CPU comes from, in order: its ``spec.containers[]`` (Kubernetes resources per
container); else ``spec.data.cpu`` (the field the instance template's ``dataSchema``
describes) as the service CPU per replica; else the ``spec.data.cpu`` of its template
(``spec.templateName``, a ``dsInstanceTemplate``). Each container is classified:

- ``operator``: a Kubernetes operator's container (``role: operator``, a name containing
  ``operator``, or listed under ``spec.operator.containers``); never billed;
- ``service``: runs the data service itself (``role: service``, or named after the kind:
  postgres, mysql, rabbitmq, mongodb);
- ``sidecar``: everything else (exporters, proxies).

CPU quantities are Kubernetes strings ("2", "1500m", "0.5") parsed exactly to integer
millicores; a quantity that is not a whole millicore quarantines the instance.
"""

from __future__ import annotations

from typing import Any

from metering.errors import SourceDataError
from metering.sources.base import Context, Part
from metering.sources.rde import entities, registered_versions
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

INSTANCE_NSS, CONFIG_NSS, TEMPLATE_NSS = "dsInstance", "dsConfig", "dsInstanceTemplate"
_KINDS = (
    ("rabbitmq", "rabbitmq"),
    ("postgres", "postgres"),
    ("mysql", "mysql"),
    ("mongo", "mongodb"),
)
SERVICE_CONTAINER_OF = {"rabbitmq": "rabbitmq", "postgres": "postgres", "mysql": "mysql"}
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


def _containers(rde: Record, kind: str, replicas: int, templates: dict[str, Record]) -> list[Row]:
    spec = dig(rde, "entity.spec") or {}
    listed = spec.get("containers") if isinstance(spec, dict) else None
    if listed is None:
        return [_data_row(rde, kind, replicas, templates)]
    if not isinstance(listed, list) or not listed:
        raise RecordError("entity.spec.containers: empty or not a list")
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


def _data_row(rde: Record, kind: str, replicas: int, templates: dict[str, Record]) -> Row:
    """No container list: the service CPU per replica is ``spec.data.cpu``, else the template's."""
    where = "entity.spec.data.cpu"
    cpu = quantity(rde, where, cpu_millicores)
    if cpu is None:
        template = opt_str(rde, "entity.spec.templateName")
        found = templates.get(f"{opt_str(rde, 'entity.spec.solutionType')}/{template}")
        if found is None:
            raise RecordError(
                "entity.spec.data.cpu: missing, and no containers nor a known template "
                f"(entity.spec.templateName={template!r}) give the instance's CPU"
            )
        where = f"dsInstanceTemplate {template!r} spec.data.cpu"
        try:
            cpu = quantity(found, "entity.spec.data.cpu", cpu_millicores)
        except RecordError as exc:
            raise RecordError(f"{where}: {exc}") from None
        if cpu is None:
            raise RecordError(f"{where}: missing")
        raw = dig(found, "entity.spec.data.cpu")
    else:
        raw = dig(rde, "entity.spec.data.cpu")
    return {
        "container_name": SERVICE_CONTAINER_OF.get(kind, kind),
        "role": "service",
        "replicas": replicas,
        "cpu_request_millicores": None,
        "cpu_limit_millicores": cpu,
        "cpu_limit": str(raw) if raw is not None else None,
        "memory_limit_bytes": quantity(rde, "entity.spec.data.memory", memory_bytes),
    }


def _cpu(row: Row) -> int:
    """Billed CPU of one copy: the limit, or the request when no limit is set."""
    value = row["cpu_limit_millicores"]
    if value is None:
        value = row["cpu_request_millicores"]
    return int(value or 0)


def _replicas(rde: Record) -> int:
    replicas = opt_int(rde, "entity.spec.data.replicas")
    if replicas is None:
        if opt_bool(rde, "entity.spec.data.highAvailability"):
            raise RecordError(
                "entity.spec.data.replicas: missing on a highAvailability instance "
                "(its replica count cannot be derived)"
            )
        return 1
    if replicas < 1:
        raise RecordError(f"entity.spec.data.replicas: must be >= 1, got {replicas}")
    return replicas


def instance_rows(rde: Record, templates: dict[str, Record] | None = None) -> tuple[Row, list[Row]]:
    """One ``dse_instance`` row and its ``dse_container`` rows."""
    solution = req_str(rde, "entity.spec.solutionType")
    kind = kind_of(solution)
    replicas = _replicas(rde)
    keys = {
        "instance_id": req_str(rde, "id"),
        "instance_name": opt_str(rde, "name") or req_str(rde, "entity.metadata.name"),
        "org_id": opt_str(rde, "org.id"),
        "org_name": req_str(rde, "org.name"),
        "kind": kind,
    }
    containers = [{**keys, **c} for c in _containers(rde, kind, replicas, templates or {})]

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


async def _not_registered(ctx: Context) -> SourceDataError:
    site = ctx.site.name
    if await registered_versions(ctx, CONFIG_NSS):
        return SourceDataError(
            f"DSE is installed on this site (vmware:{CONFIG_NSS} registered) but no "
            f"vmware:{INSTANCE_NSS} entity type is registered: its instances cannot be read "
            "(docs/collectors.md, DSE)",
            site=site,
        )
    return SourceDataError(
        f"DSE is not installed on this site: no vmware:{CONFIG_NSS} nor "
        f"vmware:{INSTANCE_NSS} entity type is registered",
        site=site,
    )


def _needs_template(rde: Any) -> bool:
    return (
        isinstance(rde, dict)
        and dig(rde, "entity.spec.containers") is None
        and dig(rde, "entity.spec.data.cpu") in (None, "")
    )


async def _templates(ctx: Context) -> dict[str, Record]:
    versions = await registered_versions(ctx, TEMPLATE_NSS)
    found: dict[str, Record] = {}
    for rde in await entities(ctx, TEMPLATE_NSS, versions):
        if not isinstance(rde, dict):
            continue
        name = opt_str(rde, "entity.metadata.name") or opt_str(rde, "name")
        solution = opt_str(rde, "entity.spec.solutionType")
        if name and solution:
            found.setdefault(f"{solution}/{name}", rde)  # template names repeat per solution
    return found


async def _instances(ctx: Context) -> list[Batch]:
    versions = await registered_versions(ctx, INSTANCE_NSS)
    if not versions:
        raise await _not_registered(ctx)
    records = await entities(ctx, INSTANCE_NSS, versions)
    templates = await _templates(ctx) if any(_needs_template(r) for r in records) else {}
    instances, containers = Batch("dse_instance"), Batch("dse_container")

    def both(rde: Record) -> Row:
        instance, rows = instance_rows(rde, templates)
        containers.rows.extend(rows)
        return instance

    instances.map(records, both, "id")
    return [instances, containers]


PARTS = (Part(("dse_instance", "dse_container"), _instances),)
