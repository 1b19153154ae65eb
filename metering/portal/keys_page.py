"""The provider's API keys page: list, create (the key shown once) and revoke.

Every state change is a POST with the session's CSRF token from this site's origin; the key
text appears only in the answer to its creation (pages are never cached); who created or
revoked a key is recorded with it (``metering.portal.apikeys``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from metering.portal.signin import Principal
from metering.portal.web import (
    csrf_ok,
    error_page,
    form,
    off_loop,
    page,
    portal,
    require,
    session_of,
)

MAX_LABEL = 200


def _page(request: Request, *, status: int = 200, **extra: object) -> Response:
    p = portal(request)
    context: dict[str, object] = {"problem": None, "created": None, "key_text": None, **extra}
    return page(
        request,
        "provider_api_keys.html.j2",
        status=status,
        keys=list(reversed(p.keys.list())),
        tenants=p.model.tenants(),
        **context,
    )


@require("provider")
@off_loop
def api_keys(request: Request, principal: Principal) -> Response:
    return _page(request)


async def _checked(request: Request) -> dict[str, str] | Response:
    """The form's fields when the CSRF check passes, else the 403 page."""
    session = session_of(request)
    fields = await form(request)
    if session is None or not csrf_ok(request, session, fields):
        return error_page(request, 403, "Missing or wrong CSRF token.")
    return fields


@require("provider")
async def create_key(request: Request, principal: Principal) -> Response:
    fields = await _checked(request)  # the body is read on the loop, the rest off it
    if isinstance(fields, Response):
        return fields
    return await _create(request, principal, fields)


@off_loop
def _create(request: Request, principal: Principal, fields: dict[str, str]) -> Response:
    p = portal(request)
    scope = fields.get("scope", "")
    label = fields.get("label", "").strip()
    if len(label) > MAX_LABEL or any(ord(c) < 32 or ord(c) == 127 for c in label):
        return _page(
            request, status=400, problem="The label must be at most 200 printable characters."
        )
    if scope == "provider":
        tenant_id = None
    elif scope.startswith("tenant:") and p.model.tenant(scope[len("tenant:") :]) is not None:
        tenant_id = scope[len("tenant:") :]
    else:
        problem = "Choose the provider or a tenant of the catalog."
        return _page(request, status=400, problem=problem)
    key, record = p.keys.create(tenant_id=tenant_id, label=label, by=principal.name)
    return _page(request, status=201, created=record, key_text=key)


@require("provider")
async def revoke_key(request: Request, principal: Principal) -> Response:
    fields = await _checked(request)
    if isinstance(fields, Response):
        return fields
    return await _revoke(request, principal)


@off_loop
def _revoke(request: Request, principal: Principal) -> Response:
    key_id = str(request.path_params["key_id"])
    if not portal(request).keys.revoke(key_id, by=principal.name):
        return _page(request, status=404, problem=f"No live key {key_id}.")
    return RedirectResponse("/provider/api-keys", status_code=303)
