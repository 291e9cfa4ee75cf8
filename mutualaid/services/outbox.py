"""The outbox: every outbound SMS is a row written in the transaction that caused it, sent
by the worker after commit, at most once per intent (its dedupe key)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mutualaid.db import insert_or_ignore
from mutualaid.models import Message, MessageDirection, MessageStatus, Person, utcnow


def enqueue(
    session: Session,
    *,
    phone: str,
    body: str,
    person_id: int | None = None,
    dedupe_key: str | None = None,
    template: str | None = None,
    request_id: int | None = None,
    match_id: int | None = None,
    even_if_opted_out: bool = False,
) -> Message | None:
    """Queue ``body`` for ``phone``. Returns the new row, or None when this intent
    (``dedupe_key``) was already queued. To an opted-out or blocked person the row is
    stored as suppressed and never sent (``even_if_opted_out`` is for the one
    confirmation of the opt-out itself)."""
    person = (
        session.get(Person, person_id)
        if person_id is not None
        else session.scalar(select(Person).where(Person.phone == phone))
    )
    muted = person is not None and (person.blocked or (person.opted_out and not even_if_opted_out))
    values: dict[str, Any] = {
        "direction": MessageDirection.OUTBOUND,
        "person_id": person.id if person else None,
        "phone": phone,
        "body": body,
        "status": MessageStatus.SUPPRESSED if muted else MessageStatus.QUEUED,
        "dedupe_key": dedupe_key,
        "template": template,
        "request_id": request_id,
        "match_id": match_id,
        "next_attempt_at": None if muted else utcnow(),
    }
    if dedupe_key is None:
        message = Message(**values)
        session.add(message)
        session.flush()
        return message
    new_id = insert_or_ignore(session, Message, values, ["dedupe_key"])
    return session.get(Message, new_id) if new_id is not None else None
