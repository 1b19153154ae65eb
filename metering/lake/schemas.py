"""Every lake dataset's schema, defined once, with a doc per field (Parquet field metadata).

A *sample* dataset holds what a source looked like at one sample time ``t``; its files are
keyed by ``t`` so collecting the same instant again replaces them (no duplicates). Every
sample row carries :data:`COMMON` (``site, source, run_id, collected_at, sample_time``).

``cloudian_usage`` is a *series*: Cloudian keeps hourly history itself, so each row is one
interval ``[interval_start, interval_end)`` and its file is keyed by the interval's hour; its
``sample_time`` is ``interval_end`` (the instant the hour became complete), so a regular run
and a backfill of the same hour write the same rows.

``runs`` is the run log (one row per site × source per run; kept, never replaced) and
``quarantine`` holds records that failed validation, with the reason and the raw JSON.

Conventions: snake_case; ids are the source's own ids (VCD URNs, Cloudian ids); sizes carry
their unit in the name (``_mb`` = VCD MiB, ``_bytes``); CPU of containers is exact integer
millicores; times are ``timestamp[us, UTC]``. A field's doc is in ``field.metadata[b"doc"]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")


def _f(name: str, kind: pa.DataType, doc: str, *, nullable: bool = True) -> pa.Field:
    return pa.field(name, kind, nullable=nullable, metadata={"doc": doc})


def _req(name: str, kind: pa.DataType, doc: str) -> pa.Field:
    return _f(name, kind, doc, nullable=False)


COMMON: tuple[pa.Field, ...] = (
    _req("site", pa.string(), "Site (availability zone) name from the provider config."),
    _req("source", pa.string(), "Collector that wrote the row: vcd, cse, alp, dse, ose, cloudian."),
    _req("run_id", pa.string(), "Id of the collection run that wrote the row (see `runs`)."),
    _req("collected_at", TS, "Wall-clock time the collector received the data."),
    _req("sample_time", TS, "Instant the row describes (the scheduled sample on the grid, UTC)."),
)

_ORG = (
    _f("org_id", pa.string(), "VCD organization URN (urn:vcloud:org:...), if the source gives it."),
    _req("org_name", pa.string(), "VCD organization name: the tenant key (catalog maps it)."),
)

VCD_VM = (
    _req("vm_id", pa.string(), "VM id: the VCD URN (urn:vcloud:vm:<uuid>)."),
    _req("vm_name", pa.string(), "VM name."),
    *_ORG,
    _f("vdc_id", pa.string(), "Org VDC URN the VM lives in."),
    _f("vdc_name", pa.string(), "Org VDC name."),
    _f("vapp_id", pa.string(), "vApp URN containing the VM."),
    _f("vapp_name", pa.string(), "vApp name (containerName); a TKG node's vApp is its cluster."),
    _req("status", pa.string(), "VCD status string, e.g. POWERED_ON, POWERED_OFF, SUSPENDED."),
    _req("powered_on", pa.bool_(), "True when status is POWERED_ON: compute is charged."),
    _req("vcpu", pa.int64(), "Number of vCPUs (numberOfCpus)."),
    _req("memory_mb", pa.int64(), "Configured memory in MiB (memoryMB)."),
    _req("storage_mb", pa.int64(), "Provisioned disk in MiB (totalStorageAllocatedMb)."),
    _req("storage_policy", pa.string(), "VM storage policy name (storageProfileName)."),
    _f("sizing_policy_id", pa.string(), "VDC compute (sizing) policy URN, if any."),
    _f(
        "guest_os",
        pa.string(),
        "Guest OS as VCD names it (guestOs), e.g. 'Microsoft Windows Server 2019 (64-bit)'; "
        "its licence family is billed (docs/metering-rules.md).",
    ),
    _req("is_tkg_node", pa.bool_(), "True when the VM is a node of a TKG (CSE) cluster."),
    _f("tkg_cluster_id", pa.string(), "CSE cluster RDE URN of a TKG node (null otherwise)."),
    _f("tkg_cluster_name", pa.string(), "CSE cluster name of a TKG node (null otherwise)."),
)

VCD_ORG_VDC = (
    _req("vdc_id", pa.string(), "Org VDC URN."),
    _req("vdc_name", pa.string(), "Org VDC name."),
    *_ORG,
    _f("allocation_model", pa.string(), "AllocationVApp, AllocationPool, ReservationPool, Flex."),
    _f("is_enabled", pa.bool_(), "Whether the VDC is enabled."),
    _f("cpu_allocation_mhz", pa.int64(), "CPU allocation in MHz."),
    _f("cpu_limit_mhz", pa.int64(), "CPU limit in MHz."),
    _f("cpu_used_mhz", pa.int64(), "CPU in use in MHz."),
    _f("memory_allocation_mb", pa.int64(), "Memory allocation in MiB."),
    _f("memory_limit_mb", pa.int64(), "Memory limit in MiB."),
    _f("memory_used_mb", pa.int64(), "Memory in use in MiB."),
    _f("storage_limit_mb", pa.int64(), "Storage limit in MiB."),
    _f("storage_used_mb", pa.int64(), "Storage in use in MiB."),
    _f("vm_count", pa.int64(), "Number of VMs (numberOfVMs)."),
    _f("running_vm_count", pa.int64(), "Number of running VMs."),
    _f("provider_vdc_name", pa.string(), "Backing provider VDC name."),
)

VCD_DISK = (
    _req("disk_id", pa.string(), "Independent disk id: the VCD URN (urn:vcloud:disk:<uuid>)."),
    _req("disk_name", pa.string(), "Independent disk name."),
    *_ORG,
    _f("vdc_id", pa.string(), "Org VDC URN the disk lives in."),
    _f("vdc_name", pa.string(), "Org VDC name."),
    _req("size_mb", pa.int64(), "Provisioned size in MiB (sizeMb); billed per GB-month."),
    _req("storage_policy", pa.string(), "Storage policy name (storageProfileName): billed by."),
    _f("status", pa.string(), "VCD status string of the disk (status)."),
    _f("is_attached", pa.bool_(), "True when the disk is attached to a VM (isAttached)."),
    _f("attached_vm_count", pa.int64(), "Number of VMs it is attached to (attachedVmCount)."),
    _f("is_shareable", pa.bool_(), "True for a shareable disk (isShareable)."),
)

VCD_VM_SNAPSHOT = (
    _req("vm_id", pa.string(), "Id of the VM the snapshots are of: its VCD URN."),
    _req("vm_name", pa.string(), "VM name."),
    *_ORG,
    _f("vdc_id", pa.string(), "Org VDC URN the VM lives in."),
    _req("storage_policy", pa.string(), "The VM's storage policy (storageProfileName): billed by."),
    _req("snapshot_count", pa.int64(), "Snapshots the VM's SnapshotSection lists."),
    _req(
        "size_bytes",
        pa.int64(),
        "Storage the snapshots hold: the sum of their size (bytes); billed per GB-month.",
    ),
    _f("oldest_created", TS, "Creation time of the oldest snapshot listed (created)."),
)

VCD_MEDIA = (
    _req("media_id", pa.string(), "Catalog media URN (urn:vcloud:media:<uuid>)."),
    _req("media_name", pa.string(), "Media item name."),
    *_ORG,
    _f("catalog_id", pa.string(), "URN of the catalog the item is in (catalog)."),
    _f("catalog_name", pa.string(), "Catalog name (catalogName)."),
    _f("vdc_id", pa.string(), "Org VDC URN whose storage holds the item (vdc)."),
    _f("vdc_name", pa.string(), "Org VDC name (vdcName)."),
    _req("size_bytes", pa.int64(), "Stored size in bytes (storageB); billed as GB-hours."),
    _req("storage_policy", pa.string(), "Storage policy name (storageProfileName)."),
    _f("status", pa.string(), "VCD status string (status), e.g. RESOLVED; not a billing rule."),
    _f("is_published", pa.bool_(), "True when the item's catalog is published (isPublished)."),
)

VCD_EDGE_GATEWAY = (
    _req("edge_gateway_id", pa.string(), "Edge gateway URN (urn:vcloud:gateway:<uuid>)."),
    _req("edge_gateway_name", pa.string(), "Edge gateway name."),
    *_ORG,
    _f("owner_id", pa.string(), "Org VDC or VDC group URN that owns the gateway (ownerRef)."),
    _f("owner_name", pa.string(), "Org VDC or VDC group name (ownerRef)."),
    _f("status", pa.string(), "Gateway status as given (recorded; every listed one bills)."),
    _f(
        "gateway_type",
        pa.string(),
        "gatewayBacking.gatewayType as given, e.g. NSXT_BACKED (recorded, not billed on).",
    ),
    _req("uplink_count", pa.int64(), "Number of uplinks (edgeGatewayUplinks)."),
    _f("primary_uplink_name", pa.string(), "External network of the first uplink (uplinkName)."),
    _req(
        "allocated_ip_count",
        pa.int64(),
        "IP addresses of external networks allocated to the gateway: the sum of totalIpCount "
        "over every uplink's subnets (billed as public IPs; docs/metering-rules.md).",
    ),
    _f("used_ip_count", pa.int64(), "Of those, in use: the sum of usedIpCount (not billed)."),
    _f(
        "using_ip_space",
        pa.bool_(),
        "True when an uplink takes its IPs from IP Spaces (not counted in allocated_ip_count).",
    ),
)

VCD_VAPP_TEMPLATE = (
    _req("vm_id", pa.string(), "URN of a VM inside the vApp template (its VMRecord href)."),
    _req("vm_name", pa.string(), "Name of the template's VM."),
    _req("template_id", pa.string(), "vApp template URN (urn:vcloud:vapptemplate:<uuid>)."),
    _req("template_name", pa.string(), "vApp template name."),
    *_ORG,
    _f("catalog_id", pa.string(), "URN of the catalog the template is in (catalog)."),
    _f("catalog_name", pa.string(), "Catalog name (catalogName)."),
    _f("vdc_id", pa.string(), "Org VDC URN whose storage holds the template (vdc)."),
    _f("vdc_name", pa.string(), "Org VDC name (vdcName)."),
    _req("storage_mb", pa.int64(), "The VM's allocated storage in MiB (totalStorageAllocatedMb)."),
    _req("storage_policy", pa.string(), "The VM's storage policy name (storageProfileName)."),
    _f("status", pa.string(), "The template's VCD status string (status); not a billing rule."),
    _f("is_published", pa.bool_(), "True when the template's catalog is published (isPublished)."),
)

VCD_ORG = (
    _req("org_id", pa.string(), "Organization URN."),
    _req("org_name", pa.string(), "Organization name (tenant key)."),
    _f("display_name", pa.string(), "Display name."),
    _f("is_enabled", pa.bool_(), "Whether the org is enabled."),
    _f("vdc_count", pa.int64(), "orgVdcCount."),
    _f("vapp_count", pa.int64(), "vappCount."),
    _f("running_vm_count", pa.int64(), "runningVMCount."),
    _f("user_count", pa.int64(), "userCount."),
)

VCD_SIZING_POLICY = (
    _req("policy_id", pa.string(), "VDC compute policy URN."),
    _req("policy_name", pa.string(), "Policy name (CSE node pools refer to it by name)."),
    _f("description", pa.string(), "Policy description."),
    _f("cpu_count", pa.int64(), "vCPUs per VM of this size."),
    _f("cores_per_socket", pa.int64(), "Cores per socket."),
    _f("memory_mb", pa.int64(), "Memory per VM in MiB."),
    _f("cpu_speed_mhz", pa.int64(), "CPU speed in MHz."),
    _f("is_sizing_only", pa.bool_(), "True for a sizing-only policy."),
)

CSE_CLUSTER = (
    _req("cluster_id", pa.string(), "Cluster RDE URN (urn:vcloud:entity:vmware:capvcdCluster:…)."),
    _req("cluster_name", pa.string(), "Cluster name."),
    *_ORG,
    _f("vdc_id", pa.string(), "First org VDC URN (vcdProperties.orgVdcs; null if only a name)."),
    _f("vdc_name", pa.string(), "First org VDC name of the cluster."),
    _f("owner_name", pa.string(), "User who owns the cluster entity."),
    _req("entity_state", pa.string(), "RDE state: PRE_CREATED, RESOLVED, RESOLUTION_ERROR."),
    _f("phase", pa.string(), "status.capvcd.phase (CAPI cluster phase), e.g. Provisioned."),
    _f("cse_state", pa.string(), "status.vcdKe.state: provisioning, provisioned, error, deleting."),
    _f("kubernetes_version", pa.string(), "status.capvcd.kubernetes."),
    _req("entity_type", pa.string(), "Entity type URN incl. version (capvcdCluster 1.1/1.2/1.3)."),
    _req("control_plane_nodes", pa.int64(), "Available control-plane nodes (sum of pools)."),
    _req("worker_nodes", pa.int64(), "Available worker nodes (sum of pools)."),
    _req("node_pool_count", pa.int64(), "Number of node pools."),
)

CSE_NODE_POOL = (
    _req("cluster_id", pa.string(), "Cluster RDE URN."),
    _req("cluster_name", pa.string(), "Cluster name."),
    *_ORG,
    _req("pool_name", pa.string(), "Node pool name."),
    _req("role", pa.string(), "control_plane or worker (from the pool name)."),
    _f("sizing_policy", pa.string(), "Sizing policy name of the pool's nodes."),
    _f("vcpu_per_node", pa.int64(), "vCPUs per node from the sizing policy (null if unknown)."),
    _f("memory_mb_per_node", pa.int64(), "Memory per node (MiB) from the sizing policy."),
    _f("storage_policy", pa.string(), "Storage profile of the nodes' disks."),
    _f("disk_size_mb", pa.int64(), "Disk per node in MiB."),
    _f("gpu_enabled", pa.bool_(), "nvidiaGpuEnabled."),
    _req("desired_replicas", pa.int64(), "Desired node count."),
    _req("available_replicas", pa.int64(), "Available (running) node count."),
)

ALP_APP = (
    _req("instance_id", pa.string(), "App instance URN (urn:vcloud:app:...)."),
    _req("instance_name", pa.string(), "Instance name given by the tenant."),
    _req("app_id", pa.string(), "Catalog app id, e.g. bitnami-wordpress (the product dimension)."),
    _f("app_version", pa.string(), "Chart/app version."),
    _f("app_type", pa.string(), "VmApp or ContainerApp."),
    _req("status", pa.string(), "READY, FAILED or NOT_READY."),
    *_ORG,
    _f("vdc_id", pa.string(), "Org VDC URN."),
    _f("vdc_name", pa.string(), "Org VDC name."),
    _f("owner_name", pa.string(), "User who deployed it."),
    _f("cluster_id", pa.string(), "Target TKG cluster URN of a ContainerApp."),
    _f("cluster_name", pa.string(), "Target TKG cluster name of a ContainerApp."),
    _f("namespace", pa.string(), "Kubernetes namespace of a ContainerApp."),
    _f("created_at", TS, "creationDate."),
)

_DSE_KEYS = (
    _req("instance_id", pa.string(), "DSE instance RDE URN."),
    _req("instance_name", pa.string(), "Instance name."),
    *_ORG,
    _req("kind", pa.string(), "rabbitmq, postgres, mysql, mongodb, or other (from solutionType)."),
)

DSE_INSTANCE = (
    *_DSE_KEYS,
    _req("solution_type", pa.string(), "solutionType as given, e.g. VMware SQL with PostgreSQL."),
    _f("version", pa.string(), "Solution version."),
    _f("template_name", pa.string(), "Instance template name."),
    _f("owner_name", pa.string(), "Owner user name."),
    _f("cluster_id", pa.string(), "TKG cluster URN the instance runs on."),
    _f("cluster_name", pa.string(), "TKG cluster name."),
    _f("namespace", pa.string(), "Kubernetes namespace."),
    _req("replicas", pa.int64(), "Replicas (pods) of the service."),
    _f("high_availability", pa.bool_(), "highAvailability flag."),
    _f("entity_state", pa.string(), "RDE state."),
    _f("phase", pa.string(), "status.phase, e.g. Running."),
    _req("service_cpu_millicores", pa.int64(), "Σ service containers' CPU limit × replicas."),
    _req("sidecar_cpu_millicores", pa.int64(), "Σ sidecar containers' CPU limit × replicas."),
    _req("operator_cpu_millicores", pa.int64(), "Σ operator containers' CPU (never billed)."),
    _f("memory_bytes", pa.int64(), "spec.data.memory per replica, exact bytes."),
    _f("storage_bytes", pa.int64(), "spec.data.storage per replica, exact bytes."),
)

DSE_CONTAINER = (
    *_DSE_KEYS,
    _req("container_name", pa.string(), "Container name."),
    _req("role", pa.string(), "service (runs the data service), sidecar, or operator."),
    _req("replicas", pa.int64(), "How many copies run (instance replicas; 1 for operators)."),
    _f("cpu_request_millicores", pa.int64(), "CPU request per copy, exact millicores."),
    _f("cpu_limit_millicores", pa.int64(), "CPU limit per copy, exact millicores."),
    _f("cpu_limit", pa.string(), "CPU limit as the API gave it (e.g. '1500m', '2', '0.5')."),
    _f("memory_limit_bytes", pa.int64(), "Memory limit per copy, exact bytes."),
)

_OSE_TENANT = (
    _req("org_id", pa.string(), "VCD organization URN (OSE tenant id)."),
    _f("org_name", pa.string(), "Organization name."),
)

OSE_TENANT_USAGE = (
    *_OSE_TENANT,
    _f("scope", pa.string(), "CommonUsage scope (TENANT)."),
    _f("total_bytes", pa.int64(), "totalBytes (quota)."),
    _req("used_bytes", pa.int64(), "usedBytes: logical bytes stored."),
    _f("available_bytes", pa.int64(), "availableBytes."),
    _f("object_count", pa.int64(), "objectCount."),
    _f("bucket_count", pa.int64(), "bucketCount."),
    _f("user_count", pa.int64(), "Number of OSE users of the tenant."),
)

OSE_BUCKET = (
    *_OSE_TENANT,
    _req("bucket", pa.string(), "Bucket name."),
    _f("owner", pa.string(), "Bucket owner (OSE user)."),
    _f("storage_policy", pa.string(), "Storage policy of the bucket."),
    _req("used_bytes", pa.int64(), "Logical bytes in the bucket."),
    _f("object_count", pa.int64(), "Objects in the bucket."),
)

OSE_BACKUP = (
    *_OSE_TENANT,
    _req("cluster_id", pa.string(), "TKG cluster URN that was backed up."),
    _req("backup_name", pa.string(), "Velero backup name."),
    _f("phase", pa.string(), "Backup phase, e.g. Completed."),
    _f("start_time", TS, "Backup start."),
    _f("completion_time", TS, "Backup completion."),
    _f("bucket", pa.string(), "Bucket holding the backup."),
    _f("size_bytes", pa.int64(), "Backup size in bytes."),
    _f("object_count", pa.int64(), "Objects in the backup."),
)

CLOUDIAN_GROUP = (
    _req("group_id", pa.string(), "Cloudian group id (OSE maps one org to one group)."),
    _f("group_name", pa.string(), "Group name."),
    _f("active", pa.bool_(), "Group active flag (the API sends a string)."),
    _f("user_count", pa.int64(), "Users in the group."),
)

CLOUDIAN_BUCKET_USAGE = (
    _req("group_id", pa.string(), "Cloudian group id."),
    _req("user_id", pa.string(), "Cloudian user id owning the bucket."),
    _req("bucket", pa.string(), "Bucket name."),
    _f("storage_policy", pa.string(), "policyName of the bucket."),
    _req("byte_count", pa.int64(), "Logical bytes stored."),
    _f("object_count", pa.int64(), "Objects stored."),
)

_DC_ENTRY = pa.struct(
    [
        pa.field("dc", pa.string()),
        pa.field("replicas", pa.int64()),
        pa.field("ec_k", pa.int64()),
        pa.field("ec_m", pa.int64()),
    ]
)

CLOUDIAN_STORAGE_POLICY = (
    _req("policy_id", pa.string(), "Storage policy id."),
    _req("policy_name", pa.string(), "Storage policy name (buckets refer to it)."),
    _f("description", pa.string(), "policyDescription."),
    _f("status", pa.string(), "ACTIVE or DISABLED."),
    _f("region", pa.string(), "Region."),
    _f("is_default", pa.bool_(), "Default policy flag."),
    _req("scheme", pa.string(), "REPLICATION, EC, REPLICATED_EC or DISTRIBUTED_EC."),
    _req("data_centers", pa.list_(_DC_ENTRY), "Per DC: replicas (replication) or EC k+m."),
    _req("dc_count", pa.int64(), "Number of data centres the policy spans."),
    _f("total_replicas", pa.int64(), "Σ replicas over DCs (replication schemes; else null)."),
    _f("ec_k", pa.int64(), "EC data fragments k (EC schemes; same in every DC)."),
    _f("ec_m", pa.int64(), "EC parity fragments m (EC schemes; same in every DC)."),
)

CLOUDIAN_USAGE = (
    _req("group_id", pa.string(), "Cloudian group id."),
    _f("user_id", pa.string(), "Cloudian user id (null for a group-level series)."),
    _f("bucket", pa.string(), "Bucket (null unless the series is per bucket)."),
    _f("storage_policy", pa.string(), "Storage policy of the bucket, if known."),
    _req("operation", pa.string(), "SB bytes, SO objects, HG/HP/HD GET/PUT/DELETE, BI/BO."),
    _req("interval_start", TS, "Start of the interval (inclusive)."),
    _req("interval_end", TS, "End of the interval (exclusive); equals sample_time."),
    _req("value", pa.int64(), "Value over the interval (bytes, objects or request count)."),
)

RUNS = (
    _req("run_id", pa.string(), "Run id."),
    _req("site", pa.string(), "Site."),
    _req("source", pa.string(), "Collector."),
    _req("sample_time", TS, "Sample time the run collected (window end for a series)."),
    _req("window_start", TS, "Start of the collected window."),
    _req("window_end", TS, "End of the collected window (exclusive)."),
    _req("status", pa.string(), "ok, partial (records quarantined) or failed (gap)."),
    _req("rows", pa.int64(), "Rows written over all datasets."),
    _req("quarantined", pa.int64(), "Records quarantined."),
    _req("errors", pa.int64(), "Errors (failed datasets)."),
    _f(
        "error",
        pa.string(),
        "Why parts failed or are partial: each reason once, joined by '; ' (one line, no secrets).",
    ),
    _req("datasets", pa.list_(pa.string()), "Datasets fully written by this run."),
    _req("started_at", TS, "Wall-clock start."),
    _req("finished_at", TS, "Wall-clock end."),
    _req("duration_ms", pa.int64(), "Duration in milliseconds."),
    _f(
        "api_version",
        pa.string(),
        "VCD API version negotiated for the site (null if VCD was not reached).",
    ),
)

QUARANTINE = (
    _req("dataset", pa.string(), "Dataset the record was meant for."),
    _req("site", pa.string(), "Site."),
    _req("source", pa.string(), "Collector."),
    _req("run_id", pa.string(), "Run that met the record."),
    _req("sample_time", TS, "Sample time of the run."),
    _req("collected_at", TS, "Wall-clock time the record was received."),
    _req("record_key", pa.string(), "Best id of the record (or its position) for people."),
    _req("reason", pa.string(), "Why it was rejected (names the field)."),
    _req("raw_record", pa.string(), "The record as received, JSON text."),
)


# Not collected but derived from the lake (the sample files and `runs` of a day), so it is
# outside DATASETS: written by metering.completeness.coverage, one file per site and day.
COVERAGE_SCHEMA = pa.schema(
    [
        _req("site", pa.string(), "Site."),
        _req("source", pa.string(), "Collector: vcd, cse, alp, dse, ose, cloudian."),
        _req("hour", TS, "Start of the UTC hour [hour, hour + 1 h)."),
        _req(
            "expected",
            pa.int64(),
            "Collection instants due in the hour (sampling instants the source is read at; "
            "Cloudian also its hourly usage series).",
        ),
        _req("collected", pa.int64(), "Of those, the instants whose files are all in the lake."),
        _req("failed_runs", pa.int64(), "Collection runs of the hour that failed (see `runs`)."),
        _req(
            "interrupted_runs",
            pa.int64(),
            "Collect pipeline runs of the hour's instants marked interrupted (process died).",
        ),
        _req(
            "status",
            pa.string(),
            "complete, failed (a run failed), interrupted, outage (no run at all) or not_due.",
        ),
        _req("computed_at", TS, "When this row was computed from the lake."),
    ],
    metadata={"dataset": "coverage", "doc": "Expected vs collected instants per hour."},
)


@dataclass(frozen=True)
class Dataset:
    """A lake dataset: its name, the collector that fills it, its schema and how it is keyed."""

    name: str
    source: str
    schema: pa.Schema
    doc: str
    series: bool = False


def _dataset(name: str, source: str, doc: str, fields: tuple[pa.Field, ...], **kw: bool) -> Dataset:
    common = () if name in ("runs", "quarantine") else COMMON
    schema = pa.schema([*common, *fields], metadata={"dataset": name, "doc": doc})
    return Dataset(name, source, schema, doc, **kw)


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        _dataset("vcd_vm", "vcd", "Every VM (TKG nodes included), one row per sample.", VCD_VM),
        _dataset("vcd_org_vdc", "vcd", "Org VDC allocation and usage.", VCD_ORG_VDC),
        _dataset("vcd_disk", "vcd", "Independent disks (adminDisk).", VCD_DISK),
        _dataset(
            "vcd_vm_snapshot",
            "vcd",
            "VM snapshots: one row per VM that has any (SnapshotSection).",
            VCD_VM_SNAPSHOT,
        ),
        _dataset("vcd_media", "vcd", "Catalog media (ISO/floppy images).", VCD_MEDIA),
        _dataset(
            "vcd_vapp_template",
            "vcd",
            "VMs of the vApp templates in catalogs, under the org owning the template.",
            VCD_VAPP_TEMPLATE,
        ),
        _dataset("vcd_org", "vcd", "Organizations.", VCD_ORG),
        _dataset(
            "vcd_edge_gateway", "vcd", "Edge gateways and their allocated IPs.", VCD_EDGE_GATEWAY
        ),
        _dataset("vcd_sizing_policy", "vcd", "VDC compute (sizing) policies.", VCD_SIZING_POLICY),
        _dataset("cse_cluster", "cse", "TKG clusters (CSE RDEs).", CSE_CLUSTER),
        _dataset("cse_node_pool", "cse", "Node pools of TKG clusters.", CSE_NODE_POOL),
        _dataset("alp_app", "alp", "App Launchpad app instances.", ALP_APP),
        _dataset("dse_instance", "dse", "DSE data-solution instances.", DSE_INSTANCE),
        _dataset("dse_container", "dse", "Containers of DSE instances.", DSE_CONTAINER),
        _dataset("ose_tenant_usage", "ose", "OSE usage per tenant.", OSE_TENANT_USAGE),
        _dataset("ose_bucket", "ose", "OSE buckets with usage.", OSE_BUCKET),
        _dataset("ose_backup", "ose", "Velero backups of TKG clusters.", OSE_BACKUP),
        _dataset("cloudian_group", "cloudian", "Cloudian groups.", CLOUDIAN_GROUP),
        _dataset(
            "cloudian_bucket_usage", "cloudian", "Bytes/objects per bucket.", CLOUDIAN_BUCKET_USAGE
        ),
        _dataset(
            "cloudian_storage_policy", "cloudian", "Storage policies.", CLOUDIAN_STORAGE_POLICY
        ),
        _dataset("cloudian_usage", "cloudian", "Hourly usage series.", CLOUDIAN_USAGE, series=True),
        _dataset("runs", "", "Run log: one row per site × source per run.", RUNS),
        _dataset("quarantine", "", "Records that failed validation.", QUARANTINE),
    )
}

SOURCES: tuple[str, ...] = ("vcd", "cse", "alp", "dse", "ose", "cloudian")


def schema(name: str) -> pa.Schema:
    """The schema of dataset ``name`` (KeyError names the unknown dataset)."""
    return DATASETS[name].schema


def datasets_of(source: str) -> list[Dataset]:
    """The datasets one collector fills, in a stable order."""
    return [d for d in DATASETS.values() if d.source == source]


def doc(field: pa.Field) -> str:
    """A field's doc string."""
    raw: bytes = (field.metadata or {}).get(b"doc", b"")
    return raw.decode()


def markdown_table(name: str) -> str:
    """The column table of a dataset for docs/collectors.md (kept in sync by a test)."""
    lines = ["| column | type | doc |", "|---|---|---|"]
    for f in DATASETS[name].schema:
        nullable = "" if f.nullable else " not null"
        lines.append(f"| `{f.name}` | {f.type}{nullable} | {doc(f)} |")
    return "\n".join(lines)
