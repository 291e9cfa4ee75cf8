"""Assigning by hand: who could take a request now, nearest first, and the assignment the
dashboard and the API share (proposed by SMS, accepted at once when they already agreed, or
refused with nothing changed)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from mutualaid.adapters import sms_context
from mutualaid.models import AidRequest, MatchStatus, Message, RequestStatus
from mutualaid.services import assignment
from mutualaid.services.errors import Conflict
from tests import builders


def test_candidates_are_the_free_volunteers_in_reach_nearest_first(session) -> None:
    req = builders.aid_request(session, lat=40.680, lon=-73.950)
    far = builders.offer(session, lat=40.700, lon=-73.950)  # ~2.2 km
    near = builders.offer(session, lat=40.681, lon=-73.950)  # ~0.1 km
    builders.offer(session, lat=40.680, lon=-73.950, paused=True)
    builders.offer(session, lat=40.680, lon=-73.950, categories=("rides",))
    builders.offer(session, lat=40.900, lon=-73.950)  # beyond its 5 km radius
    full = builders.offer(session, lat=40.680, lon=-73.951)
    builders.match(session, offer=full, status=MatchStatus.ACCEPTED)
    blocked = builders.offer(session, lat=40.680, lon=-73.950)
    blocked.person.blocked = True
    found = assignment.candidates(session, req, max_km=25)
    assert [c.offer.id for c in found] == [near.id, far.id]
    assert found[0].km < 0.2 < 2.0 < found[1].km < 2.5
    assert assignment.candidates(session, req, max_km=1) == found[:1]


def test_a_request_without_a_place_has_no_candidates(session) -> None:
    builders.offer(session)
    req = builders.aid_request(session, lat=None, lon=None)
    assert assignment.candidates(session, req, max_km=25) == []


def test_assign_proposes_by_sms_with_a_proposals_expiry(app, session) -> None:
    req = builders.aid_request(session)
    offer = builders.offer(session)
    ctx = sms_context()
    match, _km = assignment.assign(
        session, ctx, req, offer.id, max_km=25, actor=builders.coordinator(session),
        link_for=lambda m: f"https://aid.example.org/t/{m.id}",
    )  # fmt: skip
    assert match.status is MatchStatus.PROPOSED and req.status is RequestStatus.OPEN
    assert match.expires_at == ctx.now + ctx.proposal_ttl
    (proposal,) = session.scalars(select(Message).where(Message.match_id == match.id))
    assert proposal.template == "proposal" and "https://aid.example.org/t/" in proposal.body


def test_assign_accepts_at_once_when_they_already_agreed(app, session) -> None:
    req = builders.aid_request(session)
    offer = builders.offer(session)
    match, km = assignment.assign(
        session, sms_context(), req, offer.id, max_km=25, actor=builders.coordinator(session),
        agreed=True,
    )  # fmt: skip
    assert match.status is MatchStatus.ACCEPTED and req.status is RequestStatus.MATCHED
    assert match.km == km and match.assigned_by is not None


def test_assign_refuses_a_volunteer_who_cannot_take_it(app, session) -> None:
    req = builders.aid_request(session)
    offer = builders.offer(session, categories=("rides",))
    with pytest.raises(Conflict) as refused:
        assignment.assign(
            session, sms_context(), req, offer.id, max_km=25, actor=builders.coordinator(session)
        )
    assert refused.value.key == "assign_cannot"
    assert req.status is RequestStatus.OPEN


def test_assign_refuses_when_the_request_closed_meanwhile(app, session) -> None:
    req = builders.aid_request(session)
    offer = builders.offer(session)
    session.commit()
    # Cancelled by someone else; this session still believes it open.
    session.execute(
        update(AidRequest)
        .where(AidRequest.id == req.id)
        .values(status=RequestStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    assert req.status is RequestStatus.OPEN
    with pytest.raises(Conflict) as refused:
        assignment.assign(
            session, sms_context(), req, offer.id, max_km=25, actor=builders.coordinator(session)
        )
    assert refused.value.key == "assign_too_late"
