"""What counts as an answer of a provider API, checked before anything reads it.

- :func:`origin_of`: a URL's origin (scheme, host, port); :class:`SiteClient
  <metering.sources.http.SiteClient>` sends nothing off the origins configured for a site,
  so a link an API hands back cannot carry a token or password elsewhere (:class:`OffOrigin`).
- :func:`json_depth_ok`: nesting bounded on the bytes, before the (recursive) decoder runs;
- :func:`is_json`: the content type of a JSON answer (``application/json`` or ``+json``).

Anything else an answer may be is a :class:`BadAnswer` naming the call and what it got.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import httpx

from metering.errors import SourceDataError

MAX_DEPTH = 64  # JSON nesting an answer may have; real pages nest ~10 levels
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_INNERMOST = re.compile(rb"\[\]|\{\}")
Origin = tuple[str, str, int]


class OffOrigin(SourceDataError):
    """A link or URL outside the service's configured origin: never requested."""


class BadAnswer(SourceDataError):
    """An answer that is not what the API returns for the call (status, type, body)."""


def origin_of(url: str | httpx.URL) -> Origin:
    """``(scheme, host, port)`` of ``url``, the port made explicit (80/443 by default).

    Every request is checked, so only the URL's ``scheme://authority`` prefix is parsed, and
    the few a site has are remembered: parsing whole URLs cost ~9 % of a collection's CPU."""
    text = str(url)
    start = text.find("://") + 3 if "://" in text else 0
    ends = [i for i in (text.find(c, start) for c in "/?#") if i >= 0]
    return _origin_of_prefix(text[: min(ends)] if ends else text)


@functools.lru_cache(maxsize=64)
def _origin_of_prefix(prefix: str) -> Origin:
    parsed = httpx.URL(prefix)
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme, 0)
    return parsed.scheme, parsed.host.lower(), port


def show(origin: Origin) -> str:
    return f"{origin[0]}://{origin[1]}:{origin[2]}"


def json_depth_ok(content: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text ``content`` nests at most ``limit`` arrays/objects deep.

    Checked on the bytes, before decoding, so a hostile answer never reaches the (recursive)
    decoder: strings are blanked, the brackets kept, and innermost ``[]``/``{}`` pairs
    removed one level per round. Small answers skip all this (too few brackets to nest).
    """
    if content.count(b"[") + content.count(b"{") <= limit:
        return True
    brackets = _STRINGS.sub(b"", content).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        shorter = _INNERMOST.sub(b"", brackets)
        if not shorter or shorter == brackets:
            return True  # empty, or not balanced: the decoder names what is wrong
        brackets = shorter
    return False


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


UNREADABLE = object()  # a body cut short: worth asking again


def resolve_url(
    base: str, origin: Origin, path_or_url: str, relative_to: str | None, site: str
) -> str:
    """The absolute URL of ``path_or_url``: a path is appended to the service's ``base``; a
    link is resolved against ``relative_to`` (the URL of the answer that carried it). It must
    be on ``origin``, else :class:`OffOrigin` (not followed: the credential stays home)."""
    if relative_to is not None:
        url = str(httpx.URL(relative_to).join(path_or_url))
    elif "://" in path_or_url or path_or_url.startswith("//"):
        url = path_or_url
    else:
        url = base + path_or_url
    try:
        where = origin_of(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise OffOrigin(f"unusable link {path_or_url[:200]!r}", site=site) from None
    if where != origin:
        raise OffOrigin(
            f"a link points to {show(where)}, outside the site's {show(origin)}, not followed",
            site=site,
        )
    return url


def decode_json(where: str, response: httpx.Response, site: str) -> Any:
    """The JSON of a 200 answer, or :data:`UNREADABLE`; a :class:`BadAnswer` when it is not
    JSON (content type) or nests deeper than :data:`MAX_DEPTH`."""
    content_type = response.headers.get("Content-Type", "")
    if not is_json(content_type):
        shown = content_type.split(";", 1)[0].strip()[:80] or "no content type"
        raise BadAnswer(f"{where}: answered {shown!r}, not JSON", site=site)
    if not json_depth_ok(response.content):
        raise BadAnswer(f"{where}: JSON nested deeper than {MAX_DEPTH} levels", site=site)
    try:
        return json.loads(response.content)
    except RecursionError:  # unreachable after the depth check; kept as a backstop
        raise BadAnswer(f"{where}: JSON nested too deeply", site=site) from None
    except ValueError:
        return UNREADABLE
