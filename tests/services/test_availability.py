"""A volunteer's availability: one function pauses, resumes and blocks, whoever asks (the
volunteer by SMS, a coordinator, the system after expiries), writing one audit event."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from mutualaid.adapters import sms_context
from mutualaid.models import AuditEvent, Match, MatchStatus, Message, MessageStatus
from mutualaid.services import availability, matching_runs
from mutualaid.services.audit import Actor
from mutualaid.services.outbox import enqueue
from tests import builders

ACTORS = [
    pytest.param(lambda offer: Actor.person(offer.person_id), id="the-volunteer"),
    pytest.param(lambda offer: Actor.coordinator(1), id="a-coordinator"),
    pytest.param(lambda offer: Actor.system(), id="the-system"),
]


def _actions(session, subject_id: int) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.subject_id == subject_id)
            .order_by(AuditEvent.id)
        )
    )


@pytest.mark.parametrize("who", ACTORS)
def test_pause_and_resume_whoever_asks(session, who) -> None:
    offer = builders.offer(session)
    actor = who(offer)
    assert availability.set_paused(session, offer, True, actor=actor)
    assert not availability.set_paused(session, offer, True, actor=actor)  # already
    assert offer.paused
    assert availability.set_paused(session, offer, False, actor=actor)
    assert not offer.paused
    session.commit()
    assert _actions(session, offer.id) == ["offer.paused", "offer.resumed"]


def test_a_paused_volunteer_is_not_in_the_next_run(app, session) -> None:
    offer = builders.offer(session)
    builders.aid_request(session)
    availability.set_paused(session, offer, True, actor=Actor.system())
    session.commit()
    settings = matching_runs.RunSettings.from_config(app.config)
    snapshot = matching_runs.take_snapshot(
        session, categories=app.extensions["categories"], settings=settings, now=_now()
    )
    assert snapshot.volunteers == [] and len(snapshot.needs) == 1


def test_blocking_suppresses_what_is_queued_and_is_recorded_once(session) -> None:
    offer = builders.offer(session)
    person = offer.person
    queued = enqueue(session, phone=person.phone, body="hi", person_id=person.id)
    assert availability.block(session, person, actor=Actor.coordinator(1))
    assert not availability.block(session, person, actor=Actor.coordinator(1))
    session.commit()
    session.expire_all()
    assert person.blocked and queued.status is MessageStatus.SUPPRESSED
    assert _actions(session, person.id).count("person.blocked") == 1


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    ("history", "paused"),
    [
        ([MatchStatus.EXPIRED] * 3, True),
        ([MatchStatus.EXPIRED] * 2, False),
        ([MatchStatus.DECLINED, MatchStatus.EXPIRED, MatchStatus.EXPIRED, MatchStatus.EXPIRED],
         True),  # an older answer does not count
        ([MatchStatus.EXPIRED, MatchStatus.DECLINED, MatchStatus.EXPIRED, MatchStatus.EXPIRED],
         False),  # the last three, in order
        ([MatchStatus.EXPIRED, MatchStatus.EXPIRED, MatchStatus.DECLINED], False),
        ([], False),
    ],
)  # fmt: skip
def test_unresponsive_means_the_last_few_all_expired(app, session, history, paused) -> None:
    offer = builders.offer(session, capacity=10)
    for status in history:
        builders.match(session, offer=offer, status=status)
    builders.match(session, offer=offer, status=MatchStatus.PROPOSED)  # not counted
    session.commit()
    ctx = sms_context()
    assert availability.pause_if_unresponsive(session, ctx, offer, after=3) is paused
    assert offer.paused is paused
    told = session.scalars(select(Message).where(Message.template == "paused_for_expiries")).all()
    assert len(told) == int(paused)
    # Told at most once a day, and never when pausing is off.
    assert not availability.pause_if_unresponsive(session, ctx, offer, after=3)
    other = builders.offer(session)
    builders.match(session, offer=other, status=MatchStatus.EXPIRED)
    assert not availability.pause_if_unresponsive(session, ctx, other, after=0)
    assert session.scalar(select(Match).where(Match.offer_id == other.id)) is not None
