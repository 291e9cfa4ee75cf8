"""The JSON API: bearer tokens per account, the role × route × method grid (401 without a
token, 403 for a viewer's writes, 404 for a missing record), masked data for everyone, the
OpenAPI document covering every route, and actions through the services."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mutualaid.models import AidRequest, Match, MatchStatus, RequestNote, RequestStatus, Role
from mutualaid.services.accounts import new_api_token
from tests import builders
from tests.conftest import sqlite_copy
from tests.web.dashboard_helpers import account, logged_in
from tests.web.test_dashboard_access import (
    ADDRESS,
    REQUESTER_PHONE,
    assert_no_contact_details,
    world,  # noqa: F401 (a fixture)
)


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: who may open which route, and what each role is shown, is the app's
    doing, not the database's (the actions themselves run on both, in their services'
    tests)."""
    return sqlite_copy(sqlite_template, tmp_path)


def _read_api_routes() -> list[tuple[str, str]]:
    import tempfile
    from pathlib import Path

    from mutualaid import create_app
    from mutualaid.extensions import db
    from tests.conftest import base_config

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(base_config(f"sqlite:///{Path(tmp) / 'routes.db'}"))
        routes = sorted(
            (rule.rule, method)
            for rule in app.url_map.iter_rules()
            if rule.rule.startswith("/api/") and rule.rule != "/api/openapi.json"
            for method in rule.methods - {"HEAD", "OPTIONS"}
        )
        with app.app_context():
            db.engine.dispose()
    return routes


_API_ROUTES = _read_api_routes()


def token_for(session, role: Role) -> dict[str, str]:
    acct = account(session, role)
    token = new_api_token(session, acct)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def _url(rule: str, values: dict) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([a-z_]+)(?:\([^)]*\))?>", lambda m: str(values[m[1]]), rule)


@pytest.mark.parametrize("role", [None, Role.VIEWER, Role.COORDINATOR, Role.ADMIN])
@pytest.mark.parametrize(("rule", "method"), _API_ROUTES)
def test_api_grid(client, session, world, role, rule, method):  # noqa: F811
    headers = {} if role is None else token_for(session, role)
    values = {**world, "mode": "preview"}
    url = _url(rule, values)
    response = client.open(url, method=method, headers=headers, json={})
    if role is None:
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        return
    if method != "GET" and role is Role.VIEWER:
        assert response.status_code == 403
        return
    # A write with an empty body may be refused as invalid or too late, never forbidden.
    assert response.status_code not in (401, 403, 500), (url, response.get_data(as_text=True))
    assert response.is_json
    assert_no_contact_details(response)


def test_every_api_route_is_in_the_openapi_document(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    for rule, method in _API_ROUTES:
        if "<any(" in rule:
            name = rule.split("<any(")[1].split(")")[0]
            plain = rule.replace(f"<any({name}):", "<")
            expanded = [plain.replace("<action>", a).replace("<mode>", a) for a in name.split(", ")]
        else:
            expanded = [rule]
        for path in expanded:
            path = re.sub(r"<int:offer_id>", "{volunteer_id}", path)
            path = re.sub(r"<int:([a-z_]+)>", r"{\1}", path)
            assert (path, method) in documented, (path, method)


def test_a_session_cookie_does_not_open_the_api(app, session):
    client = logged_in(app, session, Role.ADMIN)
    assert client.get("/api/requests").status_code == 401


def test_new_token_ends_the_old_one_and_disabling_ends_both(app, client, session):
    acct = account(session, Role.COORDINATOR)
    old = new_api_token(session, acct)
    new = new_api_token(session, acct)
    session.commit()
    assert client.get("/api/runs", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.get("/api/runs", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    acct.active = False
    session.commit()
    assert client.get("/api/runs", headers={"Authorization": f"Bearer {new}"}).status_code == 401


def test_token_page_shows_the_token_once(app, session):
    client = logged_in(app, session, Role.VIEWER)
    response = client.post("/account/api-token")
    assert response.status_code == 201
    token = response.get_data(as_text=True).split('<code class="secret">')[1].split("<")[0]
    assert client.get("/api/requests", headers={"Authorization": f"Bearer {token}"}).is_json
    assert token not in client.get("/account/api-token").get_data(as_text=True)
    client.post("/account/api-token/revoke")
    api = client.get("/api/requests", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_viewers_read_masked_data(client, session, world):  # noqa: F811
    headers = token_for(session, Role.VIEWER)
    data = client.get("/api/requests", headers=headers).get_json()
    assert data["total"] >= 1
    text = str(data) + str(
        client.get(f"/api/requests/{world['request_id']}", headers=headers).get_json()
    )
    assert REQUESTER_PHONE not in text and ADDRESS not in text
    assert "42" in text  # the last two digits


def test_assign_preview_send_and_complete_through_the_api(client, session):
    headers = token_for(session, Role.COORDINATOR)
    req = builders.aid_request(session)
    other = builders.aid_request(session)
    offer = builders.offer(session, capacity=2)
    session.commit()
    preview = client.post("/api/matching/preview", headers=headers, json={}).get_json()
    assert preview["dry_run"] is True and {p["request_id"] for p in preview["pairs"]} == {
        req.id,
        other.id,
    }
    assert session.scalar(select(Match)) is None
    sent = client.post(
        "/api/matching/send", headers=headers, json={"request_ids": [other.id]}
    ).get_json()
    assert sent["proposed"] == 1
    response = client.post(
        f"/api/requests/{req.id}/assign",
        headers=headers,
        json={"volunteer_id": offer.id, "agreed": True},
    )
    assert response.status_code == 201 and response.get_json()["match"]["status"] == "accepted"
    done = client.post(f"/api/requests/{req.id}/complete", headers=headers)
    assert done.get_json()["request"]["status"] == "completed"
    session.expire_all()
    assert session.get(AidRequest, req.id).status is RequestStatus.COMPLETED
    statuses = {m.request_id: m.status for m in session.scalars(select(Match))}
    assert statuses == {req.id: MatchStatus.COMPLETED, other.id: MatchStatus.PROPOSED}
    bad = client.post("/api/matching/send", headers=headers, json={"request_ids": "all"})
    assert bad.status_code == 422


def test_notes_through_the_api(client, session):
    req = builders.aid_request(session)
    session.commit()
    viewer, coordinator = token_for(session, Role.VIEWER), token_for(session, Role.COORDINATOR)
    url = f"/api/requests/{req.id}/notes"
    assert client.post(url, headers=viewer, json={"body": "no"}).status_code == 403
    added = client.post(url, headers=coordinator, json={"body": "Rang twice, call 718 555 0199"})
    assert added.status_code == 201
    note = added.get_json()["note"]
    assert note["author"].startswith("coordinator") and "0199" not in note["body"]
    client.post(url, headers=coordinator, json={"body": "Second"})
    listed = client.get(url, headers=viewer).get_json()["items"]
    assert [n["body"] for n in listed] == ["Second", note["body"]]
    for bad in ({}, {"body": 3}, {"body": "   "}, {"body": "x" * 2001}):
        assert client.post(url, headers=coordinator, json=bad).status_code == 422, bad
    assert client.get("/api/requests/999999/notes", headers=viewer).status_code == 404
    assert session.scalar(select(func.count()).select_from(RequestNote)) == 2


def test_cancelling_a_closed_request_is_a_conflict_with_a_reason(client, session):
    # Found by schemathesis: a second cancel was a 500 (IllegalTransition).
    req = builders.aid_request(session)
    session.commit()
    headers = token_for(session, Role.COORDINATOR)
    assert client.post(f"/api/requests/{req.id}/cancel", headers=headers).status_code == 200
    again = client.post(f"/api/requests/{req.id}/cancel", headers=headers)
    assert again.status_code == 409
    assert "cancelled" in again.get_json()["error"]
    session.expire_all()
    assert session.get(AidRequest, req.id).status is RequestStatus.CANCELLED
