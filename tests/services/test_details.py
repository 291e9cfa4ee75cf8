"""One request's or one volunteer's page as coordinators read it, and the lookups by id or
reference that the pages and the API share."""

from __future__ import annotations

from mutualaid.models import MatchStatus
from mutualaid.services import details
from mutualaid.services.audit import Actor, record
from mutualaid.services.outbox import enqueue
from tests import builders


def test_a_requests_page_holds_its_matches_history_and_texts(session) -> None:
    req = builders.aid_request(session)
    other = builders.aid_request(session)
    declined = builders.match(session, request=req, status=MatchStatus.DECLINED)
    live = builders.match(session, request=req)
    record(
        session, Actor.system(), "request.flagged", subject_type="aid_requests", subject_id=req.id
    )
    record(
        session, Actor.system(), "request.flagged", subject_type="aid_requests", subject_id=other.id
    )
    enqueue(session, phone=req.requester.phone, body="hi", person_id=req.requester_id)
    page = details.request_page(session, req.id)
    assert page is not None and page.req is req
    assert [m.id for m in page.matches] == [live.id, declined.id]  # newest first
    assert [e.subject_id for e in page.history] == [req.id]
    assert [m.body for m in page.messages] == ["hi"]
    assert details.request_page(session, 10**6) is None


def test_a_volunteers_page_counts_only_live_tasks(session) -> None:
    offer = builders.offer(session, capacity=3)
    builders.match(session, offer=offer, status=MatchStatus.ACCEPTED)
    builders.match(session, offer=offer, status=MatchStatus.PROPOSED)
    builders.match(session, offer=offer, status=MatchStatus.COMPLETED)
    page = details.volunteer_page(session, offer.id)
    assert page is not None and page.load == 2 and len(page.matches) == 3
    assert details.volunteer_page(session, 10**6) is None


def test_lookups_by_reference_and_id(session) -> None:
    req = builders.aid_request(session, ref="AB123")
    offer = builders.offer(session)
    assert details.find_by_ref(session, " ab123 ") is req
    assert details.find_by_ref(session, "") is None
    assert details.find_by_ref(session, "ZZ999") is None
    assert details.requests_by_ref(session, [req.id, 10**6]) == {req.id: req}
    assert details.requests_by_ref(session, []) == {}
    assert details.offers_by_id(session, [offer.id]) == {offer.id: offer}
