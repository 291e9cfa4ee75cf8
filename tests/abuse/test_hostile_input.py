"""Item 9: no input makes a server error, on SQLite or PostgreSQL — unauthenticated forms,
paths, signed webhooks and the API alike. Each is answered 4xx (or, for Twilio, 200) and
stores nothing it should not."""

from __future__ import annotations

import uuid

import pytest

from mutualaid.adapters import sms_auth_token
from mutualaid.models import Role
from mutualaid.services.accounts import new_api_token
from sms.signature import compute_signature
from tests import builders
from tests.abuse.helpers import ROSA
from tests.sms_helpers import SERVICE_NUMBER, signed_post
from tests.web.dashboard_helpers import account

NUL = "\x00"
HUGE = "9" * 30
FORMS = {
    "/login": {"email": f"a{NUL}@example.org", "password": f"x{NUL}y"},
    "/request": {
        "category": "groceries",
        "location_text": f"112{NUL}16",
        "urgency": "normal",
        "name": f"Ro{NUL}sa",
        "details": f"milk{NUL}",
        "phone": f"718 555 0101{NUL}",
    },
    "/volunteer": {
        "categories": ["groceries"],
        "location_text": f"Bed{NUL}-Stuy",
        "radius_km": "3",
        "capacity": "2",
        "name": f"Sa{NUL}m",
        "phone": "718 555 0123",
    },
}


@pytest.mark.parametrize("path", list(FORMS))
def test_nul_bytes_in_public_forms(client, path) -> None:
    response = client.post(path, data=FORMS[path])
    assert 400 <= response.status_code < 500, response.status_code


def test_a_huge_number_in_a_public_form(client) -> None:
    form = {**FORMS["/volunteer"], "location_text": "Bed-Stuy", "name": "Sam", "capacity": HUGE}
    response = client.post("/volunteer", data=form)
    assert 400 <= response.status_code < 500, response.status_code


@pytest.mark.parametrize(
    "path",
    [
        "/t/999999999999.AAAAAAAAAAAAAAAA",
        "/t/2147483648.AAAAAAAAAAAAAAAA",
        "/t/" + "9" * 40 + ".AAAAAAAAAAAAAAAA",
        "/t/" + "1" * 5000,
        "/t/%00",
        f"/request?lang={NUL}",
        "/thanks?x=%00",
    ],
)
def test_hostile_paths(client, path) -> None:
    response = client.get(path)
    assert response.status_code < 500, (path, response.status_code)


@pytest.mark.parametrize(
    "extra",
    [
        {"NumMedia": HUGE},
        {"NumMedia": "-" + HUGE},
        {"Body": f"need{NUL}food", "From": f"{ROSA}{NUL}"},
        {"MessageSid": "SM" + "a" * 5000},
    ],
)
def test_hostile_values_in_signed_inbound_webhooks(app, client, extra) -> None:
    params = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": "AC" + "0" * 32,
        "From": ROSA,
        "To": SERVICE_NUMBER,
        "Body": "HELP",
        "NumMedia": "0",
        **extra,
    }
    response = signed_post(client, app, "/sms/inbound", params)
    assert response.status_code < 500, response.status_code


@pytest.mark.parametrize(
    ("query", "form"),
    [
        (f"?m={HUGE}", {"MessageStatus": "delivered"}),
        ("?m=1", {"MessageStatus": "undelivered", "ErrorCode": HUGE}),
        ("?m=1", {"MessageStatus": f"deliv{NUL}ered"}),
    ],
)
def test_hostile_values_in_signed_status_callbacks(app, client, query, form) -> None:
    params = {"MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": "AC" + "0" * 32, **form}
    path = "/sms/status" + query
    url = "http://localhost" + path
    signature = compute_signature(sms_auth_token(app.config), url, params)
    response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code < 500, response.status_code


@pytest.mark.parametrize(
    "body",
    [
        "[" * 30_000 + "]" * 30_000,
        '{"body": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"volunteer_id": ' + HUGE + "}",
        '{"body": "note\\u0000"}',
    ],
)
def test_hostile_json_bodies(app, client, session, body) -> None:
    req = builders.aid_request(session)
    acct = account(session, Role.COORDINATOR)
    token = new_api_token(session, acct)
    session.commit()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for path in (f"/api/requests/{req.id}/notes", f"/api/requests/{req.id}/assign"):
        response = client.post(path, data=body, headers=headers)
        assert response.status_code < 500, (path, response.status_code)
