"""Every state transition of requests, matches and messages: legal ones happen and are
audited; illegal ones are refused with a clear error; a stale writer loses."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mutualaid.extensions import db
from mutualaid.models import (
    AidRequest,
    AuditEvent,
    MatchStatus,
    Message,
    MessageDirection,
    MessageStatus,
    RequestStatus,
)
from mutualaid.services.audit import Actor
from mutualaid.services.transitions import (
    MATCH_TRANSITIONS,
    MESSAGE_TRANSITIONS,
    REQUEST_TRANSITIONS,
    IllegalTransition,
    StaleState,
    change_match_status,
    change_message_status,
    change_request_status,
)
from tests import builders

ALL_REQUEST_PAIRS = list(itertools.product(RequestStatus, RequestStatus))
ALL_MATCH_PAIRS = list(itertools.product(MatchStatus, MatchStatus))
ALL_MESSAGE_PAIRS = list(itertools.product(MessageStatus, MessageStatus))


def _audit(session, subject_type: str, subject_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(
                AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id
            )
        )
    )


@pytest.mark.parametrize(("start", "to"), ALL_REQUEST_PAIRS, ids=lambda s: s.value)
def test_request_transitions(session, start: RequestStatus, to: RequestStatus) -> None:
    req = builders.aid_request(session, status=start)
    actor = Actor.coordinator(7)
    if to in REQUEST_TRANSITIONS[start]:
        change_request_status(session, req, to, actor=actor, reason="test")
        session.commit()
        session.expire_all()
        assert req.status is to
        (event,) = _audit(session, "aid_requests", req.id)
        assert (event.from_state, event.to_state, event.actor_type, event.actor_id) == (
            start.value,
            to.value,
            "coordinator",
            7,
        )
        assert event.action == f"request.{to.value}"
        if to is RequestStatus.MATCHED:
            assert req.matched_at is not None
        if to in (RequestStatus.COMPLETED, RequestStatus.CANCELLED):
            assert req.closed_at is not None
    else:
        with pytest.raises(IllegalTransition, match=f"from {start.value} to {to.value}"):
            change_request_status(session, req, to, actor=actor)
        session.rollback()
        session.expire_all()
        assert req.status is start
        assert _audit(session, "aid_requests", req.id) == []


@pytest.mark.parametrize(("start", "to"), ALL_MATCH_PAIRS, ids=lambda s: s.value)
def test_match_transitions(session, start: MatchStatus, to: MatchStatus) -> None:
    m = builders.match(session, status=start)
    if to in MATCH_TRANSITIONS[start]:
        change_match_status(session, m, to, actor=Actor.person(m.offer.person_id))
        session.commit()
        session.expire_all()
        assert m.status is to
        (event,) = _audit(session, "matches", m.id)
        assert (event.from_state, event.to_state) == (start.value, to.value)
        if not MATCH_TRANSITIONS[to]:
            assert m.closed_at is not None
    else:
        with pytest.raises(IllegalTransition):
            change_match_status(session, m, to, actor=Actor.system())
        session.rollback()
        session.expire_all()
        assert m.status is start


@pytest.mark.parametrize(("start", "to"), ALL_MESSAGE_PAIRS, ids=lambda s: s.value)
def test_message_transitions(session, start: MessageStatus, to: MessageStatus) -> None:
    direction = (
        MessageDirection.INBOUND
        if start in (MessageStatus.RECEIVED, MessageStatus.PROCESSED)
        else MessageDirection.OUTBOUND
    )
    msg = Message(direction=direction, phone="+17185550101", body="hi", status=start)
    session.add(msg)
    session.flush()
    if to in MESSAGE_TRANSITIONS[start]:
        change_message_status(session, msg, to, error_code=None, audit=True)
        session.commit()
        session.expire_all()
        assert msg.status is to
        assert len(_audit(session, "messages", msg.id)) == 1
    else:
        with pytest.raises(IllegalTransition):
            change_message_status(session, msg, to)


def test_delivery_status_only_moves_forward(session) -> None:
    msg = Message(
        direction=MessageDirection.OUTBOUND, phone="+17185550101", status=MessageStatus.DELIVERED
    )
    session.add(msg)
    session.flush()
    for late in (MessageStatus.SENT, MessageStatus.QUEUED, MessageStatus.SENDING):
        with pytest.raises(IllegalTransition):
            change_message_status(session, msg, late)


def test_a_stale_writer_loses_and_learns_the_current_state(app, session) -> None:
    req_id = builders.aid_request(session).id
    session.commit()
    # We read the request (and end our transaction, keeping the copy in memory) …
    ours = Session(db.engine, expire_on_commit=False)
    req = ours.get(AidRequest, req_id)
    ours.commit()
    # … then another worker matches it first.
    with Session(db.engine) as theirs:
        change_request_status(
            theirs, theirs.get(AidRequest, req_id), RequestStatus.MATCHED, actor=Actor.system()
        )
        theirs.commit()
    # Our copy still says open: our change must fail, not overwrite theirs.
    assert req.status is RequestStatus.OPEN
    with pytest.raises(StaleState, match="no longer open") as info:
        change_request_status(ours, req, RequestStatus.CANCELLED, actor=Actor.system())
    assert info.value.current is RequestStatus.MATCHED
    ours.rollback()
    ours.close()
    session.expire_all()
    assert session.get(AidRequest, req_id).status is RequestStatus.MATCHED


def test_expected_state_is_checked_in_the_database(session) -> None:
    m = builders.match(session, status=MatchStatus.PROPOSED)
    session.commit()
    change_match_status(session, m, MatchStatus.DECLINED, actor=Actor.system())
    session.commit()
    # A late YES still believes the proposal is open.
    with pytest.raises(StaleState):
        change_match_status(
            session, m, MatchStatus.ACCEPTED, actor=Actor.system(), expected=MatchStatus.PROPOSED
        )
