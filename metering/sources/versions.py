"""VCD API version negotiation: which versions a site offers and which one metering uses.

``GET /api/versions`` needs no login and no version in ``Accept``; VCD answers the XML
``SupportedVersions`` document (namespace ``http://www.vmware.com/vcloud/v1.5``) with one
``VersionInfo`` per version (``deprecated`` attribute, ``Version`` and ``LoginUrl``
children). Metering speaks only the versions whose records it has checked against VCD's API
reference (:data:`VERIFIED`): it picks the highest one the site offers, or, when the site's
``api_version`` key is set, the highest one not above it.

The reference pages read for the fields we use are those of 37.0, 38.0, 39.1 and "latest";
a minor version only adds to its major, so any minor of a verified major is spoken.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # a bounded, DTD-free document (parse_versions)

from metering.errors import SourceDataError

# VCD 10.4 speaks 37.x, 10.5 38.x, 10.6 39.x. Every field the collectors read is declared
# for these majors in VCD's API reference (docs/collectors.md names the pages).
VERIFIED_MAJORS: tuple[int, ...] = (37, 38, 39)
MAX_VERSIONS_BYTES = 1 << 20
_NS = "{http://www.vmware.com/vcloud/v1.5}"


def version_key(version: str) -> tuple[int, ...]:
    """``"38.1"`` → ``(38, 1)``; a malformed version sorts first and is never chosen."""
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (-1,)


def parse_versions(body: bytes, *, site: str) -> tuple[str, ...]:
    """The versions a ``SupportedVersions`` document offers, deprecated ones included."""
    if len(body) > MAX_VERSIONS_BYTES:
        raise SourceDataError("GET /api/versions: answer larger than 1 MiB", site=site)
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise SourceDataError("GET /api/versions: a document type is not allowed", site=site)
    try:
        root = ET.fromstring(body)  # noqa: S314 - size-bounded, DTD refused above
    except ET.ParseError as exc:
        raise SourceDataError(f"GET /api/versions: not XML ({exc})", site=site) from None
    if root.tag.removeprefix(_NS) != "SupportedVersions":
        raise SourceDataError(
            f"GET /api/versions: expected SupportedVersions, got {root.tag.removeprefix(_NS)}",
            site=site,
        )
    found = []
    for info in root.iter(_NS + "VersionInfo"):
        version = info.findtext(_NS + "Version")
        if version and version.strip():
            found.append(version.strip())
    return tuple(sorted(set(found), key=version_key))


def verified(version: str) -> bool:
    """Whether metering speaks ``version`` (its major is one we checked)."""
    key = version_key(version)
    return len(key) == 2 and key[0] in VERIFIED_MAJORS and key[1] >= 0


def choose_version(offered: tuple[str, ...], maximum: str | None, *, site: str) -> str:
    """The highest verified version the site offers (and not above ``maximum``)."""
    common = [v for v in offered if verified(v)]
    if maximum is not None:
        common = [v for v in common if version_key(v) <= version_key(maximum)]
    if not common:
        pin = f" at or below api_version {maximum}" if maximum is not None else ""
        speaks = ", ".join(f"{major}.x" for major in VERIFIED_MAJORS)
        raise SourceDataError(
            f"no VCD API version in common{pin}: the site offers "
            f"{', '.join(offered) or 'none'}; metering speaks {speaks}",
            site=site,
        )
    return max(common, key=version_key)
