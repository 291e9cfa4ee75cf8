"""A person's consent: one opt-out whatever its source (STOP by SMS, Twilio's 21610), the
same state and the same audit event either way, once even when both arrive."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mutualaid.models import AuditEvent, MatchStatus, MessageStatus, Person, utcnow
from mutualaid.services import consent
from mutualaid.services.audit import Actor
from mutualaid.services.outbox import enqueue
from tests import builders

SOURCES = [
    pytest.param("sms:STOP", "person", id="stop-by-sms"),
    pytest.param("twilio:21610", "system", id="twilio-21610"),
]


def _opt_out(session, person: Person, source: str, actor_type: str) -> bool:
    actor = Actor.person(person.id) if actor_type == "person" else Actor.system()
    return consent.opt_out(session, person.id, source=source, actor=actor, now=utcnow())


def _events(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.mark.parametrize(("source", "actor_type"), SOURCES)
def test_an_opt_out_stops_every_text_and_releases_proposals(session, source, actor_type) -> None:
    match = builders.match(session)
    volunteer = match.offer.person
    queued = enqueue(session, phone=volunteer.phone, body="hello", person_id=volunteer.id)
    session.commit()
    assert _opt_out(session, volunteer, source, actor_type)
    session.commit()
    session.expire_all()
    assert volunteer.opted_out and volunteer.consent_source == source
    assert volunteer.opted_out_at is not None
    assert queued.status is MessageStatus.SUPPRESSED
    assert match.status is MatchStatus.DECLINED
    (event,) = _events(session, "person.opted_out")
    assert (event.actor_type, event.subject_id, event.detail) == (
        actor_type,
        volunteer.id,
        {"source": source},
    )
    later = enqueue(session, phone=volunteer.phone, body="again", person_id=volunteer.id)
    assert later.status is MessageStatus.SUPPRESSED


def test_two_sources_at_once_opt_out_once(session) -> None:
    person = builders.person(session)
    session.commit()
    assert _opt_out(session, person, "sms:STOP", "person")
    assert not _opt_out(session, person, "twilio:21610", "system")
    session.commit()
    assert len(_events(session, "person.opted_out")) == 1
    assert session.get(Person, person.id).consent_source == "sms:STOP"


def test_start_opts_back_in_after_either_source(session) -> None:
    person = builders.person(session)
    _opt_out(session, person, "twilio:21610", "system")
    session.commit()
    assert consent.opt_in(session, person, source="sms:START", actor=Actor.person(person.id))
    assert not consent.opt_in(session, person, source="sms:START", actor=Actor.person(person.id))
    session.commit()
    session.expire_all()
    assert not person.opted_out and person.opted_out_at is None
    assert person.consent_source == "sms:START"
    assert [e.detail for e in _events(session, "person.opted_in")] == [{"source": "sms:START"}]
    assert enqueue(session, phone=person.phone, body="hi").status is MessageStatus.QUEUED


@pytest.mark.parametrize(
    ("code", "opted_out", "unreachable"),
    [(21610, True, 0), (21211, False, 1), (30006, False, 1), (30003, False, 0), (None, False, 0)],
)
def test_what_the_provider_says_about_a_number(session, code, opted_out, unreachable) -> None:
    person = builders.person(session)
    consent.stop_texting(session, person.id, code, now=utcnow())
    session.commit()
    session.expire_all()
    assert person.opted_out is opted_out
    assert len(_events(session, "person.unreachable")) == unreachable


def test_a_message_without_a_person_stops_nothing(session) -> None:
    consent.stop_texting(session, None, 21610, now=utcnow())
    assert _events(session, "person.opted_out") == []
