"""The outbox: every outbound SMS is a row written in the transaction that caused it, sent
by the worker after commit, at most once per intent (its dedupe key).

The row's life: ``queued`` → (claimed with a lease) ``sending`` → ``sent`` → ``delivered``
/ ``undelivered`` / ``failed``; or ``suppressed`` when the person opted out or is blocked.
A transient failure puts it back to ``queued`` with a backoff; a send whose fate is unknown
(read timeout, a worker killed mid-send) stays ``sending`` until its lease expires and is
then reconciled with the provider before any resend (services.sending). Each function here
is one transaction's worth of work: it flushes, the caller commits.

``next_attempt_at`` is when a ``queued`` row is due. On a ``sending`` row it is when the
send attempt in progress started, and NULL while the row is only claimed: a worker that
dies leaves its claimed-but-untried rows with NULL (plainly unsent), and only a row whose
attempt had started needs asking the provider about.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from mutualaid.db import insert_or_ignore
from mutualaid.models import Message, MessageDirection, MessageStatus, Person, utcnow
from mutualaid.services import consent
from mutualaid.services.transitions import (
    MESSAGE_TRANSITIONS,
    TransitionError,
    change_message_status,
)
from sms.segments import segments as count_segments
from sms.transport import SendError, is_opt_out_error, is_permanent_error
from sms.whatsapp import OUTSIDE_WINDOW_ERROR

S = MessageStatus

# The longest backoff between two attempts (Retry-After may ask for more).
MAX_RETRY_DELAY = 3600.0


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
    segments: int | None = None,
    channel: str = "sms",
    content_sid: str | None = None,
    content_variables: str | None = None,
) -> Message | None:
    """Queue ``body`` for ``phone``. Returns the new row, or None when this intent
    (``dedupe_key``) was already queued. To an opted-out or blocked person the row is
    stored as suppressed and never sent (``even_if_opted_out`` is for the one
    confirmation of the opt-out itself). Every SMS is counted: ``segments``, or the
    segments of ``body``. ``channel`` "whatsapp" sends it by WhatsApp, as the approved
    template ``content_sid`` with ``content_variables`` when given."""
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
        "segments": (count_segments(body).count if segments is None else segments)
        if channel == "sms"
        else None,
        "channel": channel,
        "content_sid": content_sid,
        "content_variables": content_variables,
    }
    if dedupe_key is None:
        message = Message(**values)
        session.add(message)
        session.flush()
        return message
    new_id = insert_or_ignore(session, Message, values, ["dedupe_key"])
    return session.get(Message, new_id) if new_id is not None else None


# -- claiming -------------------------------------------------------------------------


class ClaimedBatch(list[Message]):
    """Messages claimed for sending. ``reclaimed_ids`` are the rows taken over from an
    expired lease; ``maybe_sent_ids`` those of them whose send attempt had started, so the
    provider may have them (a worker died mid-send, or a read timeout)."""

    def __init__(self) -> None:
        super().__init__()
        self.reclaimed_ids: set[int] = set()
        self.maybe_sent_ids: set[int] = set()


def claim_batch(
    session: Session, *, now: dt.datetime, limit: int, lease_seconds: float
) -> ClaimedBatch:
    """Claim up to ``limit`` outbound messages that are due: queued ones whose
    ``next_attempt_at`` has come, and ``sending`` ones whose lease has expired. Each moves
    to ``sending`` with ``lease_until = now + lease_seconds`` and one more attempt.

    Commit before any network call. On PostgreSQL the rows are read ``FOR UPDATE SKIP
    LOCKED``, so concurrent workers claim disjoint rows; on SQLite the write transaction
    (``BEGIN IMMEDIATE``) serialises claims. Each claim is a conditional UPDATE as well,
    so a lost race drops the row instead of claiming it twice.
    """
    due = or_(
        and_(
            Message.status == S.QUEUED,
            or_(Message.next_attempt_at <= now, Message.next_attempt_at.is_(None)),
        ),
        and_(
            Message.status == S.SENDING,
            or_(Message.lease_until < now, Message.lease_until.is_(None)),
        ),
    )
    query = (
        select(Message)
        .where(Message.direction == MessageDirection.OUTBOUND, due)
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    lease_until = now + dt.timedelta(seconds=lease_seconds)
    batch = ClaimedBatch()
    for message in session.scalars(query).all():
        previous = message.status
        attempt_started = previous is S.SENDING and message.next_attempt_at is not None
        try:
            change_message_status(
                session,
                message,
                S.SENDING,
                expected=previous,
                lease_until=lease_until,
                attempts=message.attempts + 1,
                next_attempt_at=None,
            )
        except TransitionError:
            continue  # another worker got there first
        batch.append(message)
        if previous is S.SENDING:
            batch.reclaimed_ids.add(message.id)
            if attempt_started:
                batch.maybe_sent_ids.add(message.id)
    return batch


def _owned(session: Session, message_id: int, lease_until: dt.datetime) -> Message | None:
    """The message if it is still ``sending`` under the lease this worker holds."""
    query = (
        select(Message).where(Message.id == message_id).execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    message = session.scalar(query)
    if message is None or message.status is not S.SENDING or message.lease_until != lease_until:
        return None
    return message


def start_attempt(
    session: Session,
    message_id: int,
    *,
    lease_until: dt.datetime,
    now: dt.datetime,
    lease_seconds: float,
) -> tuple[S, dt.datetime | None]:
    """Just before sending: check the message is still ours and its person may still be
    texted. Returns (``sending``, the renewed lease) to go ahead, (``suppressed``, None) when
    the person opted out or was blocked since it was queued, or (the current status, None)
    when another worker took it over."""
    message = _owned(session, message_id, lease_until)
    if message is None:
        current = session.scalar(select(Message.status).where(Message.id == message_id))
        return (current or S.FAILED), None
    person = _person_of(session, message)
    if person is not None and _muted(person, message):
        change_message_status(
            session,
            message,
            S.SUPPRESSED,
            expected=S.SENDING,
            audit=True,
            lease_until=None,
            next_attempt_at=None,
        )
        return S.SUPPRESSED, None
    renewed = now + dt.timedelta(seconds=lease_seconds)
    change_message_status(
        session, message, S.SENDING, expected=S.SENDING, lease_until=renewed, next_attempt_at=now
    )
    return S.SENDING, renewed


def _person_of(session: Session, message: Message) -> Person | None:
    if message.person_id is not None:
        return session.get(Person, message.person_id, populate_existing=True)
    return session.scalar(
        select(Person)
        .where(Person.phone == message.phone)
        .execution_options(populate_existing=True)
    )


def _muted(person: Person, message: Message) -> bool:
    """Blocked, or opted out before this message was queued. A message queued after the
    opt-out was queued on purpose: the one confirmation of the opt-out itself (enqueue
    suppresses everything else at once)."""
    if person.blocked:
        return True
    if not person.opted_out:
        return False
    return person.opted_out_at is None or message.created_at < person.opted_out_at


# -- outcomes of a send ---------------------------------------------------------------


def record_sent(session: Session, message_id: int, *, provider_sid: str, now: dt.datetime) -> bool:
    """The provider accepted the message: ``sent`` with its id. False when the row is no
    longer ``sending`` (a status callback or another worker recorded it first)."""
    message = session.get(Message, message_id, populate_existing=True)
    if message is None or message.status is not S.SENDING:
        return False
    try:
        change_message_status(
            session,
            message,
            S.SENT,
            expected=S.SENDING,
            provider_sid=provider_sid,
            sent_at=now,
            lease_until=None,
            next_attempt_at=None,
            error_code=None,
            error_message=None,
        )
    except TransitionError:
        return False
    return True


def record_found(
    session: Session, message_id: int, candidate_sids: Sequence[str], *, now: dt.datetime
) -> str | None:
    """Reconciliation: the provider lists ``candidate_sids`` (same number, same body, since
    the message was queued). Record the first one that no other row claims as ``sent``;
    return it, or None when none is free (then the message was not sent)."""
    if not candidate_sids:
        return None
    taken = set(
        session.scalars(
            select(Message.provider_sid).where(
                Message.provider_sid.in_(candidate_sids), Message.id != message_id
            )
        )
    )
    for sid in candidate_sids:
        if sid not in taken:
            return sid if record_sent(session, message_id, provider_sid=sid, now=now) else None
    return None


def record_send_error(
    session: Session,
    message_id: int,
    error: SendError,
    *,
    lease_until: dt.datetime,
    now: dt.datetime,
    max_attempts: int,
    retry_seconds: float,
    rng: random.Random | None = None,
) -> S | None:
    """The provider refused the message, or it could not be reached. Returns the new
    status, or None when the row is no longer ours.

    - permanent: ``failed``; an opt-out (21610) opts the person out and suppresses their
      queued messages; another dead number (21211 …) leaves a ``person.unreachable`` event.
    - retryable (and surely not sent): back to ``queued`` after a backoff, or ``failed``
      once ``max_attempts`` attempts have been made.
    - maybe sent: stays ``sending`` until its lease expires, then the next claim asks the
      provider before sending again (see services.sending).
    - anything else (a request the provider will never accept): ``failed``.
    """
    message = _owned(session, message_id, lease_until)
    if message is None:
        return None
    code, text = error.code, _error_text(error)
    if error.maybe_sent and not error.permanent:
        change_message_status(
            session, message, S.SENDING, expected=S.SENDING, error_code=code, error_message=text
        )
        return S.SENDING
    if error.retryable and message.attempts < max_attempts:
        delay = retry_delay(message.attempts, retry_seconds, retry_after=error.retry_after, rng=rng)
        change_message_status(
            session,
            message,
            S.QUEUED,
            expected=S.SENDING,
            next_attempt_at=now + dt.timedelta(seconds=delay),
            lease_until=None,
            error_code=code,
            error_message=text,
        )
        return S.QUEUED
    change_message_status(
        session,
        message,
        S.FAILED,
        expected=S.SENDING,
        audit=True,
        lease_until=None,
        next_attempt_at=None,
        error_code=code,
        error_message=text,
    )
    if error.permanent:
        consent.stop_texting(session, message.person_id, code, now=now)
    return S.FAILED


def give_up(session: Session, message_id: int, *, lease_until: dt.datetime, reason: str) -> bool:
    """``failed`` without a provider error (out of attempts while its fate was unknown)."""
    message = _owned(session, message_id, lease_until)
    if message is None:
        return False
    change_message_status(
        session,
        message,
        S.FAILED,
        expected=S.SENDING,
        audit=True,
        lease_until=None,
        next_attempt_at=None,
        error_message=reason[:300],
    )
    return True


def retry_delay(
    attempts: int,
    base_seconds: float,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds before attempt ``attempts + 1``: ``base * 2**(attempts-1)``, at most
    MAX_RETRY_DELAY, with ±20 % jitter so a burst of failures does not come back as a
    burst; never sooner than the provider's ``Retry-After``."""
    backoff = min(base_seconds * 2 ** max(attempts - 1, 0), MAX_RETRY_DELAY)
    backoff *= (rng or random).uniform(0.8, 1.2)
    return max(backoff, retry_after or 0.0)


# Twilio's error texts quote the number ("Invalid 'To' Phone Number: +1…"): never store
# or log it.
_DIGITS = re.compile(r"(?:\+|\(\s*)?\d[\d ().-]{5,}\d")


def without_numbers(text: str) -> str:
    """``text`` with anything that looks like a phone number replaced by ``[number]``."""
    return _DIGITS.sub("[number]", text)


def _error_text(error: SendError) -> str:
    text = without_numbers(error.message)
    if error.maybe_sent:
        text = f"maybe sent: {text}"
    return text[:300]


# -- delivery status callbacks ---------------------------------------------------------

# Twilio's MessageStatus values and what they mean for our row.
_PROVIDER_STATUSES: dict[str, S] = {
    "accepted": S.SENT,
    "scheduled": S.SENT,
    "queued": S.SENT,
    "sending": S.SENT,
    "sent": S.SENT,
    "delivered": S.DELIVERED,
    "read": S.DELIVERED,
    "undelivered": S.UNDELIVERED,
    "failed": S.FAILED,
    "canceled": S.FAILED,
}


def record_delivery_status(
    session: Session,
    *,
    message_id: int | None,
    provider_sid: str,
    status: str,
    error_code: int | None,
) -> bool:
    """Apply one delivery status callback; True when the message's status moved.

    The message is found by our id (the ``m`` parameter of the callback URL) or by the
    provider's id. Callbacks arrive duplicated and out of order: the status only moves
    forward (sent → delivered / undelivered / failed, undelivered → delivered); anything
    else is a no-op. A callback may even beat the worker's own record of the send: a row
    still ``sending`` becomes ``sent`` with this provider id first. An undelivered or
    failed callback with a permanent error code (30005, 30006 …) is ``failed`` and the
    person is flagged; 21610 opts them out, as STOP would. A WhatsApp text refused as
    outside the 24-hour window (63016) is sent again by SMS.
    """
    target = _PROVIDER_STATUSES.get(status.strip().lower())
    message = _message_for_callback(session, message_id, provider_sid)
    if target is None or message is None:
        return False
    if target in (S.UNDELIVERED, S.FAILED) and is_permanent_error(error_code):
        target = S.FAILED
    now = utcnow()
    moved = False
    for _ in range(3):  # a concurrent callback may move the row under us: look again
        try:
            moved |= _move_forward(session, message, target, provider_sid, error_code, now)
            break
        except TransitionError:
            session.refresh(message)
    # A permanent error is acted on once (when it moved the row); an opt-out whatever the
    # order of the callbacks (opting out twice changes nothing).
    failed = target in (S.UNDELIVERED, S.FAILED) and error_code is not None
    if failed and ((moved and is_permanent_error(error_code)) or is_opt_out_error(error_code)):
        consent.stop_texting(session, message.person_id, error_code, now=now)
    if moved and failed and error_code == OUTSIDE_WINDOW_ERROR and message.channel == "whatsapp":
        _by_sms_instead(session, message)
    return moved


def _by_sms_instead(session: Session, message: Message) -> None:
    """WhatsApp refused a free-form text as outside its 24 hours (the person's last message
    was older than we knew, or the clocks differ): the same text goes by SMS, once."""
    enqueue_again(
        session, message, dedupe_key=f"sms_instead:{message.id}", channel="sms", segments=None
    )


def enqueue_again(
    session: Session, message: Message, *, dedupe_key: str, **changed: Any
) -> Message | None:
    """A new outbox row for what ``message`` said (its channel, template, links), with
    ``changed`` fields; None when ``dedupe_key`` was already queued."""
    fields: dict[str, Any] = {
        "segments": message.segments,
        "channel": message.channel,
        "content_sid": message.content_sid,
        "content_variables": message.content_variables,
        **changed,
    }
    if fields["channel"] == "sms":
        fields["content_sid"] = fields["content_variables"] = None
    return enqueue(
        session,
        phone=message.phone,
        body=message.body,
        person_id=message.person_id,
        dedupe_key=dedupe_key,
        template=message.template,
        request_id=message.request_id,
        match_id=message.match_id,
        **fields,
    )


def _message_for_callback(
    session: Session, message_id: int | None, provider_sid: str
) -> Message | None:
    if message_id is not None:
        message = session.get(Message, message_id, populate_existing=True)
        if (
            message is not None
            and message.direction is MessageDirection.OUTBOUND
            and message.provider_sid in (None, provider_sid)
        ):
            return message
    if not provider_sid:
        return None
    return session.scalar(
        select(Message)
        .where(
            Message.provider_sid == provider_sid,
            Message.direction == MessageDirection.OUTBOUND,
        )
        .execution_options(populate_existing=True)
    )


def _move_forward(
    session: Session,
    message: Message,
    target: S,
    provider_sid: str,
    error_code: int | None,
    now: dt.datetime,
) -> bool:
    """Raises TransitionError only when the row changed under us (StaleState)."""
    moved = False
    if message.status in (S.SENDING, S.QUEUED) and provider_sid:
        if message.status is S.QUEUED:
            return False  # not ours to guess: a queued row has not been sent
        change_message_status(
            session,
            message,
            S.SENT,
            expected=S.SENDING,
            provider_sid=provider_sid,
            sent_at=now,
            lease_until=None,
            next_attempt_at=None,
        )
        moved = True
    if message.status is target or target not in MESSAGE_TRANSITIONS[message.status]:
        return moved  # a duplicate, or a late callback of an earlier step
    values: dict[str, Any] = {}
    if target is S.DELIVERED:
        values["delivered_at"] = now
    if error_code is not None and target in (S.UNDELIVERED, S.FAILED):
        values["error_code"] = error_code
    change_message_status(
        session,
        message,
        target,
        expected=message.status,
        audit=target in (S.UNDELIVERED, S.FAILED),
        **values,
    )
    return True
