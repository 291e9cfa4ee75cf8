"""Opt-in of imported people: someone brought in from a spreadsheet has not answered yet.
They are marked as waiting, get one text asking for a YES, and nothing is proposed to
them (a volunteer) or for them (a requester) until they answer YES — or a coordinator
confirms a request taken by phone. The opt-in and its source are kept on the person.

(A web form's own confirmation, "YES <code>", is not this: it lives in its own module.)
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from mutualaid.models import Person, utcnow
from mutualaid.services.audit import Actor, record


def mark_waiting(session: Session, person: Person, *, source: str, actor: Actor) -> bool:
    """Mark ``person`` as waiting for their opt-in (``source``: "import:volunteers.csv");
    False when they already opted in or were already waiting (nothing more to ask)."""
    if person.opted_in_at is not None or person.awaiting_opt_in:
        return False
    person.awaiting_opt_in = True
    person.opt_in_source = source[:80]
    record(
        session,
        actor,
        "person.opt_in_requested",
        subject_type="people",
        subject_id=person.id,
        source=source[:80],
    )
    return True


def confirm(session: Session, person: Person, *, source: str, actor: Actor) -> bool:
    """``person`` opted in (``source``: "sms:YES", "phone:coordinator:3"): proposals may
    go to them and for them. False when they already had."""
    if person.opted_in_at is not None and not person.awaiting_opt_in:
        return False
    person.awaiting_opt_in = False
    person.opted_in_at = utcnow()
    person.opt_in_source = source[:80]
    record(
        session,
        actor,
        "person.opted_in_to_proposals",
        subject_type="people",
        subject_id=person.id,
        source=source[:80],
    )
    return True
