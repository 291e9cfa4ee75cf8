"""Opt-in of imported people: someone brought in from a spreadsheet has not answered yet.
They are marked as waiting, get one text asking for a YES, and nothing is proposed to
them (a volunteer) or for them (a requester) until they answer YES — or a coordinator
confirms a request taken by phone. The opt-in and its source are kept on the person.

(A web form's own confirmation, "YES <code>", is not this: it lives in its own module.)
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mutualaid.models import AidRequest, Offer, Person, RequestStatus, utcnow
from mutualaid.services.audit import Actor, record
from mutualaid.services.notify import SmsContext, say


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


def ask(session: Session, ctx: SmsContext, person: Person) -> None:
    """Send the one opt-in text to someone waiting: a volunteer is asked whether they want
    requests near them, a requester to confirm their request (once per person)."""
    if not person.awaiting_opt_in or not person.phone:
        return
    offer = session.scalar(select(Offer.id).where(Offer.person_id == person.id))
    if offer is not None:
        say(session, ctx, person, "optin_volunteer", dedupe_key=f"optin:{person.id}")
        return
    req = _open_request(session, person)
    if req is not None:
        say(
            session,
            ctx,
            person,
            "optin_request",
            dedupe_key=f"optin:{person.id}",
            request_id=req.id,
            category=ctx.label(req.category, person.language),
        )


def answer(
    session: Session, ctx: SmsContext, person: Person, *, yes: bool, dedupe_key: str
) -> None:
    """A waiting person's YES (they opt in: proposals go to them and for them) or NO
    (nothing is done; they stay waiting until they text again)."""
    if not yes:
        person.opt_in_source = "sms:NO"
        record(
            session,
            Actor.person(person.id),
            "person.opt_in_declined",
            subject_type="people",
            subject_id=person.id,
        )
        say(session, ctx, person, "optin_declined", dedupe_key=dedupe_key)
        return
    volunteer = session.scalar(select(Offer.id).where(Offer.person_id == person.id)) is not None
    confirm(session, person, source="sms:YES", actor=Actor.person(person.id))
    key = "optin_confirmed_volunteer" if volunteer else "optin_confirmed_request"
    say(session, ctx, person, key, dedupe_key=dedupe_key)


def _open_request(session: Session, person: Person) -> AidRequest | None:
    return session.scalar(
        select(AidRequest)
        .where(AidRequest.requester_id == person.id, AidRequest.status == RequestStatus.OPEN)
        .order_by(AidRequest.id)
        .limit(1)
    )
