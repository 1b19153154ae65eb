"""A URL's origin, as the collectors check it before every request: parsed from the URL's
``scheme://authority`` prefix, it must be the origin the whole URL names."""

from __future__ import annotations

import httpx
import pytest

from metering.sources.answers import origin_of

URLS = [
    "https://vcd.example/api/query?type=vm&page=2",
    "https://VCD.Example:443/cloudapi/1.0.0/orgs",
    "http://127.0.0.1:8080/api/versions",
    "https://[::1]:9443/system/version",
    "https://vcd.example?page=2",
    "https://vcd.example#frag",
    "https://vcd.example",
    "https://evil.example?@vcd.example/api",
    "https://vcd.example#@evil.example/api",
    "https://user:pw@evil.example:8443/x",
    "/api/query?type=vm",
]


@pytest.mark.parametrize("url", URLS)
def test_origin_is_that_of_the_whole_url(url: str) -> None:
    whole = httpx.URL(url)
    port = whole.port or {"http": 80, "https": 443}.get(whole.scheme, 0)
    assert origin_of(url) == origin_of(whole) == (whole.scheme, whole.host.lower(), port)
