"""Who did what: the actor of a change and the audit events it leaves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from mutualaid.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """The author of a change: a person (by SMS, or a form their number confirmed), a
    coordinator, the system, or a visitor (someone on the public website, unverified)."""

    type: str
    id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system")

    @classmethod
    def visitor(cls) -> Actor:
        return cls("visitor")

    @classmethod
    def person(cls, person_id: int | None) -> Actor:
        return cls("person", person_id)

    @classmethod
    def coordinator(cls, account_id: int) -> Actor:
        return cls("coordinator", account_id)


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    subject_type: str,
    subject_id: int | None,
    from_state: str | None = None,
    to_state: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event. ``detail`` must never hold phone numbers or street addresses."""
    event = AuditEvent(
        actor_type=actor.type,
        actor_id=actor.id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        from_state=from_state,
        to_state=to_state,
        detail=detail,
    )
    session.add(event)
    return event
