"""Dashboard accounts: login without enumeration, sessions that really end (logout, password
change, disabling, idle and absolute timeouts), throttling shared by processes, the admin's
accounts page."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select

from mutualaid import create_app
from mutualaid.extensions import db
from mutualaid.models import Account, AuditEvent, Role
from mutualaid.models.base import set_clock
from tests.conftest import base_config
from tests.web.dashboard_helpers import PASSWORD, account, logged_in, login


@pytest.fixture
def clock():
    """A controllable app clock (mutualaid.models.base.utcnow)."""
    now = [dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)]
    set_clock(lambda: now[0])
    yield now
    set_clock(None)


def test_login_page_and_login(client, session):
    acct = account(session, Role.COORDINATOR)
    assert client.get("/login").status_code == 200
    response = login(client, acct.email)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/dashboard/")
    assert client.get("/dashboard/").status_code == 200
    session.refresh(acct)
    assert acct.last_login_at is not None


def test_email_is_case_insensitive(client, session):
    acct = account(session, Role.VIEWER, email="Mixed@Example.org")
    assert login(client, acct.email.upper()).status_code == 303


@pytest.mark.real_password_hashes
def test_unknown_email_and_wrong_password_look_the_same(client, session):
    acct = account(session, Role.COORDINATOR)
    disabled = account(session, Role.COORDINATOR, active=False)
    answers = []
    for email, password in [
        ("nobody@example.org", PASSWORD),
        (acct.email, "wrong password!!"),
        (disabled.email, PASSWORD),
    ]:
        # The quickest of three: one measurement on a loaded machine is mostly its load.
        elapsed = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            response = login(client, email, password)
            elapsed = min(elapsed, time.perf_counter() - started)
        body = response.get_data(as_text=True).replace(email, "EMAIL")
        answers.append((response.status_code, body, elapsed))
    assert {a[0] for a in answers} == {401}
    assert answers[0][1] == answers[1][1] == answers[2][1]
    # Each costs one scrypt check: none is several times faster than another.
    times = [a[2] for a in answers]
    assert max(times) < 5 * min(times), times


@pytest.mark.real_password_hashes
def test_an_unknown_email_is_checked_against_a_hash_as_costly_as_a_real_one(session):
    from mutualaid.services import accounts

    acct = account(session, Role.COORDINATOR)
    method = accounts.PASSWORD_METHOD
    assert acct.password_hash.split("$")[0] == method
    assert accounts._DUMMY_HASH.split("$")[0] == method
    assert not accounts.check_password(acct, "x") and acct.password_hash != accounts._DUMMY_HASH


def test_anonymous_is_sent_to_login(client):
    response = client.get("/dashboard/requests?state=open")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_next_is_followed_only_on_this_site(client, session):
    acct = account(session, Role.VIEWER)
    response = login(client, acct.email, next="/dashboard/figures")
    assert response.headers["Location"].endswith("/dashboard/figures")
    client.post("/logout")
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = login(client, acct.email, next=evil)
        assert response.headers["Location"].endswith("/dashboard/"), evil


def test_login_starts_a_new_session(client, session):
    acct = account(session, Role.VIEWER)
    with client.session_transaction() as s:
        s["planted"] = "by someone else"
    login(client, acct.email)
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s["_user_id"].startswith(f"{acct.id}:")


def _copied_cookie(client) -> str:
    return client.get_cookie("session").value


def _with_cookie(app, value: str):
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def test_copied_cookie_stops_working_after_logout(app, client, session):
    acct = account(session, Role.COORDINATOR)
    login(client, acct.email)
    copy = _copied_cookie(client)
    assert _with_cookie(app, copy).get("/dashboard/").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/dashboard/").status_code == 302
    assert _with_cookie(app, copy).get("/dashboard/").status_code == 302


def test_logout_is_a_post(client, session):
    acct = account(session, Role.VIEWER)
    login(client, acct.email)
    assert client.get("/logout").status_code == 405
    assert client.get("/dashboard/").status_code == 200


def test_password_change_ends_other_sessions_but_not_this_one(app, client, session):
    acct = account(session, Role.COORDINATOR)
    login(client, acct.email)
    elsewhere = app.test_client()
    login(elsewhere, acct.email)
    copy = _copied_cookie(client)
    new = "a brand new long password"
    response = client.post(
        "/account/password", data={"current": PASSWORD, "new": new, "confirm": new}
    )
    assert response.status_code == 200
    assert client.get("/dashboard/").status_code == 200
    assert elsewhere.get("/dashboard/").status_code == 302
    assert _with_cookie(app, copy).get("/dashboard/").status_code == 302
    assert login(app.test_client(), acct.email, new).status_code == 303
    assert login(app.test_client(), acct.email, PASSWORD).status_code == 401


def test_password_change_needs_the_current_password(client, session):
    acct = account(session, Role.VIEWER)
    login(client, acct.email)
    new = "a brand new long password"
    response = client.post(
        "/account/password", data={"current": "not it at all", "new": new, "confirm": new}
    )
    assert response.status_code == 422
    assert login(client, acct.email).status_code == 303


def test_disabling_ends_sessions(app, session):
    admin = logged_in(app, session, Role.ADMIN)
    acct = account(session, Role.COORDINATOR)
    victim = app.test_client()
    login(victim, acct.email)
    copy = _copied_cookie(victim)
    assert admin.post(f"/admin/accounts/{acct.id}/active", data={"active": "0"}).status_code == 303
    assert victim.get("/dashboard/").status_code == 302
    assert _with_cookie(app, copy).get("/dashboard/").status_code == 302
    assert login(app.test_client(), acct.email).status_code == 401
    admin.post(f"/admin/accounts/{acct.id}/active", data={"active": "1"})
    assert login(app.test_client(), acct.email).status_code == 303


def test_idle_timeout(app, client, session, clock):
    acct = account(session, Role.VIEWER)
    login(client, acct.email)
    idle = app.config["SESSION_IDLE_MINUTES"]
    clock[0] += dt.timedelta(minutes=idle - 1)
    assert client.get("/dashboard/").status_code == 200  # activity restarts the idle clock
    clock[0] += dt.timedelta(minutes=idle - 1)
    assert client.get("/dashboard/").status_code == 200
    clock[0] += dt.timedelta(minutes=idle + 1)
    assert client.get("/dashboard/").status_code == 302


def test_live_refresh_does_not_keep_a_session_alive(app, client, session, clock):
    acct = account(session, Role.VIEWER)
    login(client, acct.email)
    live = {"X-Live-Refresh": "1"}
    for _ in range(app.config["SESSION_IDLE_MINUTES"] // 5):
        clock[0] += dt.timedelta(minutes=5)
        assert client.get("/dashboard/", headers=live).status_code == 200
    clock[0] += dt.timedelta(minutes=6)
    assert client.get("/dashboard/", headers=live).status_code == 302


def test_absolute_timeout(app, client, session, clock):
    acct = account(session, Role.VIEWER)
    login(client, acct.email)
    end = clock[0] + dt.timedelta(hours=app.config["SESSION_MAX_HOURS"])
    while clock[0] + dt.timedelta(minutes=20) < end:
        clock[0] += dt.timedelta(minutes=20)
        assert client.get("/dashboard/").status_code == 200
    clock[0] = end + dt.timedelta(minutes=1)
    assert client.get("/dashboard/").status_code == 302


@pytest.fixture
def app_config():
    return {"LOGIN_RATE_LIMIT": 5, "LOGIN_RATE_WINDOW_SECONDS": 600}


def test_throttling_holds_across_two_app_instances(app, database_url, session):
    """Two web processes (two apps on one database) share one count per account."""
    email = account(session, Role.COORDINATOR).email
    session.close()  # no transaction of this test holds SQLite's write lock meanwhile
    other_app = create_app(
        base_config(database_url, LOGIN_RATE_LIMIT=5, LOGIN_RATE_WINDOW_SECONDS=600)
    )
    first, second = app.test_client(), other_app.test_client()
    statuses = []
    for client in (first, second) * 3:
        statuses.append(login(client, email, "wrong password!!").status_code)
    assert statuses == [401] * 5 + [429]
    # The right password is refused too while throttled, on both.
    assert login(second, email).status_code == 429
    assert login(first, email).status_code == 429
    # An unknown email is throttled exactly the same way (nothing to learn).
    unknown = [login(first, "nobody@example.org", "x").status_code for _ in range(6)]
    assert unknown == [401] * 5 + [429]
    with other_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_throttle_window_passes(app, client, session, clock):
    acct = account(session, Role.COORDINATOR)
    for _ in range(5):
        login(client, acct.email, "wrong password!!")
    assert login(client, acct.email).status_code == 429
    clock[0] += dt.timedelta(seconds=601)
    assert login(client, acct.email).status_code == 303


def test_admin_invites_changes_role_and_disables(app, session):
    admin = logged_in(app, session, Role.ADMIN)
    response = admin.post("/admin/accounts", data={"email": "new@example.org", "role": "viewer"})
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    invited = session.scalar(select(Account).where(Account.email == "new@example.org"))
    assert invited.role is Role.VIEWER
    first_password = page.split('<code class="secret">')[1].split("</code>")[0]
    newcomer = app.test_client()
    assert login(newcomer, "new@example.org", first_password).status_code == 303
    assert newcomer.get("/dashboard/matching").status_code == 200
    assert newcomer.post("/dashboard/matching/preview").status_code == 403
    admin.post(f"/admin/accounts/{invited.id}/role", data={"role": "coordinator"})
    session.expire_all()
    assert session.get(Account, invited.id).role is Role.COORDINATOR
    # The role change ended the old session: log in again with the new rights.
    assert newcomer.get("/dashboard/").status_code == 302
    login(newcomer, "new@example.org", first_password)
    assert newcomer.post("/dashboard/matching/preview").status_code == 200
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"account.created", "account.role_changed", "account.login"} <= actions


def test_invite_refuses_a_duplicate_and_bad_role(app, session):
    admin = logged_in(app, session, Role.ADMIN)
    existing = account(session, Role.VIEWER)
    assert (
        admin.post("/admin/accounts", data={"email": existing.email, "role": "viewer"}).status_code
        == 422
    )
    assert (
        admin.post("/admin/accounts", data={"email": "x@example.org", "role": "owner"}).status_code
        == 422
    )


def test_an_admin_cannot_lock_themselves_out(app, session):
    client = app.test_client()
    admin = account(session, Role.ADMIN)
    login(client, admin.email)
    assert (
        client.post(f"/admin/accounts/{admin.id}/active", data={"active": "0"}).status_code == 409
    )
    assert (
        client.post(f"/admin/accounts/{admin.id}/role", data={"role": "viewer"}).status_code == 409
    )


@pytest.mark.parametrize("role", [Role.VIEWER, Role.COORDINATOR])
def test_only_admins_manage_accounts(app, session, role):
    client = logged_in(app, session, role)
    other = account(session, Role.VIEWER)
    assert client.get("/admin/accounts").status_code == 403
    assert (
        client.post("/admin/accounts", data={"email": "a@example.org", "role": "admin"}).status_code
        == 403
    )
    assert (
        client.post(f"/admin/accounts/{other.id}/active", data={"active": "0"}).status_code == 403
    )


def test_session_cookie_flags(database_url):
    app = create_app(base_config(database_url, PUBLIC_BASE_URL="https://aid.example.org"))
    with app.app_context():
        acct = account(db.session, Role.VIEWER)
        client = app.test_client()
        response = login(client, acct.email)
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
        db.session.remove()
        db.engine.dispose()


def test_forms_need_a_csrf_token(database_url):
    app = create_app({**base_config(database_url), "WTF_CSRF_ENABLED": True})
    with app.app_context():
        acct = account(db.session, Role.VIEWER)
        client = app.test_client()
        assert login(client, acct.email).status_code == 400
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        assert login(client, acct.email, csrf_token=token).status_code == 303
        db.session.remove()
        db.engine.dispose()
