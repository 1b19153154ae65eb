"""TLS verification of a site's connections: on by default, with the site's CA bundle."""

from __future__ import annotations

import functools
import ssl

import certifi

from metering.config import SiteConfig
from metering.errors import ConfigError


def ssl_verify(site: SiteConfig) -> ssl.SSLContext | bool:
    """The TLS verification a site's client uses: on by default, with the site's CA bundle.

    Contexts are cached per CA file (and its modification time): loading a trust store
    costs ~30 ms, and a scheduler makes several clients every sampling interval.
    """
    if not site.verify_tls:
        return False
    if site.ca_bundle is not None:
        try:
            return _tls_context(str(site.ca_bundle), site.ca_bundle.stat().st_mtime_ns)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"sites[{site.name}].ca_bundle: cannot load {site.ca_bundle}: {exc}",
                site=site.name,
            ) from None
    return _tls_context(None, 0)


@functools.lru_cache(maxsize=16)
def _tls_context(cafile: str | None, _mtime_ns: int) -> ssl.SSLContext:
    """A verifying context for ``cafile``, or for the certifi bundle httpx uses by default."""
    return ssl.create_default_context(cafile=cafile or certifi.where())
