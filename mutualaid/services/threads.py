"""A person talking with a coordinator: the thread opened when they text HUMAN or a
coordinator texts them, in which their free-text replies reach the coordinators (shown on
their request and person pages, queued on the overview) instead of "didn't understand",
until a coordinator marks it handled.

A thread is open while the person's conversation row has ``human_requested_at`` set (the
moment it opened); each opening, reply and handling leaves an audit event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mutualaid.db import insert_or_ignore
from mutualaid.models import (
    AidRequest,
    Conversation,
    Message,
    MessageDirection,
    Offer,
    Person,
    RequestStatus,
)
from mutualaid.services import alerts
from mutualaid.services.audit import Actor, record

LIST_LIMIT = 200
OPENED_BY = ("asked", "coordinator")


def _conversation(session: Session, person_id: int) -> Conversation:
    insert_or_ignore(session, Conversation, {"person_id": person_id, "data": {}}, ["person_id"])
    return session.scalars(
        select(Conversation)
        .where(Conversation.person_id == person_id)
        .execution_options(populate_existing=True)
    ).one()


def open_thread(
    session: Session,
    person_id: int,
    *,
    now: dt.datetime,
    actor: Actor,
    opened_by: str,
    conversation: Conversation | None = None,
) -> bool:
    """Open the person's thread with coordinators (``opened_by``: "asked" for HUMAN,
    "coordinator" for a coordinator's text); False when one is open already."""
    assert opened_by in OPENED_BY
    conv = conversation or _conversation(session, person_id)
    if conv.human_requested_at is not None:
        return False
    conv.human_requested_at = now
    if opened_by == "asked":
        alerts.add(
            session, "human", "Someone asked for a person", link=f"/dashboard/people/{person_id}"
        )
    record(
        session,
        actor,
        "person.asked_for_human" if opened_by == "asked" else "thread.opened",
        subject_type="people",
        subject_id=person_id,
    )
    return True


def is_open(conversation: Conversation | None) -> bool:
    return conversation is not None and conversation.human_requested_at is not None


def reply_received(session: Session, person_id: int, message_id: int) -> None:
    """A person's text in their open thread: kept for the coordinators (not answered)."""
    record(
        session,
        Actor.person(person_id),
        "thread.replied",
        subject_type="people",
        subject_id=person_id,
        message_id=message_id,
    )


def mark_handled(session: Session, person_id: int, *, actor: Actor) -> bool:
    """A coordinator closes the thread: the person's texts are read as commands again.
    False when none was open."""
    conv = session.get(Conversation, person_id)
    if not is_open(conv):
        return False
    assert conv is not None
    conv.human_requested_at = None
    record(session, actor, "thread.handled", subject_type="people", subject_id=person_id)
    return True


@dataclass
class Thread:
    """One open thread, as the coordinators' queue shows it."""

    person: Person
    opened_at: dt.datetime
    request: AidRequest | None  # their latest open or matched request, if any
    offer_id: int | None  # their volunteer offer, if any
    replies: int  # texts from them since it opened


def open_threads(session: Session, *, limit: int = LIST_LIMIT) -> list[Thread]:
    """Open threads, oldest first, each linked to the person and their request."""
    rows = session.execute(
        select(Conversation.human_requested_at, Person)
        .join(Person, Person.id == Conversation.person_id)
        .where(Conversation.human_requested_at.is_not(None))
        .order_by(Conversation.human_requested_at)
        .limit(limit)
    ).all()
    return [_thread(session, person, opened_at) for opened_at, person in rows]


def thread_of(session: Session, person_id: int) -> Thread | None:
    conv = session.get(Conversation, person_id)
    person = session.get(Person, person_id)
    if person is None or conv is None or conv.human_requested_at is None:
        return None
    return _thread(session, person, conv.human_requested_at)


def _thread(session: Session, person: Person, opened_at: dt.datetime) -> Thread:
    request = session.scalars(
        select(AidRequest)
        .where(
            AidRequest.requester_id == person.id,
            AidRequest.status.in_((RequestStatus.OPEN, RequestStatus.MATCHED)),
        )
        .order_by(AidRequest.id.desc())
        .limit(1)
    ).first()
    offer_id = session.scalar(select(Offer.id).where(Offer.person_id == person.id))
    replies = len(thread_messages(session, person.id, opened_at, inbound_only=True))
    return Thread(person, opened_at, request, offer_id, replies)


def thread_messages(
    session: Session, person_id: int, since: dt.datetime, *, inbound_only: bool = False
) -> list[Message]:
    """The person's texts since the thread opened, and the coordinators' texts to them,
    oldest first."""
    query = select(Message).where(Message.person_id == person_id, Message.created_at >= since)
    if inbound_only:
        query = query.where(Message.direction == MessageDirection.INBOUND)
    else:
        query = query.where(
            (Message.direction == MessageDirection.INBOUND) | (Message.template == "coordinator")
        )
    return list(session.scalars(query.order_by(Message.created_at, Message.id).limit(LIST_LIMIT)))
