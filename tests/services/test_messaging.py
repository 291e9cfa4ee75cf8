"""A coordinator's own texts: through the outbox like every text (never to someone who
opted out or is blocked), and a failed one queued again once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from mutualaid.models import AuditEvent, Message, MessageDirection, MessageStatus
from mutualaid.services import messaging
from mutualaid.services.errors import Refused
from mutualaid.services.outbox import enqueue
from tests import builders

NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


def test_a_text_to_a_person_is_queued_and_audited(session) -> None:
    coordinator = builders.coordinator(session)
    person = builders.person(session)
    message = messaging.message_person(
        session, person, "  Can you call us?\x00 ", actor=coordinator, now=NOW
    )
    assert message is not None and message.status is MessageStatus.QUEUED
    assert message.body == "Can you call us?" and message.template == "coordinator"
    (event,) = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "message.by_coordinator")
    )
    assert event.subject_id == person.id and "call" not in str(event.detail)


def test_a_text_to_someone_who_opted_out_is_stored_not_sent(session) -> None:
    coordinator = builders.coordinator(session)
    person = builders.person(session, opted_out=True, opted_out_at=NOW)
    message = messaging.message_person(session, person, "hello", actor=coordinator, now=NOW)
    assert message is not None and message.status is MessageStatus.SUPPRESSED


@pytest.mark.parametrize(
    ("body", "phone", "key"), [(" ", "+17185550111", "empty_message"), ("hi", None, "no_phone")]
)
def test_nothing_to_send_is_refused(session, body, phone, key) -> None:
    coordinator = builders.coordinator(session)
    person = builders.person(session, phone=phone)
    with pytest.raises(Refused) as refused:
        messaging.message_person(session, person, body, actor=coordinator, now=NOW)
    assert refused.value.key == key
    assert session.scalars(select(Message)).all() == []


def test_a_failed_message_is_retried_once(session) -> None:
    coordinator = builders.coordinator(session)
    person = builders.person(session)
    failed = enqueue(session, phone=person.phone, body="x", person_id=person.id)
    failed.status = MessageStatus.FAILED
    again = messaging.retry_message(session, failed, actor=coordinator)
    assert again is not None and again.status is MessageStatus.QUEUED and again.body == "x"
    assert messaging.retry_message(session, failed, actor=coordinator) is None
    sent = enqueue(session, phone=person.phone, body="y", person_id=person.id)
    assert messaging.retry_message(session, sent, actor=coordinator) is None  # not failed
    inbound = Message(direction=MessageDirection.INBOUND, phone=person.phone, body="z",
                      status=MessageStatus.FAILED)  # fmt: skip
    session.add(inbound)
    assert messaging.retry_message(session, inbound, actor=coordinator) is None
