"""Networking items of the simulated world: the edge gateways of the orgs' VDCs and the
external IPs allocated to them (served by :mod:`metering.simulator.views_network`)."""

from __future__ import annotations

import numpy as np

from metering.simulator.draws import ordinals, rep
from metering.simulator.tables import BEFORE, NEVER, EdgeGateways, Ints


def edge_gateways(pres_org: Ints, pres_site: Ints, hours: int) -> EdgeGateways:
    """The edge gateways of each (org, site) presence: 1 for 3 in 4 presences, a second one
    created a third into the simulation for 1 in 4, none for the rest; 1 in 5 first gateways
    is deleted two thirds in. Each holds 1 to 4 IPs, and 1 in 3 gets 2 more on a second
    uplink half-way. A function of the presence index, not of the random stream, so every
    other draw stays as it was."""
    p = np.arange(len(pres_org), dtype=np.int64)
    counts = np.array([1, 0, 1, 2], dtype=np.int64)[p % 4]
    owner = rep(p, counts)
    ordinal = ordinals(counts)
    gone = (ordinal == 0) & (owner % 5 == 2)
    grows = owner % 3 == 0
    ips0 = 1 + owner % 4
    return EdgeGateways(
        site=pres_site[owner],
        org=pres_org[owner],
        ordinal=ordinal,
        created=np.where(ordinal > 0, hours // 3 + owner % 24, BEFORE).astype(np.int64),
        deleted=np.where(gone, 2 * hours // 3 + owner % 12, NEVER).astype(np.int64),
        ips0=ips0,
        extra=np.where(grows, 2, 0).astype(np.int64),
        change_h=np.where(grows, hours // 2 + 3, NEVER).astype(np.int64),
        used=np.minimum(ips0, 1 + owner % 2),
    )
