"""Handling stored inbound texts, after the webhook has answered Twilio.

The webhook only stores a text (received); the worker takes received texts oldest
first and handles each: the sender's rate limit, then the conversation, then the text
is marked processed. Per sender, texts are handled in the order they arrived and never
two at once: only a sender's oldest received text is ever taken, and on PostgreSQL it
is claimed with a row lock (FOR UPDATE SKIP LOCKED), so several workers share the
queue without taking one sender's texts out of order (a locked text still counts as
its sender's oldest). On SQLite every transaction is the only writer anyway.

A text whose handling fails stays stored and received, with its attempts counted and
a retry a little later; after MAX_HANDLING_ATTEMPTS it is set aside (processed, the
error noted) for a coordinator instead of retried forever. Its sender's later texts
wait behind it until then. These functions flush; the worker's job commits once per text
(:func:`handle_one`), a development page or command may handle several in its one unit
of work (:func:`handle_ready`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mutualaid.models import Message, MessageDirection, MessageStatus
from mutualaid.services.conversations import handle_inbound
from mutualaid.services.intake import find_or_create_person
from mutualaid.services.limits import Limit, allowed, limit_key
from mutualaid.services.notify import SmsContext, say
from mutualaid.services.transitions import change_message_status

log = logging.getLogger(__name__)

MAX_HANDLING_ATTEMPTS = 3
# A failed text is tried again after this many seconds times its attempts so far.
RETRY_SECONDS = 5.0


def next_batch(session: Session, *, now: dt.datetime, size: int = 100) -> list[int]:
    """The ids of received texts that may be handled now, oldest first, at most one per
    sender: among the ``size`` oldest received texts, each sender's oldest, unless it waits
    for a retry. Oldest by arrival time (a text recovered from Twilio's list after an
    outage keeps the time Twilio received it), then by id. A sender whose older text is
    beyond the window is not in it either, so no text overtakes an older one. Reads only:
    claim each id before handling it."""
    rows = session.execute(
        select(Message.id, Message.phone, Message.next_attempt_at)
        .where(
            Message.direction == MessageDirection.INBOUND,
            Message.status == MessageStatus.RECEIVED,
        )
        .order_by(Message.created_at, Message.id)
        .limit(size)
    ).all()
    seen: set[str] = set()
    ready = []
    for message_id, phone, retry_at in rows:
        if phone not in seen and (retry_at is None or retry_at <= now):
            ready.append(message_id)
        seen.add(phone)
    return ready


def claim(session: Session, message_id: int) -> Message | None:
    """The text, still received, for this transaction to handle; None when another worker
    handled it or is handling it (on PostgreSQL the row stays locked until the commit; on
    SQLite this transaction is the only writer)."""
    query = select(Message).where(
        Message.id == message_id, Message.status == MessageStatus.RECEIVED
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query.execution_options(populate_existing=True)).first()


def handle(
    session: Session, ctx: SmsContext, message: Message, *, limit: Limit, secret: str
) -> None:
    """Handle one received text and mark it processed. Flushes; the caller commits."""
    if _within_rate_limit(session, ctx, message, limit=limit, secret=secret):
        handle_inbound(session, ctx, message)
    change_message_status(session, message, MessageStatus.PROCESSED)


def handle_one(
    session: Session,
    ctx: SmsContext,
    message_id: int,
    *,
    limit: Limit,
    secret: str,
    now: dt.datetime,
) -> bool:
    """Claim and handle one received text; False when another worker has it or had it.
    Its handling is undone alone when it fails (a savepoint), and the failure counted, so
    the caller's commit always stores a handled text or a counted attempt."""
    message = claim(session, message_id)
    if message is None:
        return False
    try:
        with session.begin_nested():
            handle(session, dataclasses.replace(ctx, now=now), message, limit=limit, secret=secret)
    except Exception as exc:
        log.exception("inbound message %s not handled; it stays received for a retry", message_id)
        count_failure(session, message, exc, now=now)
    return True


def handle_ready(
    session: Session, ctx: SmsContext, *, limit: Limit, secret: str, at_most: int
) -> int:
    """Handle up to ``at_most`` received texts that are ready, in arrival order, in the
    caller's transaction; how many were handled."""
    done = 0
    while done < at_most:
        ids = next_batch(session, now=ctx.now)[: at_most - done]
        handled = sum(
            handle_one(session, ctx, i, limit=limit, secret=secret, now=ctx.now) for i in ids
        )
        if not handled:
            return done
        done += handled
    return done


def newest_inbound_id(session: Session) -> int | None:
    """The id of the newest inbound text (whether texts keep arriving, for the worker)."""
    return session.scalar(
        select(func.max(Message.id)).where(Message.direction == MessageDirection.INBOUND)
    )


def count_failure(
    session: Session, message: Message, exc: BaseException, *, now: dt.datetime
) -> None:
    """Count a failed attempt at ``message`` (its changes already rolled back): it is tried
    again later, or set aside after MAX_HANDLING_ATTEMPTS. Flushes."""
    message.attempts += 1
    message.error_message = f"not handled: {type(exc).__name__}"
    if message.attempts >= MAX_HANDLING_ATTEMPTS:
        message.next_attempt_at = None
        change_message_status(session, message, MessageStatus.PROCESSED, audit=True)
        log.error(
            "inbound message %s set aside after %d failed attempts", message.id, message.attempts
        )
    else:
        message.next_attempt_at = now + dt.timedelta(seconds=RETRY_SECONDS * message.attempts)
    session.flush()


def _within_rate_limit(
    session: Session, ctx: SmsContext, message: Message, *, limit: Limit, secret: str
) -> bool:
    """Count this text against its sender's limit, in the window it arrived in. Beyond
    the limit the text stays stored but is not acted on, and the sender hears once per
    window that we will read it later."""
    key = limit_key(secret, "sms", message.phone)
    arrived = message.created_at
    if allowed(session, key, limit, now=arrived):
        return True
    person = find_or_create_person(session, message.phone)
    message.person_id = person.id
    window = int(arrived.timestamp()) // limit.seconds
    if person.phone and not person.opted_out:
        say(session, ctx, person, "rate_limited", dedupe_key=f"rate_limited:{key}:{window}")
    log.warning("inbound message %s over its sender's rate limit; stored, not handled", message.id)
    return False
