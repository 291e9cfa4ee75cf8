"""Dashboard behaviour: queues and filters, a request's page and its actions through the
services (assign by hand, cancel, complete), volunteers (vet, pause, resume, block), the
matching preview and send, map, figures, CSV export and the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select

from mutualaid.extensions import db
from mutualaid.models import (
    Account,
    AidRequest,
    AuditEvent,
    Channel,
    Match,
    MatchingRun,
    MatchStatus,
    Message,
    MessageDirection,
    MessageStatus,
    RequestNote,
    RequestStatus,
    Role,
    Urgency,
    utcnow,
)
from mutualaid.services.exports import safe_cell
from mutualaid.services.reports import percentile
from tests import builders
from tests.web.dashboard_helpers import logged_in


@pytest.fixture
def coordinator(app, session):
    return logged_in(app, session, Role.COORDINATOR)


@pytest.fixture
def viewer(app, session):
    return logged_in(app, session, Role.VIEWER)


def test_overview_shows_what_needs_action(coordinator, session):
    flagged = builders.aid_request(session, flagged=True, flag_reason="escalated: open 24 h")
    builders.match(session, expires_at=utcnow() + dt.timedelta(minutes=5))
    session.commit()
    page = coordinator.get("/dashboard/").get_data(as_text=True)
    assert flagged.ref in page and "escalated: open 24 h" in page
    assert "Proposals about to expire" in page
    assert "open with no volunteer asked" in page


def test_requests_filter_sort_and_paginate(coordinator, session):
    for i in range(60):
        builders.aid_request(session, ref=f"N{i:05d}", category="groceries")
    urgent = builders.aid_request(
        session, ref="URG001", category="medicine", urgency=Urgency.URGENT, channel=Channel.SMS
    )
    done = builders.aid_request(session, ref="DONE01", status=RequestStatus.COMPLETED)
    session.commit()
    page = coordinator.get("/dashboard/requests?category=medicine").get_data(as_text=True)
    assert urgent.ref in page and "N00001" not in page
    page = coordinator.get("/dashboard/requests?state=completed").get_data(as_text=True)
    assert done.ref in page and urgent.ref not in page
    page = coordinator.get("/dashboard/requests?channel=sms&urgency=urgent").get_data(as_text=True)
    assert urgent.ref in page and "N00001" not in page
    first = coordinator.get("/dashboard/requests?sort=urgency").get_data(as_text=True)
    assert first.index("URG001") < first.index("N000")
    assert "Page 1 of 2" in first
    second = coordinator.get("/dashboard/requests?sort=oldest&page=2").get_data(as_text=True)
    assert "N00000" not in second and "DONE01" in second
    # Junk in the query is ignored, never a 500.
    assert coordinator.get("/dashboard/requests?state=x&page=-1&sort=';drop").status_code == 200


def test_list_pages_use_a_bounded_number_of_queries(app, coordinator, session):
    def count_queries(url: str) -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert coordinator.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    for _ in range(3):
        builders.match(session)
    session.commit()
    small = {
        u: count_queries(u) for u in ("/dashboard/", "/dashboard/requests", "/dashboard/volunteers")
    }
    for _ in range(30):
        builders.match(session)
    session.commit()
    large = {u: count_queries(u) for u in small}
    assert large == small


def test_assign_by_hand_with_the_distance(coordinator, session):
    req = builders.aid_request(session, lat=40.68, lon=-73.95)
    near = builders.offer(session, lat=40.681, lon=-73.951)
    far = builders.offer(session, lat=40.70, lon=-73.90)
    builders.offer(session, categories=("rides",), lat=40.68, lon=-73.95)  # wrong category
    session.commit()
    page = coordinator.get(f"/dashboard/requests/{req.id}").get_data(as_text=True)
    # The choices, nearest first (found by their values: a bare "V2" can occur in the
    # page's random nonce or token).
    choices = re.findall(r'name="offer_id" value="(\d+)"', page)
    assert choices == [str(near.id), str(far.id)], choices
    assert "0.1 km" in page
    response = coordinator.post(
        f"/dashboard/requests/{req.id}/assign", data={"offer_id": str(far.id), "agreed": "1"}
    )
    assert response.status_code == 303
    session.expire_all()
    match = session.scalar(select(Match).where(Match.request_id == req.id))
    assert match.status is MatchStatus.ACCEPTED and match.offer_id == far.id
    assert match.assigned_by is not None and match.km > 3
    assert session.get(AidRequest, req.id).status is RequestStatus.MATCHED
    page = coordinator.get(f"/dashboard/requests/{req.id}").get_data(as_text=True)
    assert "Assigned to volunteer" in page
    assert "request.matched" in page or "matched" in page
    # The volunteer is told (through the outbox), never by the web request itself.
    assert session.scalar(select(func.count()).select_from(Message)) >= 1


def test_assign_by_hand_proposes_unless_they_already_agreed(coordinator, session):
    req = builders.aid_request(session)
    offer = builders.offer(session)
    session.commit()
    coordinator.post(f"/dashboard/requests/{req.id}/assign", data={"offer_id": str(offer.id)})
    session.expire_all()
    match = session.scalar(select(Match).where(Match.request_id == req.id))
    assert match.status is MatchStatus.PROPOSED and match.assigned_by is not None
    assert session.get(AidRequest, req.id).status is RequestStatus.OPEN
    (text,) = session.scalars(select(Message).where(Message.match_id == match.id))
    assert text.template == "proposal" and f"/t/{match.id}." in text.body
    page = coordinator.get(f"/dashboard/requests/{req.id}").get_data(as_text=True)
    assert "Proposed to volunteer" in page


def test_assign_refuses_a_volunteer_who_cannot(coordinator, session):
    req = builders.aid_request(session)
    wrong = builders.offer(session, categories=("rides",))
    session.commit()
    coordinator.post(f"/dashboard/requests/{req.id}/assign", data={"offer_id": str(wrong.id)})
    assert session.scalar(select(func.count()).select_from(Match)) == 0
    assert (
        coordinator.post(f"/dashboard/requests/{req.id}/assign", data={"offer_id": "x"}).status_code
        == 422
    )


def test_cancel_and_complete(coordinator, session):
    req = builders.aid_request(session)
    offer = builders.offer(session)
    session.commit()
    coordinator.post(
        f"/dashboard/requests/{req.id}/assign", data={"offer_id": str(offer.id), "agreed": "1"}
    )
    coordinator.post(f"/dashboard/requests/{req.id}/complete")
    session.expire_all()
    assert session.get(AidRequest, req.id).status is RequestStatus.COMPLETED
    other = builders.aid_request(session)
    session.commit()
    coordinator.post(f"/dashboard/requests/{other.id}/cancel")
    session.expire_all()
    assert session.get(AidRequest, other.id).status is RequestStatus.CANCELLED
    actions = set(
        session.scalars(select(AuditEvent.action).where(AuditEvent.actor_type == "coordinator"))
    )
    assert actions  # every change left an audit event by the coordinator
    page = coordinator.get(f"/dashboard/requests/{req.id}").get_data(as_text=True)
    assert "completed" in page


def test_cancelling_twice_is_not_an_error_page(coordinator, session):
    req = builders.aid_request(session)
    session.commit()
    coordinator.post(f"/dashboard/requests/{req.id}/cancel")
    again = coordinator.post(f"/dashboard/requests/{req.id}/cancel", follow_redirects=True)
    assert again.status_code == 200
    bulk = coordinator.post(
        "/dashboard/requests/bulk", data={"action": "cancel", "request": str(req.id)}
    )
    assert bulk.status_code < 500
    session.expire_all()
    assert session.get(AidRequest, req.id).status is RequestStatus.CANCELLED


def test_complete_needs_an_accepted_match(coordinator, session):
    req = builders.aid_request(session)
    session.commit()
    response = coordinator.post(f"/dashboard/requests/{req.id}/complete", follow_redirects=True)
    assert "Only a request with an accepted volunteer" in response.get_data(as_text=True)
    assert session.get(AidRequest, req.id).status is RequestStatus.OPEN


def test_volunteer_vet_pause_resume_block(coordinator, session):
    offer = builders.offer(session)
    session.commit()
    base = f"/dashboard/volunteers/{offer.id}"
    for action in ("vet", "pause"):
        assert coordinator.post(f"{base}/{action}").status_code == 303
    session.expire_all()
    assert offer.vetted and offer.paused and offer.vetted_by is not None
    coordinator.post(f"{base}/resume")
    coordinator.post(f"{base}/block")
    session.expire_all()
    assert not offer.paused and offer.person.blocked
    actions = list(
        session.scalars(select(AuditEvent.action).where(AuditEvent.actor_type == "coordinator"))
    )
    assert {"offer.vetted", "offer.paused", "offer.resumed", "person.blocked"} <= set(actions)
    page = coordinator.get(base).get_data(as_text=True)
    assert "blocked" in page
    assert (
        coordinator.get("/dashboard/volunteers?vetted=yes")
        .get_data(as_text=True)
        .count(f"V{offer.id}<")
        == 1
    )
    assert f"V{offer.id}<" not in coordinator.get("/dashboard/volunteers?vetted=no").get_data(
        as_text=True
    )


def _preview(client) -> tuple[str, dict[str, str]]:
    """The preview page, and the send form it holds: the signed plan, the checked pairs."""
    page = client.post("/dashboard/matching/preview").get_data(as_text=True)
    plan = re.search(r'name="plan" value="([^"]+)"', page)
    checked = re.findall(r'type="checkbox" name="request" value="(\d+)" checked', page)
    return page, {"selection": "1", "plan": plan[1] if plan else "", "request": checked}


def _matches(session) -> dict[int, tuple[int, MatchStatus]]:
    session.expire_all()
    return {m.request_id: (m.offer_id, m.status) for m in session.scalars(select(Match))}


def test_matching_preview_then_send(coordinator, session):
    req = builders.aid_request(session, lat=40.68, lon=-73.95)
    lonely = builders.aid_request(session, category="rides", lat=40.68, lon=-73.95)
    offer = builders.offer(session, lat=40.681, lon=-73.951, vetted=True)
    session.commit()
    text, form = _preview(coordinator)
    assert req.ref in text and f"V{offer.id}" in text and lonely.ref in text
    assert "Nothing has been sent" in text
    assert session.scalar(select(func.count()).select_from(Match)) == 0  # a dry run
    response = coordinator.post("/dashboard/matching/send", data=form)
    assert response.status_code == 303
    assert _matches(session) == {req.id: (offer.id, MatchStatus.PROPOSED)}
    run = session.scalar(select(MatchingRun).where(MatchingRun.dry_run.is_(False)))
    assert run.trigger == "coordinator" and run.triggered_by is not None
    assert (run.proposed, run.requests_considered) == (1, 1)
    page = coordinator.get("/dashboard/matching").get_data(as_text=True)
    assert "Sent 1 of the 1 checked proposals as previewed" in page


def test_unchecking_a_pair_sends_the_others_exactly_as_previewed(coordinator, session):
    """A can only be reached by X; B is nearer X than Y. The optimum serves both (A-X,
    B-Y). Unchecking A must send B-Y as shown, not re-solve B alone (which would take X)."""
    x = builders.offer(session, lat=40.680, lon=-73.950, radius_km=5.0)
    y = builders.offer(session, lat=40.680, lon=-73.880, radius_km=5.0)
    a = builders.aid_request(session, lat=40.680, lon=-73.990)
    b = builders.aid_request(session, lat=40.680, lon=-73.930)
    session.commit()
    _, form = _preview(coordinator)
    assert sorted(form["request"]) == sorted([str(a.id), str(b.id)])
    form["request"] = [str(b.id)]
    page = coordinator.post("/dashboard/matching/send", data=form, follow_redirects=True)
    assert _matches(session) == {b.id: (y.id, MatchStatus.PROPOSED)}
    assert session.get(AidRequest, a.id).status is RequestStatus.OPEN
    text = page.get_data(as_text=True)
    assert "Sent 1 of the 1 checked proposals as previewed; 1 unchecked requests left open" in text
    proposal = session.scalar(select(Match))
    assert proposal.km == pytest.approx(4.2, abs=0.1) and proposal.why and x.id != y.id


def test_pairs_that_changed_since_the_preview_are_skipped_and_named(coordinator, session):
    def cluster(i: int, **offer_fields):
        lon = -73.95 + 0.3 * i  # 25 km apart: each request can reach only its own volunteer
        offer = builders.offer(session, lat=40.68, lon=lon, **offer_fields)
        return builders.aid_request(session, lat=40.68, lon=lon + 0.001), offer

    (gone, _), (paused_for, paused), (full_for, full), (fine, fine_offer) = (
        cluster(0),
        cluster(1),
        cluster(2, capacity=1),
        cluster(3),
    )
    session.commit()
    _, form = _preview(coordinator)
    assert len(form["request"]) == 4
    # Meanwhile: a request is cancelled, a volunteer pauses, another is given a new request
    # by hand.
    other = builders.aid_request(session, lat=40.68, lon=-73.95 + 0.6)
    session.commit()
    coordinator.post(f"/dashboard/requests/{gone.id}/cancel")
    coordinator.post(f"/dashboard/volunteers/{paused.id}/pause")
    coordinator.post(
        f"/dashboard/requests/{other.id}/assign", data={"offer_id": str(full.id), "agreed": "1"}
    )
    page = coordinator.post("/dashboard/matching/send", data=form, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "Sent 1 of the 4 checked proposals as previewed" in text
    assert "3 not sent, because the data changed since the preview" in text
    assert f"{gone.ref} with V" in text and "the request is cancelled now" in text
    assert f"{paused_for.ref} with V{paused.id}: the volunteer paused" in text
    assert f"{full_for.ref} with V{full.id}: the volunteer has no free capacity now" in text
    assert _matches(session) == {
        fine.id: (fine_offer.id, MatchStatus.PROPOSED),
        other.id: (full.id, MatchStatus.ACCEPTED),
    }
    event = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "matching.sent_as_previewed")
    )
    assert event.detail["proposed"] == 1 and len(event.detail["skipped"]) == 3
    # Sent twice (a double click): nothing more is proposed.
    again = coordinator.post("/dashboard/matching/send", data=form, follow_redirects=True)
    assert "Sent 0 of the 4" in again.get_data(as_text=True)
    assert "the request already has a proposal or a volunteer" in again.get_data(as_text=True)
    assert len(_matches(session)) == 2


def test_a_preview_altered_or_too_old_is_not_sent(coordinator, session, monkeypatch):
    import itsdangerous

    builders.aid_request(session)
    builders.offer(session)
    session.commit()
    _, form = _preview(coordinator)
    altered = dict(form, plan=form["plan"][:-3] + "AAA")
    page = coordinator.post("/dashboard/matching/send", data=altered, follow_redirects=True)
    assert "That preview can no longer be sent" in page.get_data(as_text=True)
    real = itsdangerous.TimestampSigner.get_timestamp
    monkeypatch.setattr(
        itsdangerous.TimestampSigner, "get_timestamp", lambda self: real(self) - 3700
    )
    _, old = _preview(coordinator)
    monkeypatch.undo()
    page = coordinator.post("/dashboard/matching/send", data=old, follow_redirects=True)
    assert "That preview can no longer be sent" in page.get_data(as_text=True)
    assert _matches(session) == {}


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 4600}])
def test_a_preview_too_large_to_post_back_offers_a_fresh_run(app, session):
    coordinator = logged_in(app, session, Role.COORDINATOR)
    for i in range(40):
        builders.offer(session, lat=40.68, lon=-73.95 + 0.3 * i)
        builders.aid_request(session, lat=40.68, lon=-73.95 + 0.3 * i)
    session.commit()
    page, form = _preview(coordinator)
    assert "Preview: 40 proposals" in page and "Too many pairs to send from this page" in page
    assert not form["plan"] and 'id="send"' not in page and 'id="send-now"' in page


def test_sending_after_excluding_every_pair_sends_nothing(coordinator, session):
    builders.aid_request(session)
    builders.offer(session)
    session.commit()
    _, form = _preview(coordinator)
    page = coordinator.post(
        "/dashboard/matching/send", data=dict(form, request=[]), follow_redirects=True
    )
    assert "No pair was kept: nothing sent." in page.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Match)) == 0


def test_map_is_drawn_from_the_data_with_no_third_party(viewer, session):
    builders.aid_request(session)
    builders.offer(session)
    session.commit()
    page = viewer.get("/dashboard/map").get_data(as_text=True)
    assert "<svg" in page and "<rect x=" in page and "<circle" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page


def test_figures(viewer, session):
    now = utcnow()
    for hours in (1, 2, 3, 10):
        builders.aid_request(
            session,
            created_at=now - dt.timedelta(hours=hours + 1),
            matched_at=now - dt.timedelta(hours=1),
            status=RequestStatus.MATCHED,
        )
    builders.aid_request(session)
    session.commit()
    page = viewer.get("/dashboard/figures?days=7").get_data(as_text=True)
    assert "80%" in page  # 4 of 5 found a volunteer
    assert "2.5 h" in page  # median of 1, 2, 3, 10 hours
    assert "<svg" in page


def test_figures_chart_by_category_and_area(viewer, session):
    now = utcnow()
    for category, area, served in [
        ("groceries", "Bed-Stuy", True),
        ("groceries", "Bed-Stuy", False),
        ("groceries", "Crown Heights", True),
        ("meals", "Crown Heights", False),
    ]:
        builders.aid_request(
            session,
            category=category,
            location_label=area,
            created_at=now - dt.timedelta(hours=3),
            matched_at=now - dt.timedelta(hours=1) if served else None,
            status=RequestStatus.MATCHED if served else RequestStatus.OPEN,
        )
    session.commit()
    page = viewer.get("/dashboard/figures").get_data(as_text=True)
    for chart, rows in (
        ("by-category", {"Groceries": (3, 2), "Hot meals": (1, 0)}),
        ("by-area", {"Bed-Stuy": (2, 1), "Crown Heights": (2, 1)}),
    ):
        svg = page.split(f'id="{chart}"')[1].split("</svg>")[0]
        # Accessible: a role, a title and a description that carries the numbers.
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in page
        assert f'<title id="{chart}-title">Requests and how many found a volunteer' in svg
        desc = svg.split(f'<desc id="{chart}-desc">')[1].split("</desc>")[0]
        for label, (total, served) in rows.items():
            assert f"{label}: {total}, {served} served." in desc
            assert f">{label}</text>" in svg and f"{total} ({served} served)" in svg
        # The longest bar is the largest count; the served part is in proportion.
        bars = re.findall(r'width="([\d.]+)" height="18" class="bar-total"', svg)
        widths = [float(w) for w in bars]
        assert max(widths) == pytest.approx(380.0) and len(widths) == len(rows)
        assert "<script" not in svg and " style=" not in svg
    # The same numbers as a table.
    table = page.split('aria-labelledby="by-category-h"')[1].split("</table>")[0]
    assert "<td>Groceries</td><td>3</td><td>2</td>" in table


def test_percentile():
    assert percentile([], 50) is None
    assert percentile([4.0], 90) == 4.0
    assert percentile([1, 2, 3, 10], 50) == 2.5
    assert percentile(list(range(1, 102)), 90) == pytest.approx(91.0)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("plain", "plain"),
        (None, ""),
        ('milk;=HYPERLINK("x")', 'milk;\'=HYPERLINK("x")'),
        ("eggs, +1", "eggs, '+1"),
        ("a;@SUM(A1);-cmd", "a;'@SUM(A1);'-cmd"),
        ("40.68, -73.95", "40.68, -73.95"),  # a negative number stays a number
        ("one, two; three", "one, two; three"),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


def test_csv_times_are_in_the_networks_zone_with_their_offset():
    from zoneinfo import ZoneInfo

    winter = dt.datetime(2026, 12, 2, 14, 30, tzinfo=dt.UTC)
    assert safe_cell(winter, ZoneInfo("America/New_York")) == "2026-12-02T09:30:00-05:00"
    assert safe_cell(winter.replace(tzinfo=None)) == "2026-12-02T14:30:00+00:00"


@pytest.mark.parametrize("kind", ["requests", "volunteers", "matches"])
def test_csv_exports(viewer, session, kind):
    builders.match(session, why="=cmd|' /C calc'!A0")
    session.commit()
    response = viewer.get(f"/dashboard/export/{kind}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) >= 2
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_audit_log_filters(coordinator, session):
    offer = builders.offer(session)
    session.commit()
    coordinator.post(f"/dashboard/volunteers/{offer.id}/vet")
    coordinator.post(f"/dashboard/volunteers/{offer.id}/pause")
    page = coordinator.get("/dashboard/audit?action=offer.vet").get_data(as_text=True)
    assert "offer.vetted" in page and "offer.paused" not in page
    page = coordinator.get(
        f"/dashboard/audit?subject_type=offers&subject_id={offer.id}&actor_type=coordinator"
    ).get_data(as_text=True)
    assert "offer.vetted" in page and "offer.paused" in page
    assert coordinator.get("/dashboard/audit?subject_id=abc&page=0").status_code == 200


def test_live_refresh_script_is_served_and_no_inline_script(coordinator, session):
    req = builders.aid_request(session)
    session.commit()
    page = coordinator.get(f"/dashboard/requests/{req.id}").get_data(as_text=True)
    assert '<script src="/static/dashboard.js"' in page
    assert "<script>" not in page and " style=" not in page
    with coordinator.get("/static/dashboard.js") as script:
        assert script.status_code == 200


def test_message_a_requester_and_a_volunteer(coordinator, session):
    req = builders.aid_request(session)
    offer = builders.offer(session)
    session.commit()
    coordinator.post(f"/dashboard/requests/{req.id}/message", data={"body": "We are on it\x00"})
    coordinator.post(f"/dashboard/volunteers/{offer.id}/message", data={"body": "Thanks!"})
    coordinator.post(f"/dashboard/volunteers/{offer.id}/message", data={"body": "   "})
    texts = {
        m.person_id: (m.body, m.status, m.template)
        for m in session.scalars(select(Message).where(Message.template == "coordinator"))
    }
    assert texts == {
        req.requester_id: ("We are on it", MessageStatus.QUEUED, "coordinator"),
        offer.person_id: ("Thanks!", MessageStatus.QUEUED, "coordinator"),
    }
    audit = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "message.by_coordinator")
    ).all()
    assert len(audit) == 2 and all("We are on it" not in str(e.detail) for e in audit)


def test_failed_texts_and_retry_once(coordinator, viewer, session):
    person = builders.person(session)
    failed = Message(
        direction=MessageDirection.OUTBOUND,
        person_id=person.id,
        phone=person.phone,
        body="hello",
        status=MessageStatus.FAILED,
        error_code=30003,
    )
    session.add(failed)
    session.commit()
    page = viewer.get("/dashboard/messages").get_data(as_text=True)
    assert "30003" in page and person.phone not in page and "Retry" not in page
    assert viewer.post(f"/dashboard/messages/{failed.id}/retry").status_code == 403
    coordinator.post(f"/dashboard/messages/{failed.id}/retry")
    coordinator.post(f"/dashboard/messages/{failed.id}/retry")
    queued = session.scalars(select(Message).where(Message.status == MessageStatus.QUEUED)).all()
    assert [(m.body, m.phone) for m in queued] == [("hello", person.phone)]


def test_requests_filter_by_area(coordinator, session):
    here = builders.aid_request(session, location_label="Bed-Stuy")
    there = builders.aid_request(session, location_label="Crown Heights")
    session.commit()
    page = coordinator.get("/dashboard/requests?area=Bed-Stuy").get_data(as_text=True)
    assert here.ref in page and there.ref not in page


def test_bulk_actions(coordinator, viewer, session):
    a, b, c = (builders.aid_request(session) for _ in range(3))
    builders.offer(session)
    session.commit()
    assert viewer.post("/dashboard/requests/bulk", data={"action": "flag"}).status_code == 403
    response = coordinator.post(
        "/dashboard/requests/bulk",
        data={"action": "flag", "reason": "check by phone", "request": [str(a.id), str(b.id)],
              "back": "https://evil.example/"},
    )  # fmt: skip
    assert response.headers["Location"].endswith("/dashboard/requests")
    session.expire_all()
    assert (a.flag_reason, b.flag_reason, c.flagged) == ("check by phone", "check by phone", False)
    coordinator.post("/dashboard/requests/bulk", data={"action": "cancel", "request": [str(b.id)]})
    session.expire_all()
    assert b.status is RequestStatus.CANCELLED
    coordinator.post("/dashboard/requests/bulk", data={"action": "match", "request": [str(c.id)]})
    matched = session.scalars(select(Match.request_id)).all()
    assert matched == [c.id]  # only the selection was considered


def test_edit_and_merge(coordinator, session):
    req = builders.aid_request(session, category="groceries")
    dup = builders.aid_request(session)
    session.commit()
    coordinator.post(
        f"/dashboard/requests/{req.id}/edit", data={"category": "meals", "urgency": "urgent"}
    )
    coordinator.post(f"/dashboard/requests/{req.id}/edit", data={"category": "<script>"})
    session.expire_all()
    assert (req.category, req.urgency) == ("meals", Urgency.URGENT)
    response = coordinator.post(f"/dashboard/requests/{dup.id}/merge", data={"into": req.ref})
    assert response.headers["Location"].endswith(f"/dashboard/requests/{req.id}")
    session.expire_all()
    assert dup.status is RequestStatus.CANCELLED
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"request.edited", "request.merged", "request.merged_from"} <= actions
    coordinator.post(f"/dashboard/requests/{req.id}/merge", data={"into": req.ref})
    session.expire_all()
    assert req.status is RequestStatus.OPEN  # never into itself


def test_volunteers_filter_by_room_and_area(coordinator, session):
    busy = builders.offer(session, capacity=1, location_label="Bed-Stuy")
    free = builders.offer(session, capacity=2, location_label="Bed-Stuy")
    elsewhere = builders.offer(session, location_label="Crown Heights")
    builders.match(session, offer=busy)
    builders.match(session, offer=free)
    session.commit()

    def shown(query: str) -> set[int]:
        page = coordinator.get(f"/dashboard/volunteers?{query}").get_data(as_text=True)
        return {o.id for o in (busy, free, elsewhere) if f">V{o.id}<" in page}

    assert shown("room=yes&area=Bed-Stuy") == {free.id}
    assert shown("room=no") == {busy.id}
    assert shown("area=Crown+Heights") == {elsewhere.id}


def test_map_by_category(viewer, session):
    builders.aid_request(session, category="groceries")
    builders.aid_request(session, category="meals", lat=40.70, lon=-73.90)
    builders.offer(session, categories=("meals",))
    session.commit()
    everything = viewer.get("/dashboard/map").get_data(as_text=True)
    assert "2 open requests" in everything and "1 available volunteer " in everything
    meals = viewer.get("/dashboard/map?category=meals").get_data(as_text=True)
    assert "1 open request " in meals and '<option value="meals" selected>' in meals
    groceries = viewer.get("/dashboard/map?category=groceries").get_data(as_text=True)
    assert "1 open request " in groceries and "0 available volunteers" in groceries


def test_map_counts_each_available_volunteer_once_and_names_places(viewer, session, runner):
    from mutualaid.cli import places_load
    from mutualaid.services.reports import map_view

    assert runner.invoke(places_load, []).exit_code == 0
    builders.aid_request(session, lat=40.6803, lon=-73.9505)
    builders.offer(session, categories=("groceries", "meals", "rides"), lat=40.69, lon=-73.94)
    gone = builders.offer(session, lat=40.69, lon=-73.94)
    gone.person.opted_out = True
    builders.offer(session, lat=40.69, lon=-73.94, paused=True)
    session.commit()
    page = viewer.get("/dashboard/map").get_data(as_text=True)
    assert "1 open request " in page and "1 available volunteer " in page
    view = map_view(session)
    assert sum(p.count for p in view.points if p.kind == "volunteer") == 1
    assert "Bedford-Stuyvesant" in {label.name for label in view.labels}
    assert 'class="place-label"' in page and 'class="mark-label"' in page  # not colour alone


def test_map_numbers_every_category_apart_even_past_eight_colours(app, viewer, session):
    """Colours repeat after eight; the number on a mark and in the legend never does."""
    import re

    from mutualaid.services.catalogues import Category

    categories = app.extensions["categories"]
    app.extensions["categories"] = {
        **categories,
        "pets": Category("pets", {"en": "Pet care"}, (), False),
    }
    try:
        assert len(app.extensions["categories"]) == 9
        builders.aid_request(session, category="pets")
        builders.aid_request(session, category="groceries", lat=40.70, lon=-73.90)
        session.commit()
        page = viewer.get("/dashboard/map").get_data(as_text=True)
    finally:
        app.extensions["categories"] = categories
    legend = dict(re.findall(r"</svg> (\d+) ([^<]+)</li>", page))
    assert legend["9"] == "Pet care" and legend["1"] == "Groceries"
    assert len(set(legend)) == 9
    marks = re.findall(r'class="mark-label">(\d+)</text></g>', page)
    assert sorted(marks) == ["1", "9"]


def test_notes_on_a_request(app, coordinator, viewer, session):
    req = builders.aid_request(session)
    session.commit()
    url = f"/dashboard/requests/{req.id}"
    assert viewer.post(f"{url}/notes", data={"body": "viewers only read"}).status_code == 403
    assert "Add a note" not in viewer.get(url).get_data(as_text=True)
    coordinator.post(f"{url}/notes", data={"body": "Called her: prefers mornings\x00"})
    coordinator.post(f"{url}/notes", data={"body": "Second <b>note</b>\nwith two lines"})
    refused = coordinator.post(f"{url}/notes", data={"body": " \x07 "}, follow_redirects=True)
    assert "Note not saved: an empty note" in refused.get_data(as_text=True)
    coordinator.post(f"{url}/notes", data={"body": "x" * 2001})
    stored = session.scalars(select(RequestNote).order_by(RequestNote.id)).all()
    assert [n.body for n in stored] == [
        "Called her: prefers mornings",
        "Second <b>note</b>\nwith two lines",
    ]
    page = viewer.get(url).get_data(as_text=True)
    newest, oldest = page.index("Second &lt;b&gt;note"), page.index("prefers mornings")
    assert newest < oldest  # newest first, escaped
    author = session.get(Account, stored[0].author_id)
    assert author.role is Role.COORDINATOR and author.email in page
    assert (
        stored[0].created_at.astimezone(ZoneInfo(app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")
        in page
    )
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "request.noted")).all()
    assert [(e.subject_id, e.actor_id, e.detail) for e in events] == [
        (req.id, author.id, {"note_id": n.id}) for n in stored
    ]
    assert "request.noted" in page  # in the request's history too


def test_a_note_shows_no_phone_number_until_revealed(coordinator, viewer, session):
    req = builders.aid_request(session)
    session.commit()
    coordinator.post(f"/dashboard/requests/{req.id}/notes", data={"body": "son: 718-555-0199"})
    for client in (viewer, coordinator):
        page = client.get(f"/dashboard/requests/{req.id}").get_data(as_text=True)
        assert "555-0199" not in page and "son:" in page
    revealed = coordinator.post(f"/dashboard/requests/{req.id}/reveal").get_data(as_text=True)
    assert "son: 718-555-0199" in revealed


def _texts(session, person, *bodies, direction=MessageDirection.INBOUND, request=None):
    for body in bodies:
        session.add(
            Message(
                direction=direction,
                person_id=person.id if person else None,
                phone=person.phone if person else "+16465550999",
                body=body,
                status=MessageStatus.PROCESSED
                if direction is MessageDirection.INBOUND
                else MessageStatus.SENT,
                request_id=request.id if request else None,
            )
        )
    session.flush()


def test_message_search_by_words_and_by_phone(coordinator, viewer, session):
    rosa = builders.person(session, phone="+17185550142")
    req = builders.aid_request(session, requester=rosa, ref="ROSA01")
    helper = builders.person(session, phone="+17185550177")
    offer = builders.offer(session, person=helper)
    _texts(session, rosa, "Necesito MEDICÍNA por favor", "thank you", request=req)
    _texts(session, helper, "Your medicina run is confirmed", direction=MessageDirection.OUTBOUND)
    _texts(session, None, "medicine for a stranger")
    session.commit()

    def found(client, **form):
        response = client.post("/dashboard/messages/search", data=form)
        return response, response.get_data(as_text=True)

    # Viewers cannot search at all: hits alone would read masked texts a guess at a time.
    for form in ({"q": "medicina"}, {"phone": "(718) 555-0142"}, {"q": "x", "reveal": "1"}):
        assert found(viewer, **form)[0].status_code == 403
    response, page = found(coordinator, q="medicina")
    assert response.status_code == 200 and "2 texts found" in page
    assert f"/dashboard/requests/{req.id}" in page and "request ROSA01" in page
    assert f"/dashboard/volunteers/{offer.id}" in page
    assert "+17185550142" not in page and "7185550142" not in page and "••" in page
    assert "Necesito" not in page  # texts stay hidden until a coordinator reveals them
    # A phone number however it is written, matched exactly: both directions, only that person.
    response, page = found(coordinator, phone="(718) 555-0142")
    assert "2 texts found" in page and "request ROSA01" in page and "volunteer V" not in page
    assert "0142" not in page.split("<tbody>")[1]  # masked in the results
    _, page = found(coordinator, phone="718 555 0177", q="thank")
    assert "0 texts found" in page
    response, page = found(coordinator, phone="555-01")
    assert response.status_code == 422 and "not a phone number in region US" in page
    response, page = found(coordinator)
    assert response.status_code == 422 and "type some words or a phone number" in page
    # Coordinators may reveal, and it is audited.
    _, page = found(coordinator, q="medicina", reveal="1")
    assert "Necesito MEDICÍNA por favor" in page and "+17185550142" in page
    reveals = session.scalars(select(AuditEvent).where(AuditEvent.action == "contact.revealed"))
    assert [e.subject_type for e in reveals] == ["messages"]
    # The search page never puts what was searched for into an address.
    assert 'method="post"' in coordinator.get("/dashboard/messages").get_data(as_text=True)
    assert "search-q" not in viewer.get("/dashboard/messages").get_data(as_text=True)


def test_message_search_pages_and_scan_limit(session, app):
    from mutualaid.services import message_search as ms

    person = builders.person(session)
    _texts(session, person, *[f"groceries {i}" if i % 3 == 0 else f"other {i}" for i in range(30)])
    session.commit()
    query = ms.MessageQuery(words="groceries")
    first = ms.search(session, query, page_size=4, batch=5)
    assert [h.message.body for h in first.hits] == [
        "groceries 27",
        "groceries 24",
        "groceries 21",
        "groceries 18",
    ]
    rest = ms.search(session, ms.MessageQuery("groceries", before=first.next_before), page_size=20)
    assert [h.message.body for h in rest.hits] == [f"groceries {i}" for i in (15, 12, 9, 6, 3, 0)]
    assert rest.next_before is None
    # With a scan limit, a page says where it stopped, and the next goes on from there.
    part = ms.search(session, query, page_size=20, scan_limit=10, batch=4)
    assert part.stopped_early and part.scanned == 10
    assert [h.message.body for h in part.hits] == ["groceries 27", "groceries 24", "groceries 21"]
    more = ms.search(session, ms.MessageQuery("groceries", before=part.next_before), page_size=20)
    assert more.hits[0].message.body == "groceries 18"
    # By phone alone: plain pages of the newest.
    by_phone = ms.search(session, ms.MessageQuery(phone=person.phone), page_size=25)
    assert len(by_phone.hits) == 25 and by_phone.hits[0].message.body == "other 29"
    tail = ms.search(session, ms.MessageQuery(phone=person.phone, before=by_phone.next_before))
    assert len(tail.hits) == 5 and tail.next_before is None


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/volunteers?category=%00&area=a%00b",
        "/dashboard/requests?category=x%00&area=%00&page=%C2%B2&older_than_hours=%C2%B2",
        "/dashboard/audit?action=%00&subject_type=%00&actor_id=99999999999999999999&page=%C2%B2",
        "/dashboard/figures?days=%C2%B2",
        "/dashboard/requests/99999999999999999999",
        "/dashboard/volunteers/99999999999999999999",
    ],
)
def test_junk_in_the_address_is_never_a_server_error(coordinator, url):
    assert coordinator.get(url).status_code in (200, 404)


def test_junk_in_forms_is_never_a_server_error(coordinator, session):
    req = builders.aid_request(session)
    session.commit()
    for path, data in [
        (f"/dashboard/requests/{req.id}/assign", {"offer_id": "99999999999999999999"}),
        (f"/dashboard/requests/{req.id}/assign", {"offer_id": "²"}),
        ("/dashboard/requests/bulk", {"action": "flag", "request": ["²", "99999999999999999999"]}),
        ("/dashboard/messages/search", {"q": "x", "before": "²"}),
        ("/dashboard/matching/send", {"selection": "1", "plan": "x", "request": "²"}),
    ]:
        assert coordinator.post(path, data=data).status_code < 500, (path, data)
