"""The closed set of products rating knows (docs/architecture.md "Products").

Each product has a *usage unit* (what ``usage_intervals`` and ``rated_usage`` measure) and a
*billing basis* that turns usage into the unit a price is quoted in:

- ``hour``: priced per unit-hour as measured (vCPU-hour, cluster-hour, ...);
- ``month``: usage is unit-hours, priced per unit-month = unit-hours ÷ hours in the month;
- ``count``: usage is a count over the interval (requests, GB transferred), priced per unit
  or per 1,000 (``per``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    name: str
    usage_unit: str
    billing_basis: str  # hour | month | count
    billing_unit: str
    label: str
    service: str
    dimension_label: str = ""


PRODUCTS: dict[str, Product] = {
    p.name: p
    for p in (
        Product("vcpu", "vCPU-hour", "hour", "vCPU-hour", "vCPU", "Compute"),
        Product("ram", "GiB-hour", "hour", "GiB-hour", "Memory", "Compute"),
        Product("vm_disk", "GB-hour", "month", "GB-month", "VM disk", "Storage", "storage policy"),
        Product(
            "independent_disk",
            "GB-hour",
            "month",
            "GB-month",
            "Independent disk",
            "Storage",
            "storage policy",
        ),
        Product(
            "vm_snapshot",
            "GB-hour",
            "month",
            "GB-month",
            "VM snapshot",
            "Storage",
            "storage policy",
        ),
        Product("tkg_cluster", "cluster-hour", "hour", "cluster-hour", "TKG cluster fee", "TKG"),
        Product(
            "object_storage",
            "GB-hour",
            "month",
            "GB-month",
            "Object storage",
            "Object storage",
            "storage policy",
        ),
        Product(
            "object_requests", "request", "count", "request", "Requests", "Object storage", "verb"
        ),
        Product(
            "object_transfer",
            "GB",
            "count",
            "GB",
            "Data transfer",
            "Object storage",
            "direction",
        ),
        Product(
            "alp_instance", "instance-hour", "hour", "instance-hour", "App instance", "ALP", "app"
        ),
        Product("dse_core", "core-hour", "hour", "core-hour", "Data service", "DSE", "kind"),
        Product(
            "vdc_cpu",
            "GHz-hour",
            "hour",
            "GHz-hour",
            "Org VDC CPU allocation",
            "Org VDC",
            "allocation model",
        ),
        Product(
            "vdc_ram",
            "GiB-hour",
            "hour",
            "GiB-hour",
            "Org VDC memory allocation",
            "Org VDC",
            "allocation model",
        ),
        Product(
            "catalog_media",
            "GB-hour",
            "month",
            "GB-month",
            "Catalog media",
            "Storage",
            "storage policy",
        ),
        Product(
            "vapp_template",
            "GB-hour",
            "month",
            "GB-month",
            "vApp template",
            "Storage",
            "storage policy",
        ),
        Product(
            "os_licence",
            "vCPU-hour",
            "hour",
            "vCPU-hour",
            "Guest OS licence (per vCPU)",
            "Licences",
            "OS family",
        ),
        Product(
            "os_licence_vm",
            "VM-hour",
            "month",
            "VM-month",
            "Guest OS licence (per VM)",
            "Licences",
            "OS family",
        ),
        Product(
            "edge_gateway", "gateway-hour", "hour", "gateway-hour", "Edge gateway", "Networking"
        ),
        Product(
            "edge_gateway_month",
            "gateway-hour",
            "month",
            "gateway-month",
            "Edge gateway (per month)",
            "Networking",
        ),
        Product("public_ip", "IP-hour", "hour", "IP-hour", "Public IP address", "Networking"),
        Product(
            "public_ip_month",
            "IP-hour",
            "month",
            "IP-month",
            "Public IP address (per month)",
            "Networking",
        ),
    )
}

CHARGE_MODELS = ("per_unit", "graduated", "volume")
