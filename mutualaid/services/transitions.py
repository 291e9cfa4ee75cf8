"""The state machines of requests, matches and messages: the only place their status changes.

Each change is one conditional UPDATE (``… WHERE id = :id AND status = :expected``), so
two processes racing over one record get exactly one winner on SQLite and PostgreSQL
alike; the loser gets StaleState and can tell its user the truth. Every change writes
an audit event in the same transaction.
"""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from mutualaid.models import (
    AidRequest,
    Match,
    MatchStatus,
    Message,
    MessageStatus,
    RequestStatus,
    utcnow,
)
from mutualaid.services import alerts
from mutualaid.services.audit import Actor, record

R = RequestStatus
M = MatchStatus
S = MessageStatus

REQUEST_TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    R.OPEN: frozenset({R.MATCHED, R.CANCELLED}),
    R.MATCHED: frozenset({R.OPEN, R.COMPLETED, R.CANCELLED}),
    # Reopened when the requester says they did not get what they needed.
    R.COMPLETED: frozenset({R.OPEN}),
    # Reopened by a coordinator.
    R.CANCELLED: frozenset({R.OPEN}),
}

MATCH_TRANSITIONS: dict[MatchStatus, frozenset[MatchStatus]] = {
    M.PROPOSED: frozenset({M.ACCEPTED, M.DECLINED, M.EXPIRED, M.WITHDRAWN}),
    M.ACCEPTED: frozenset({M.COMPLETED, M.CANCELLED}),
    M.DECLINED: frozenset(),
    M.EXPIRED: frozenset(),
    M.WITHDRAWN: frozenset(),
    M.COMPLETED: frozenset(),
    M.CANCELLED: frozenset(),
}

MESSAGE_TRANSITIONS: dict[MessageStatus, frozenset[MessageStatus]] = {
    S.RECEIVED: frozenset({S.PROCESSED}),
    S.PROCESSED: frozenset(),
    S.QUEUED: frozenset({S.SENDING, S.SUPPRESSED, S.FAILED}),
    # Back to queued when a send failed transiently; a worker's lease may be renewed.
    S.SENDING: frozenset({S.SENDING, S.QUEUED, S.SENT, S.FAILED, S.SUPPRESSED}),
    # Delivery callbacks only move a message forward.
    S.SENT: frozenset({S.DELIVERED, S.UNDELIVERED, S.FAILED}),
    S.UNDELIVERED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.FAILED: frozenset(),
    S.SUPPRESSED: frozenset(),
}


class TransitionError(ValueError):
    """A status change that did not happen."""


class IllegalTransition(TransitionError):
    """The state machine does not allow this change from the current state."""


class StaleState(TransitionError):
    """Someone else changed the record first: it is no longer in the expected state."""

    def __init__(self, message: str, current: enum.Enum | None) -> None:
        super().__init__(message)
        self.current = current


E = TypeVar("E", bound=enum.Enum)


def _change(
    session: Session,
    obj: Any,
    label: str,
    transitions: dict[Any, frozenset[Any]],
    to: E,
    *,
    actor: Actor,
    expected: E | None,
    action: str,
    audit: bool = True,
    detail: dict[str, Any] | None = None,
    values: dict[str, Any],
) -> None:
    model = type(obj)
    from_state = expected if expected is not None else obj.status
    if to not in transitions[from_state]:
        raise IllegalTransition(f"{label} cannot go from {from_state.value} to {to.value}")
    result = session.execute(
        update(model)
        .where(model.id == obj.id, model.status == from_state)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(obj, ["status"])
        raise StaleState(
            f"{label} is no longer {from_state.value} (now {obj.status.value})", obj.status
        )
    # Keep the in-memory object true to the row without another SELECT or UPDATE.
    for key, value in {"status": to, **values}.items():
        set_committed_value(obj, key, value)
    if audit:
        record(
            session,
            actor,
            action,
            subject_type=model.__tablename__,
            subject_id=obj.id,
            from_state=from_state.value,
            to_state=to.value,
            **(detail or {}),
        )


def change_request_status(
    session: Session,
    req: AidRequest,
    to: RequestStatus,
    *,
    actor: Actor,
    expected: RequestStatus | None = None,
    reason: str | None = None,
) -> None:
    """Move ``req`` to ``to``; raise IllegalTransition or StaleState if it cannot."""
    now = utcnow()
    values: dict[str, Any] = {"updated_at": now}
    if to is R.MATCHED:
        values["matched_at"] = now
    elif to in (R.COMPLETED, R.CANCELLED):
        values["closed_at"] = now
    elif to is R.OPEN:
        values.update(matched_at=None, closed_at=None)
    _change(
        session,
        req,
        f"request {req.ref}",
        REQUEST_TRANSITIONS,
        to,
        actor=actor,
        expected=expected,
        action=f"request.{to.value}",
        detail={"reason": reason} if reason else None,
        values=values,
    )


def change_match_status(
    session: Session,
    match: Match,
    to: MatchStatus,
    *,
    actor: Actor,
    expected: MatchStatus | None = None,
    reason: str | None = None,
) -> None:
    """Move ``match`` to ``to``; raise IllegalTransition or StaleState if it cannot."""
    now = utcnow()
    values: dict[str, Any] = {}
    if to in (M.ACCEPTED, M.DECLINED):
        values["answered_at"] = now
    if not MATCH_TRANSITIONS[to]:
        values["closed_at"] = now
    _change(
        session,
        match,
        f"match {match.id}",
        MATCH_TRANSITIONS,
        to,
        actor=actor,
        expected=expected,
        action=f"match.{to.value}",
        detail={"reason": reason} if reason else None,
        values=values,
    )


def change_message_status(
    session: Session,
    message: Message,
    to: MessageStatus,
    *,
    actor: Actor | None = None,
    expected: MessageStatus | None = None,
    audit: bool = False,
    **values: Any,
) -> None:
    """Move ``message`` to ``to`` with extra column ``values`` (provider_sid, error_code …).

    Routine delivery steps are not audited (``audit=False``); failures and suppressions are.
    """
    _change(
        session,
        message,
        f"message {message.id}",
        MESSAGE_TRANSITIONS,
        to,
        actor=actor or Actor.system(),
        expected=expected,
        action=f"message.{to.value}",
        audit=audit,
        values=values,
    )
    if (
        to in (MessageStatus.FAILED, MessageStatus.UNDELIVERED)
        and message.direction.value == "outbound"
    ):
        code = values.get("error_code") or message.error_code
        alerts.add(
            session,
            "failed_send",
            f"A text could not be delivered ({message.template or 'message'}"
            + (f", error {code})" if code else ")"),
            link="/dashboard/messages",
        )
