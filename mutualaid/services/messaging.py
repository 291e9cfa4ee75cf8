"""A coordinator's own texts: writing to a person through the outbox, and queueing a
failed message again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from mutualaid.models import Message, MessageDirection, Person
from mutualaid.services import threads
from mutualaid.services.audit import Actor, record
from mutualaid.services.errors import Refused
from mutualaid.services.notify import last_whatsapp, wrote_last_on
from mutualaid.services.outbox import enqueue, enqueue_again
from mutualaid.services.queues import FAILED_STATUSES
from sms.whatsapp import within_window

MAX_MESSAGE = 600


def retry_message(session: Session, message: Message, *, actor: Actor) -> Message | None:
    """Queue a failed message again, as a new outbox row (once per failed message); None
    when it is not a failed outbound message or was already retried."""
    if message.direction is not MessageDirection.OUTBOUND or message.status not in FAILED_STATUSES:
        return None
    again = enqueue_again(session, message, dedupe_key=f"retry:{message.id}")
    if again is not None:
        record(session, actor, "message.retried", subject_type="messages", subject_id=message.id)
    return again


def message_person(
    session: Session,
    person: Person,
    body: str,
    *,
    actor: Actor,
    request_id: int | None = None,
    now: dt.datetime,
    whatsapp: bool = False,
) -> Message | None:
    """A coordinator's own text to a person, through the outbox (not sent to someone who
    opted out or is blocked). Raises ValueError for an empty text or a person without a
    phone number. With ``whatsapp`` (WhatsApp is on) it goes by WhatsApp to a person who
    last wrote on WhatsApp within its 24 hours (free text has no template), else by SMS."""
    body = "".join(ch for ch in body if ch in "\n" or ch.isprintable()).strip()[:MAX_MESSAGE]
    if not body:
        raise Refused("empty_message", "an empty message")
    if not person.phone:
        raise Refused("no_phone", "no phone number")
    message = enqueue(
        session,
        phone=person.phone,
        body=body,
        person_id=person.id,
        dedupe_key=f"coordinator:{actor.id}:{person.id}:{now.timestamp():.6f}",
        template="coordinator",
        request_id=request_id,
        channel=(
            "whatsapp"
            if whatsapp
            and wrote_last_on(session, person) == "whatsapp"
            and within_window(last_whatsapp(session, person), now)
            else "sms"
        ),
    )
    record(session, actor, "message.by_coordinator", subject_type="people", subject_id=person.id)
    # Their reply should reach the coordinators, not the command parser.
    threads.open_thread(session, person.id, now=now, actor=actor, opened_by="coordinator")
    return message
