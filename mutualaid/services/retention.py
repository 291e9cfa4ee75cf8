"""Forgetting: contact details, message bodies and coordinators' notes are erased
RETENTION_DAYS after a request closes, and an admin can erase a person at once. What
remains is anonymous: categories, states, times, neighbourhood-level places — enough for
the figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.orm import Session

from mutualaid.models import (
    AidRequest,
    Call,
    Conversation,
    Match,
    MatchStatus,
    Message,
    MessageStatus,
    Offer,
    PendingSubmission,
    Person,
    RequestNote,
    RequestStatus,
)
from mutualaid.services import availability, lifecycle
from mutualaid.services.audit import Actor, record
from mutualaid.services.errors import Refused
from mutualaid.services.notify import SmsContext

ERASED = ""
CLOSED = (RequestStatus.COMPLETED, RequestStatus.CANCELLED)
# Two decimals of a degree: about a kilometre, a neighbourhood, not a door.
COARSE_DIGITS = 2


@dataclass(frozen=True)
class PurgeReport:
    requests: int
    people: int
    messages: int
    notes: int = 0


def _coarse(value: float | None) -> float | None:
    return None if value is None else round(value, COARSE_DIGITS)


def _erase_request(req: AidRequest) -> None:
    req.address = None
    req.details = ERASED
    req.location_text = ERASED
    req.lat, req.lon = _coarse(req.lat), _coarse(req.lon)


def _delete_notes(session: Session, request_ids) -> int:
    """Coordinators' notes may name or describe the person: they go with the request's data."""
    result = session.execute(delete(RequestNote).where(RequestNote.request_id.in_(request_ids)))
    return result.rowcount or 0


def _erase_messages(session: Session, *where) -> int:
    # Not-yet-sent messages are never sent now; status changes of these rows bypass the
    # state machine on purpose: erasure is not a delivery event.
    session.execute(
        update(Message)
        .where(or_(*where), Message.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]))
        .values(status=MessageStatus.SUPPRESSED, lease_until=None)
    )
    result = session.execute(
        update(Message).where(or_(*where)).values(body=ERASED, phone=ERASED, error_message=None)
    )
    return result.rowcount or 0


def _forget_calls(session: Session, where) -> None:
    """A call's voicemail is the caller's voice: its link goes (the recording itself is
    deleted at Twilio, see README), and what they pressed."""
    session.execute(
        update(Call)
        .where(where)
        .values(recording_url=None, recording_sid=None, data={}, expires_at=None)
        .execution_options(synchronize_session=False)
    )


def erase_person(session: Session, person: Person, *, actor: Actor) -> int:
    """Erase everything that identifies ``person``: phone, name, their requests' addresses,
    details and coordinators' notes, their offer's place, every message to or from them.
    Their open requests are cancelled first by the caller if needed. Returns the messages
    erased."""
    phone = person.phone
    for req in session.scalars(select(AidRequest).where(AidRequest.requester_id == person.id)):
        _erase_request(req)
    notes = _delete_notes(
        session, select(AidRequest.id).where(AidRequest.requester_id == person.id)
    )
    offer = session.scalar(select(Offer).where(Offer.person_id == person.id))
    if offer is not None:
        offer.location_text, offer.availability = ERASED, ERASED
        offer.lat, offer.lon = _coarse(offer.lat), _coarse(offer.lon)
        availability.set_paused(session, offer, True, actor=actor, reason="erased")
    # Their words also sit in relays to the other party of each of their matches.
    matches = select(Match.id).where(
        or_(
            Match.request_id.in_(select(AidRequest.id).where(AidRequest.requester_id == person.id)),
            Match.offer_id.in_(select(Offer.id).where(Offer.person_id == person.id)),
        )
    )
    where = [Message.person_id == person.id, Message.match_id.in_(matches)]
    if phone:
        where.append(Message.phone == phone)
    erased = _erase_messages(session, *where)
    session.execute(delete(Conversation).where(Conversation.person_id == person.id))
    _forget_calls(session, Call.person_id == person.id)
    if phone:  # web forms naming them that never confirmed
        session.execute(delete(PendingSubmission).where(PendingSubmission.phone == phone))
    person.phone = None
    person.name = None
    availability.block(session, person, actor=actor)  # nothing is ever sent to them again
    record(
        session,
        actor,
        "person.erased",
        subject_type="people",
        subject_id=person.id,
        messages=erased,
        notes=notes,
    )
    session.flush()
    return erased


def erase_person_now(session: Session, ctx: SmsContext, person: Person, *, actor: Actor) -> int:
    """An admin's "erase this person": their open requests are cancelled (a volunteer on
    one is told, as for any cancellation), proposals to them withdrawn, then everything
    that identifies them is erased (`erase_person`). Refused while they hold an accepted
    task as a volunteer: that request's requester is counting on them, so a coordinator
    reassigns or completes it first. Returns the messages erased. Flushes."""
    if person.phone is None and person.name is None and person.blocked:
        raise Refused("erase_already", "this person is already erased")
    offer = session.scalar(select(Offer).where(Offer.person_id == person.id))
    if offer is not None:
        accepted = session.scalar(
            select(AidRequest.ref)
            .join(Match, Match.request_id == AidRequest.id)
            .where(Match.offer_id == offer.id, Match.status == MatchStatus.ACCEPTED)
            .limit(1)
        )
        if accepted is not None:
            raise Refused(
                "erase_busy",
                f"they have accepted request {accepted}: reassign or complete it first",
                ref=accepted,
            )
        for match in lifecycle.pending_proposals(session, person):
            lifecycle.decline(session, ctx, match, actor=actor, tell=False)
    for req in session.scalars(
        select(AidRequest).where(
            AidRequest.requester_id == person.id,
            AidRequest.status.in_((RequestStatus.OPEN, RequestStatus.MATCHED)),
        )
    ):
        lifecycle.cancel_request(session, ctx, req, actor=actor)
    return erase_person(session, person, actor=actor)


def purge(session: Session, *, now: dt.datetime, retention: dt.timedelta) -> PurgeReport:
    """Erase what the retention period no longer allows keeping. Flushes; the caller
    commits. Idempotent: run it daily."""
    cutoff = now - retention
    closed = list(
        session.scalars(
            select(AidRequest).where(
                AidRequest.status.in_(CLOSED),
                AidRequest.closed_at < cutoff,
                or_(
                    AidRequest.address.is_not(None),
                    AidRequest.details != ERASED,
                    AidRequest.location_text != ERASED,
                    # A note written after an earlier purge erased the rest.
                    exists().where(RequestNote.request_id == AidRequest.id),
                ),
            )
        )
    )
    for req in closed:
        _erase_request(req)
    messages = notes = 0
    if closed:
        ids = [r.id for r in closed]
        notes = _delete_notes(session, ids)
        relays = select(Match.id).where(Match.request_id.in_(ids))
        messages = _erase_messages(
            session, Message.request_id.in_(ids), Message.match_id.in_(relays)
        )
        _forget_calls(session, Call.request_id.in_(ids))
    # Requesters with nothing left open or recent, who do not volunteer: forget them.
    people = 0
    candidates = {r.requester_id for r in closed}
    for person_id in sorted(candidates):
        recent = session.scalar(
            select(AidRequest.id)
            .where(
                AidRequest.requester_id == person_id,
                or_(AidRequest.status.not_in(CLOSED), AidRequest.closed_at >= cutoff),
            )
            .limit(1)
        )
        volunteers = session.scalar(select(Offer.id).where(Offer.person_id == person_id))
        person = session.get(Person, person_id)
        if recent is None and volunteers is None and person is not None and person.phone:
            messages += erase_person(session, person, actor=Actor.system())
            people += 1
    # Old messages that belong to no request (help, status …) go too.
    result = session.execute(
        update(Message)
        .where(Message.created_at < cutoff, Message.request_id.is_(None), Message.body != ERASED)
        .values(body=ERASED)
    )
    messages += result.rowcount or 0
    if closed or people:
        record(
            session,
            Actor.system(),
            "retention.purged",
            subject_type="aid_requests",
            subject_id=None,
            requests=len(closed),
            people=people,
            messages=messages,
            notes=notes,
        )
    session.flush()
    return PurgeReport(len(closed), people, messages, notes)
