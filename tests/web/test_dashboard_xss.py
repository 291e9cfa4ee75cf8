"""Stored XSS: HTML, script, template syntax and spreadsheet formulas typed by the public
(request text, names, SMS bodies, places, flags) are inert on every dashboard page and in
every CSV, for every role."""

from __future__ import annotations

import csv
import io

import pytest

from mutualaid.models import (
    AuditEvent,
    Conversation,
    Message,
    MessageDirection,
    MessageStatus,
    Role,
    utcnow,
)
from tests import builders
from tests.web.dashboard_helpers import logged_in

PAYLOADS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ config.SECRET_KEY }}{% raw %}",
    '=HYPERLINK("http://evil.example","click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "javascript:alert(1)",
]
HOSTILE = " ".join(PAYLOADS)


@pytest.fixture
def hostile(session):
    requester = builders.person(session, name="<b>Eve</b>{{7*7}}")
    req = builders.aid_request(
        session,
        requester=requester,
        details=HOSTILE,
        location_text=HOSTILE[:200],
        location_label="<i>Fulton</i>{{7*7}}",
        address="<svg onload=alert(1)>",
        flagged=True,
        flag_reason="<script>alert('flag')</script>",
    )
    volunteer = builders.person(session, name="=1+2<script>v()</script>")
    offer = builders.offer(session, person=volunteer, availability=HOSTILE[:200])
    builders.match(session, request=req, offer=offer, why=HOSTILE)
    session.add(
        Message(
            direction=MessageDirection.INBOUND,
            person_id=requester.id,
            phone=requester.phone,
            body=HOSTILE,
            status=MessageStatus.PROCESSED,
            request_id=req.id,
        )
    )
    session.add(Conversation(person_id=requester.id, human_requested_at=utcnow()))
    session.add(
        AuditEvent(
            actor_type="person",
            actor_id=requester.id,
            action="request.created",
            subject_type="aid_requests",
            subject_id=req.id,
            detail={"note": HOSTILE},
        )
    )
    session.commit()
    return {"request_id": req.id, "offer_id": offer.id}


def _pages(ids):
    return [
        "/dashboard/",
        "/dashboard/requests",
        f"/dashboard/requests/{ids['request_id']}",
        "/dashboard/volunteers",
        f"/dashboard/volunteers/{ids['offer_id']}",
        "/dashboard/matching",
        "/dashboard/map",
        "/dashboard/figures",
        "/dashboard/audit",
    ]


def assert_inert(html: str) -> None:
    assert "<script>alert" not in html and "<script>v()" not in html
    assert "<img src=x" not in html and "<svg onload" not in html
    assert "<b>Eve</b>" not in html and "<i>Fulton</i>" not in html
    assert "test-secret-key" not in html


@pytest.mark.parametrize("role", [Role.VIEWER, Role.COORDINATOR])
def test_pages_render_hostile_text_inert(app, session, hostile, role):
    client = logged_in(app, session, role)
    for url in _pages(hostile):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_inert(response.get_data(as_text=True))
    # Template syntax is shown as typed, never evaluated.
    page = client.get(f"/dashboard/requests/{hostile['request_id']}").get_data(as_text=True)
    assert "&lt;b&gt;Eve&lt;/b&gt;{{7*7}}" in page
    if role is Role.COORDINATOR:
        # The message search, with the hostile text as the words searched for (and shown
        # back); viewers cannot search.
        found = client.post("/dashboard/messages/search", data={"q": PAYLOADS[0]})
        assert "1 text found" in found.get_data(as_text=True)
        assert_inert(found.get_data(as_text=True))
        shown = client.post("/dashboard/messages/search", data={"q": "alert", "reveal": "1"})
        assert "&lt;script&gt;alert(" in shown.get_data(as_text=True)
        assert_inert(shown.get_data(as_text=True))
    if role is Role.COORDINATOR:
        for url in (
            f"/dashboard/requests/{hostile['request_id']}/reveal",
            f"/dashboard/volunteers/{hostile['offer_id']}/reveal",
            "/dashboard/matching/preview",
        ):
            html = client.post(url).get_data(as_text=True)
            assert_inert(html)
        # Escaped, yet shown: the coordinator can read what was written.
        assert "&lt;script&gt;alert(" in html or "&lt;" in client.post(
            f"/dashboard/requests/{hostile['request_id']}/reveal"
        ).get_data(as_text=True)


@pytest.mark.parametrize("kind", ["requests", "volunteers", "matches"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_csv_cells_never_start_a_formula(app, session, hostile, kind, method):
    client = logged_in(app, session, Role.COORDINATOR)
    response = client.open(f"/dashboard/export/{kind}.csv", method=method)
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    cells = [cell for row in rows for cell in row]
    assert any("HYPERLINK" in c or "=1+2" in c for c in cells) or kind == "requests"
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
