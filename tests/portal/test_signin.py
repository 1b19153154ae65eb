"""Sign-in with VCD against the simulated provider: tenants, provider staff, refusals,
sessions, CSRF and the rate limit."""

from __future__ import annotations

from tests.portal.conftest import Env, client, csrf_of, provider, sign_in, tenant


def test_tenant_signs_in_with_vcd_password_and_lands_on_its_month(env: Env) -> None:
    c = tenant(env, "acme")
    home = c.get("/tenant/")
    assert home.status_code == 200
    assert "ACME Industries GmbH" in home.text
    assert "94.66" in home.text  # the closed month's total
    assert "orgadmin@acme" in home.text


def test_cookie_is_secure_httponly_strict_and_host_prefixed(env: Env) -> None:
    c = client(env)
    form = c.get("/login")
    answer = c.post(
        "/login",
        data={
            "csrf_token": csrf_of(form.text),
            "login": "orgadmin@acme",
            "password": env.password("acme"),
        },
    )
    cookie = answer.headers["set-cookie"].lower()
    assert cookie.startswith("__host-metering=")
    for flag in ("secure", "httponly", "samesite=strict", "path=/"):
        assert flag in cookie


def test_api_token_signs_in_through_oauth_tenant_token(env: Env) -> None:
    c = client(env)
    form = c.get("/login")
    answer = c.post(
        "/login",
        data={
            "csrf_token": csrf_of(form.text),
            "org": "A<B Labs",
            "api_token": env.api_token("A<B Labs"),
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/tenant/"
    page = c.get("/tenant/documents")
    assert "200.88" in page.text


def test_wrong_password_unknown_org_and_org_without_tenant_are_refused_alike(env: Env) -> None:
    for login, password in (
        ("orgadmin@acme", "wrong"),
        ("orgadmin@no-such-org", "x"),
        ("orgadmin@globex", env.password("globex")),  # a real VCD user, but no billing tenant
    ):
        c = client(env)
        form = c.get("/login")
        answer = c.post(
            "/login", data={"csrf_token": csrf_of(form.text), "login": login, "password": password}
        )
        assert answer.status_code == 401
        assert "Sign-in failed" in answer.text
        assert c.get("/tenant/").status_code == 303  # still signed out


def test_a_tenant_user_cannot_sign_in_as_provider_and_staff_see_provider_pages(env: Env) -> None:
    refused = client(env)
    form = refused.get("/login")
    answer = refused.post(
        "/login",
        data={
            "csrf_token": csrf_of(form.text),
            "login": "orgadmin@System",
            "password": env.password("acme"),
        },
    )
    assert answer.status_code == 401
    staff = provider(env)
    months = staff.get("/provider/")
    assert months.status_code == 200 and "2026-10" in months.text
    assert staff.get("/tenant/").status_code == 404  # staff have no tenant of their own


def test_login_without_the_form_csrf_token_is_refused(env: Env) -> None:
    c = client(env)
    c.get("/login")
    answer = c.post("/login", data={"login": "orgadmin@acme", "password": env.password("acme")})
    assert answer.status_code == 403
    other = client(env)
    token = csrf_of(other.get("/login").text)  # another browser's token
    answer = c.post(
        "/login",
        data={"csrf_token": token, "login": "orgadmin@acme", "password": env.password("acme")},
    )
    assert answer.status_code == 403


def test_logout_needs_csrf_and_ends_the_session(env: Env) -> None:
    c = tenant(env, "acme")
    assert c.post("/logout", data={}).status_code == 403
    assert c.get("/tenant/").status_code == 200
    token = csrf_of(c.get("/tenant/").text)
    assert c.post("/logout", data={"csrf_token": token}).status_code == 303
    assert c.get("/tenant/").status_code == 303


def test_a_forged_or_stale_session_cookie_is_not_a_session(env: Env) -> None:
    c = client(env)
    c.jar["__Host-metering"] = "forged-value"
    assert c.get("/tenant/").headers["location"] == "/login"


def test_cross_site_post_is_refused_even_with_the_token(env: Env) -> None:
    c = tenant(env, "acme")
    token = csrf_of(c.get("/tenant/").text)
    answer = c.post(
        "/logout", data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert answer.status_code == 403


def test_failed_sign_ins_are_rate_limited_per_account(env: Env) -> None:
    limit = env.portal.settings.login_attempts
    c = client(env)
    statuses = []
    for _ in range(limit + 2):
        form = c.get("/login")
        statuses.append(
            c.post(
                "/login",
                data={"csrf_token": csrf_of(form.text), "login": "brute@umbrella", "password": "x"},
                headers={"X-Forwarded-For": "ignored"},
            ).status_code
        )
    assert statuses[:limit] == [401] * limit
    assert statuses[limit:] == [429, 429]
    # the right password does not get through a locked account either
    form = c.get("/login")
    locked = c.post(
        "/login",
        data={
            "csrf_token": csrf_of(form.text),
            "login": "brute@umbrella",
            "password": env.password("umbrella"),
        },
    )
    assert locked.status_code == 429


def test_no_password_or_token_reaches_the_log(env: Env, caplog) -> None:
    import logging

    caplog.set_level(logging.DEBUG, logger="metering")
    sign_in(env, "orgadmin@acme", env.password("acme"))
    c = client(env)
    form = c.get("/login")
    c.post(
        "/login",
        data={
            "csrf_token": csrf_of(form.text),
            "login": "orgadmin@acme",
            "password": "s3cret-typo",
        },
    )
    text = caplog.text
    assert "orgadmin@acme" in text
    assert env.password("acme") not in text and "s3cret-typo" not in text


def test_sessions_end_when_idle_or_too_old_and_with_a_restart(env: Env, monkeypatch) -> None:
    import time

    from metering.portal import create_app
    from metering.portal.sessions import SessionStore
    from metering.portal.signin import Principal

    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    store = SessionStore(idle_seconds=60, max_seconds=300)
    who = Principal("tenant", "orgadmin@acme", tenant_id="acme")
    token, _ = store.create(who)
    for _ in range(4):  # used every 59 s: alive until the absolute limit
        clock[0] += 59
        assert store.get(token) is not None
    clock[0] += 59  # 295 s after sign-in, seen 59 s ago: still alive
    assert store.get(token) is not None
    clock[0] += 10  # past 300 s since sign-in
    assert store.get(token) is None
    idle, _ = store.create(who)
    clock[0] += 61
    assert store.get(idle) is None
    monkeypatch.undo()
    # a session of one portal process is nothing to another (sessions live in memory)
    c = tenant(env, "acme")
    cookie = c.jar["__Host-metering"]
    restarted = create_app(env.config)
    assert restarted.app.state.portal.sessions.get(cookie) is None
    assert env.portal.sessions.get(cookie) is not None
