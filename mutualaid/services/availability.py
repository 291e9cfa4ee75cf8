"""A volunteer's availability: paused and resumed (by themselves by SMS, by a coordinator,
or by the system when they let proposals expire) and blocked. One function per change,
each writing its audit event, whatever the source; a paused or blocked volunteer is never
proposed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mutualaid.models import Match, MatchStatus, Offer, Person
from mutualaid.services.audit import Actor, record
from mutualaid.services.consent import suppress_queued
from mutualaid.services.notify import SmsContext, say


def set_paused(
    session: Session, offer: Offer, paused: bool, *, actor: Actor, reason: str | None = None
) -> bool:
    """Pause or resume ``offer``; False when it already was."""
    if offer.paused is paused:
        return False
    offer.paused = paused
    record(
        session,
        actor,
        "offer.paused" if paused else "offer.resumed",
        subject_type="offers",
        subject_id=offer.id,
        **({"reason": reason} if reason else {}),
    )
    return True


def block(session: Session, person: Person, *, actor: Actor) -> bool:
    """Block a person: nothing more is sent to them (their queued texts are suppressed),
    and they are never proposed again. False when they already were."""
    if person.blocked:
        return False
    person.blocked = True
    suppress_queued(session, person.id)
    record(session, actor, "person.blocked", subject_type="people", subject_id=person.id)
    return True


def pause_if_unresponsive(session: Session, ctx: SmsContext, offer: Offer, *, after: int) -> bool:
    """Pause a volunteer whose last ``after`` answered-or-expired proposals all expired, and
    tell them how to come back (once a day at most); ``after = 0`` never pauses."""
    if after == 0 or offer.paused:
        return False
    latest = list(
        session.scalars(
            select(Match.status)
            .where(Match.offer_id == offer.id, Match.status != MatchStatus.PROPOSED)
            .order_by(Match.id.desc())
            .limit(after)
        )
    )
    if len(latest) < after or any(s is not MatchStatus.EXPIRED for s in latest):
        return False
    set_paused(
        session, offer, True, actor=Actor.system(), reason=f"{after} proposals expired in a row"
    )
    say(
        session,
        ctx,
        offer.person,
        "paused_for_expiries",
        dedupe_key=f"paused_for_expiries:{offer.id}:{ctx.now.date()}",
        count=str(after),
    )
    return True
