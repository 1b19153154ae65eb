"""What one site's VCD shows of its tenants' networking at one hour: edge gateways with the
external-network IPs allocated to them (``/cloudapi/1.0.0/edgeGateways``).

Records follow go-vcloud-director's ``types.OpenAPIEdgeGateway`` (``types/v56/nsxt_types.go``)
and the VCD OpenAPI ``EdgeGateway`` model (docs/collectors.md names every field metering
reads). Addresses come from 198.18.0.0/15 (RFC 2544's benchmarking range: never routed), eight
per gateway, so no two gateways of the simulation share one.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

import numpy as np

from metering.simulator import names
from metering.simulator.state import alive
from metering.simulator.views_vcd import View

Record = dict[str, Any]
_BASE = IPv4Address("198.18.0.0")
_SPAN = 2**17  # addresses in the /15


def _address(gateway: int, offset: int) -> str:
    return str(_BASE + (8 * gateway + offset) % _SPAN)


def _subnet(first: str, count: int, used: int, *, primary: bool) -> Record:
    last = str(IPv4Address(first) + count - 1)
    return {
        "gateway": "198.18.0.1",
        "prefixLength": 15,
        "dnsSuffix": None,
        "dnsServer1": None,
        "dnsServer2": None,
        "ipRanges": {"values": [{"startAddress": first, "endAddress": last}]},
        "enabled": True,
        "totalIpCount": count,
        "usedIpCount": used,
        "primaryIp": first if primary else None,
        "autoAllocateIpRanges": False,
    }


def _uplink(view: View, kind: str, subnet: Record) -> Record:
    """One uplink: the site's internet Tier-0 (``internet``) or a segment-backed external
    network (``transit``, VCD 10.4.1+ ``IMPORTED_T_LOGICAL_SWITCH``)."""
    backing = "NSXT_TIER0" if kind == "internet" else "IMPORTED_T_LOGICAL_SWITCH"
    return {
        "uplinkId": f"urn:vcloud:network:{names.uid('extnet', view.site_name, kind)}",
        "uplinkName": f"{view.site_name}-{kind}",
        "subnets": {"values": [subnet]},
        "connected": True,
        "quickAddAllocatedIpCount": None,
        "dedicated": False,
        "backingType": backing,
        "usingIpSpace": False,
    }


def edge_records(view: View) -> list[Record]:
    """``/cloudapi/1.0.0/edgeGateways`` values of the site's gateways alive at the hour."""
    edges = view.world.edges
    here = (edges.site == view.site) & alive(edges.created, edges.deleted, view.hour)
    grown = edges.change_h <= view.hour
    out: list[Record] = []
    for g in np.flatnonzero(here).tolist():
        org = int(edges.org[g])
        org_name = view.world.org_names[org]
        uid = names.uid("edge", view.site_name, org_name, int(edges.ordinal[g]))
        internet = _subnet(_address(g, 2), int(edges.ips0[g]), int(edges.used[g]), primary=True)
        uplinks = [_uplink(view, "internet", internet)]
        if grown[g] and edges.extra[g]:
            transit = _subnet(_address(g, 6), int(edges.extra[g]), 0, primary=False)
            uplinks.append(_uplink(view, "transit", transit))
        out.append(
            {
                "status": "REALIZED",
                "id": f"urn:vcloud:gateway:{uid}",
                "name": f"{org_name}-edge-{int(edges.ordinal[g]) + 1}",
                "description": "",
                "ownerRef": view.vdc_ref(org),
                "orgVdc": view.vdc_ref(org),
                "orgRef": view.org_ref(org),
                "edgeGatewayUplinks": uplinks,
                "distributedRoutingEnabled": False,
                "nonDistributedRoutingEnabled": False,
                "deploymentMode": "ACTIVE_STANDBY",
                "edgeClusterConfig": None,
                "orgVdcNetworkCount": 1,
                "gatewayBacking": {
                    "backingId": uid,
                    "gatewayType": "NSXT_BACKED",
                    "networkProvider": {
                        "name": f"{view.site_name}-nsxt",
                        "id": f"urn:vcloud:nsxtmanager:{names.uid('nsxt', view.site_name)}",
                    },
                },
                "serviceNetworkDefinition": "192.168.255.225/27",
                "usingIpSpace": False,
            }
        )
    return out
