"""A person's consent to be texted: opted out (STOP, BAJA, "stop texting me", or the
provider reporting an unsubscribed number) and back in (START). One function each,
whatever the source, writing its audit event; after an opt-out nothing more is sent
(queued texts are suppressed, pending proposals go to someone else)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mutualaid.models import (
    Match,
    MatchStatus,
    Message,
    MessageDirection,
    MessageStatus,
    Offer,
    Person,
)
from mutualaid.services.audit import Actor, record
from mutualaid.services.transitions import (
    TransitionError,
    change_match_status,
    change_message_status,
)
from sms.transport import is_opt_out_error, is_permanent_error


def opt_out(
    session: Session, person_id: int, *, source: str, actor: Actor, now: dt.datetime
) -> bool:
    """Opt the person out (``source`` says how: "sms:STOP", "twilio:21610" …): nothing more
    is sent to them, their queued texts are suppressed and the proposals waiting for their
    answer are declined, so the next run asks someone else. False when they already were
    opted out (a conditional update: two sources at once opt out once)."""
    changed = session.execute(
        update(Person)
        .where(Person.id == person_id, Person.opted_out.is_(False))
        .values(opted_out=True, opted_out_at=now, consent_source=source)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if changed != 1:
        return False
    record(
        session,
        actor,
        "person.opted_out",
        subject_type="people",
        subject_id=person_id,
        source=source,
    )
    suppress_queued(session, person_id)
    _release_proposals(session, person_id, actor=actor)
    return True


def opt_in(session: Session, person: Person, *, source: str, actor: Actor) -> bool:
    """The person may be texted again (START); False when they were not opted out."""
    if not person.opted_out:
        return False
    person.opted_out, person.opted_out_at, person.consent_source = False, None, source
    record(
        session,
        actor,
        "person.opted_in",
        subject_type="people",
        subject_id=person.id,
        source=source,
    )
    return True


def stop_texting(
    session: Session, person_id: int | None, code: int | None, *, now: dt.datetime
) -> None:
    """The provider refused to send to this person for good: an unsubscribed number
    (21610) is an opt-out, any other dead number (21211, 30005 …) is recorded as
    unreachable for a coordinator."""
    if person_id is None:
        return
    if is_opt_out_error(code):
        opt_out(session, person_id, source=f"twilio:{code}", actor=Actor.system(), now=now)
    elif is_permanent_error(code):
        record(
            session,
            Actor.system(),
            "person.unreachable",
            subject_type="people",
            subject_id=person_id,
            error_code=code,
        )


def suppress_queued(session: Session, person_id: int) -> int:
    """Suppress the person's queued outbound messages (they opted out or were blocked);
    how many."""
    queued = session.scalars(
        select(Message)
        .where(
            Message.person_id == person_id,
            Message.direction == MessageDirection.OUTBOUND,
            Message.status == MessageStatus.QUEUED,
        )
        .execution_options(populate_existing=True)
    ).all()
    done = 0
    for message in queued:
        try:
            change_message_status(
                session,
                message,
                MessageStatus.SUPPRESSED,
                expected=MessageStatus.QUEUED,
                audit=True,
                next_attempt_at=None,
            )
        except TransitionError:
            continue  # claimed meanwhile: the outbox's start_attempt suppresses it
        done += 1
    return done


def _release_proposals(session: Session, person_id: int, *, actor: Actor) -> int:
    """Decline, silently, the proposals waiting for an opted-out volunteer's answer."""
    released = 0
    pending = session.scalars(
        select(Match)
        .join(Offer, Offer.id == Match.offer_id)
        .where(Offer.person_id == person_id, Match.status == MatchStatus.PROPOSED)
    )
    for match in list(pending):
        try:
            change_match_status(
                session, match, MatchStatus.DECLINED, actor=actor, reason="opted out"
            )
            released += 1
        except TransitionError:
            continue
    return released
