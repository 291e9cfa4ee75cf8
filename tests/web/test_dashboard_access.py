"""The access grid, generated from the app's own routes: every role (and no login) × every
dashboard, account and admin route × every method it answers. Forbidden is 403 (404 for a
record that does not exist); viewers never receive a full phone number or street address."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from mutualaid import create_app
from mutualaid.models import Conversation, Message, MessageDirection, MessageStatus, Role, utcnow
from tests import builders
from tests.conftest import base_config, sqlite_copy
from tests.web.dashboard_helpers import account, logged_in

REQUESTER_PHONE = "+17185550142"
VOLUNTEER_PHONE = "+17185550177"
ADDRESS = "742 Evergreen Terrace Apt 3"
PREFIXES = ("/dashboard", "/admin", "/account")


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: who may open which route, and what each role is shown, is the app's
    doing, not the database's (the actions themselves run on both, in their services'
    tests)."""
    return sqlite_copy(sqlite_template, tmp_path)


def _routes() -> list[tuple[str, str, str]]:
    """(rule, endpoint, method) of every route the grid covers, read from the app."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(base_config(f"sqlite:///{Path(tmp) / 'routes.db'}"))
        rules = [
            (rule.rule, rule.endpoint, method)
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith(PREFIXES)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        ]
        from mutualaid.extensions import db

        with app.app_context():
            db.engine.dispose()
    return sorted(rules)


ROUTES = _routes()


# Admins only, though under /dashboard: erasing a person.
ADMIN_ACTIONS = {"/dashboard/people/<int:person_id>/erase"}
# Acting, though read with GET: the import page (a form that writes, nothing to read).
ACT_PAGES = {"/dashboard/import"}


def needed(rule: str, method: str) -> str:
    """The rights a route needs: the table the dashboard promises."""
    if rule.startswith("/admin") or rule in ADMIN_ACTIONS:
        return "admin"
    if rule in ACT_PAGES:
        return "act"
    if rule.startswith("/account") or method == "GET":
        return "read"
    return "act"


RIGHTS = {
    Role.VIEWER: {"read"},
    Role.COORDINATOR: {"read", "act"},
    Role.ADMIN: {"read", "act", "admin"},
}


@pytest.fixture
def world(session):
    """A request with a phone and an address, a volunteer who can take it, messages with
    the address in them, a person asking for a human, another account."""
    requester = builders.person(session, phone=REQUESTER_PHONE, name="Ada")
    req = builders.aid_request(
        session,
        requester=requester,
        address=ADDRESS,
        location_text=ADDRESS,
        details=f"call me on {REQUESTER_PHONE[2:]}",
        flagged=True,
        flag_reason="asked for a person",
    )
    offer = builders.offer(session, person=builders.person(session, phone=VOLUNTEER_PHONE))
    other = builders.aid_request(session)
    builders.match(session, request=other, offer=offer, expires_at=utcnow())
    for person_id, phone in ((requester.id, REQUESTER_PHONE), (offer.person_id, VOLUNTEER_PHONE)):
        session.add(
            Message(
                direction=MessageDirection.OUTBOUND,
                person_id=person_id,
                phone=phone,
                body=f"The address is {ADDRESS}, call {REQUESTER_PHONE}",
                status=MessageStatus.SENT,
                request_id=req.id,
            )
        )
    session.add(Conversation(person_id=requester.id, human_requested_at=utcnow()))
    failed = Message(
        direction=MessageDirection.OUTBOUND,
        person_id=requester.id,
        phone=REQUESTER_PHONE,
        body=f"Your volunteer is coming to {ADDRESS}",
        status=MessageStatus.FAILED,
        error_code=30003,
        request_id=req.id,
    )
    session.add(failed)
    session.commit()
    target = account(session, Role.VIEWER)
    return {
        "request_id": req.id,
        "offer_id": offer.id,
        "person_id": other.requester_id,
        "account_id": target.id,
        "kind": "requests",
        "action": "pause",
        "message_id": failed.id,
    }


def _url(rule: str, values: dict) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([a-z_]+)(?:\([^)]*\))?>", lambda m: str(values[m[1]]), rule)


def _form(rule: str, values: dict) -> dict:
    return {
        "offer_id": values["offer_id"],
        "role": "coordinator",
        "active": "0",
        "email": "invitee@example.org",
        "body": "Hello from the coordinators",
        "q": "address",  # the message search: texts that hold the address
    }


@pytest.mark.parametrize("role", [None, Role.VIEWER, Role.COORDINATOR, Role.ADMIN])
@pytest.mark.parametrize(("rule", "endpoint", "method"), ROUTES)
def test_access_grid(app, session, world, role, rule, endpoint, method):
    client = app.test_client() if role is None else logged_in(app, session, role)
    url = _url(rule, world)
    response = client.open(url, method=method, data=_form(rule, world))
    body = response.get_data(as_text=True)
    if role is None:
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
        return
    if needed(rule, method) not in RIGHTS[role]:
        assert response.status_code == 403, (url, body[:500])
        return
    assert response.status_code < 400 or (
        # A form posted with fields this route does not take: refused, not forbidden.
        rule in ("/account/password", "/dashboard/import") and response.status_code == 422
    ), (url, response.status_code, body[:1000])
    if role is Role.VIEWER:
        assert_no_contact_details(response)


def assert_no_contact_details(response) -> None:
    text = response.get_data(as_text=True) + " ".join(
        f"{k}: {v}" for k, v in response.headers.items()
    )
    for secret in (REQUESTER_PHONE, REQUESTER_PHONE[2:], VOLUNTEER_PHONE, VOLUNTEER_PHONE[2:]):
        assert secret not in text
        assert re.sub(r"(\d{3})(\d{3})(\d{4})", r"\1-\2-\3", secret[-10:]) not in text
    assert "Evergreen" not in text


def test_the_grid_covers_every_kind_of_route():
    endpoints = {endpoint for _, endpoint, _ in ROUTES}
    assert {"dashboard.overview", "dashboard.request_assign", "auth.invite"} <= endpoints
    assert len(ROUTES) >= 25


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/requests/999999",
        "/dashboard/volunteers/999999",
    ],
)
@pytest.mark.parametrize("role", [Role.VIEWER, Role.COORDINATOR])
def test_missing_records_are_404(app, session, role, url):
    client = logged_in(app, session, role)
    assert client.get(url).status_code == 404
    if role is Role.COORDINATOR:
        assert client.post(url + "/reveal").status_code == 404


def test_coordinators_see_contact_details_only_on_reveal_and_it_is_audited(app, session, world):
    from sqlalchemy import select

    from mutualaid.models import AuditEvent

    client = logged_in(app, session, Role.COORDINATOR)
    page = client.get(f"/dashboard/requests/{world['request_id']}")
    assert REQUESTER_PHONE not in page.get_data(as_text=True)
    assert "Evergreen" not in page.get_data(as_text=True)
    revealed = client.post(f"/dashboard/requests/{world['request_id']}/reveal")
    text = revealed.get_data(as_text=True)
    assert REQUESTER_PHONE in text and ADDRESS in text
    # Never in the page title, whatever is revealed.
    title = re.search(r"<title>(.*?)</title>", text, re.S)[1]
    assert "555" not in title and "Evergreen" not in title
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "contact.revealed")
    ).all()
    assert len(events) == 1 and events[0].actor_type == "coordinator"
    assert REQUESTER_PHONE not in str(events[0].detail)


def test_full_export_is_for_coordinators_and_audited(app, session, world):
    from sqlalchemy import func, select

    from mutualaid.models import AuditEvent

    viewer = logged_in(app, session, Role.VIEWER)
    assert viewer.post("/dashboard/export/requests.csv").status_code == 403
    coordinator = logged_in(app, session, Role.COORDINATOR)
    masked = coordinator.get("/dashboard/export/requests.csv").get_data(as_text=True)
    assert REQUESTER_PHONE not in masked and "Evergreen" not in masked
    full = coordinator.post("/dashboard/export/requests.csv").get_data(as_text=True)
    assert REQUESTER_PHONE in full and ADDRESS in full
    assert session.scalar(select(func.count()).where(AuditEvent.action == "contact.revealed")) == 1


def test_no_contact_details_in_logs(app, session, world, caplog):
    client = logged_in(app, session, Role.COORDINATOR)
    with caplog.at_level("DEBUG"):
        client.post(f"/dashboard/requests/{world['request_id']}/reveal")
        client.post("/dashboard/export/volunteers.csv")
        client.post(f"/dashboard/requests/{world['request_id']}/assign", data={"offer_id": "1"})
    assert REQUESTER_PHONE[2:] not in caplog.text and "Evergreen" not in caplog.text
