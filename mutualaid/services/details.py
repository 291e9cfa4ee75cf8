"""Everything coordinators read about one request or one volunteer: its matches, history,
texts and notes; and the lookups by id or reference the pages and the API share."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mutualaid.models import (
    LIVE_MATCH_STATUSES,
    AidRequest,
    AuditEvent,
    Call,
    Match,
    Message,
    Offer,
    Place,
)
from mutualaid.services.notes import NoteView, notes_on
from mutualaid.services.queues import LIST_LIMIT


@dataclass
class RequestPage:
    req: AidRequest
    matches: list[Match]
    history: list[AuditEvent]
    messages: list[Message]
    notes: list[NoteView]
    # The hotline call it came from or left a voicemail on (its recording: coordinators').
    call: Call | None = None


def request_page(session: Session, request_id: int) -> RequestPage | None:
    req = session.get(AidRequest, request_id)
    if req is None:
        return None
    matches = list(
        session.scalars(
            select(Match)
            .options(selectinload(Match.offer).selectinload(Offer.person))
            .where(Match.request_id == req.id)
            .order_by(Match.id.desc())
            .limit(LIST_LIMIT)
        )
    )
    match_ids = [m.id for m in matches]
    history = list(
        session.scalars(
            select(AuditEvent)
            .where(
                ((AuditEvent.subject_type == "aid_requests") & (AuditEvent.subject_id == req.id))
                | ((AuditEvent.subject_type == "matches") & AuditEvent.subject_id.in_(match_ids))
            )
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(LIST_LIMIT)
        )
    )
    messages = list(
        session.scalars(
            select(Message)
            .where((Message.request_id == req.id) | (Message.person_id == req.requester_id))
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(LIST_LIMIT)
        )
    )
    call = session.scalars(
        select(Call).where(Call.request_id == req.id).order_by(Call.id.desc()).limit(1)
    ).first()
    return RequestPage(req, matches, history, messages, notes_on(session, req.id), call)


@dataclass
class VolunteerPage:
    offer: Offer
    load: int
    matches: list[Match]
    history: list[AuditEvent]
    messages: list[Message]


def volunteer_page(session: Session, offer_id: int) -> VolunteerPage | None:
    offer = session.get(Offer, offer_id)
    if offer is None:
        return None
    matches = list(
        session.scalars(
            select(Match)
            .options(selectinload(Match.request))
            .where(Match.offer_id == offer.id)
            .order_by(Match.id.desc())
            .limit(LIST_LIMIT)
        )
    )
    load = sum(1 for m in matches if m.status in LIVE_MATCH_STATUSES)
    history = list(
        session.scalars(
            select(AuditEvent)
            .where(
                ((AuditEvent.subject_type == "offers") & (AuditEvent.subject_id == offer.id))
                | (
                    (AuditEvent.subject_type == "people")
                    & (AuditEvent.subject_id == offer.person_id)
                )
            )
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(LIST_LIMIT)
        )
    )
    messages = messages_of(session, offer.person_id)
    return VolunteerPage(offer, load, matches, history, messages)


def messages_of(session: Session, person_id: int, *, limit: int = LIST_LIMIT) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.person_id == person_id)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(limit)
        )
    )


def requests_by_ref(session: Session, ids: list[int]) -> dict[int, AidRequest]:
    if not ids:
        return {}
    return {r.id: r for r in session.scalars(select(AidRequest).where(AidRequest.id.in_(ids)))}


def offers_by_id(session: Session, ids: list[int]) -> dict[int, Offer]:
    if not ids:
        return {}
    return {
        o.id: o
        for o in session.scalars(
            select(Offer).options(selectinload(Offer.person)).where(Offer.id.in_(ids))
        )
    }


def find_by_ref(session: Session, ref: str) -> AidRequest | None:
    ref = ref.strip().upper()[:12]
    return session.scalar(select(AidRequest).where(AidRequest.ref == ref)) if ref else None


def place_names(session: Session) -> list[str]:
    """The gazetteer's place names, for a coordinator searching where a request is."""
    return sorted(session.scalars(select(Place.name)).all())


@dataclass
class PersonPage:
    requests: list[AidRequest]
    offer_id: int | None
    messages: list[Message]


def person_page(session: Session, person_id: int) -> PersonPage:
    requests = list(
        session.scalars(
            select(AidRequest)
            .where(AidRequest.requester_id == person_id)
            .order_by(AidRequest.id.desc())
            .limit(LIST_LIMIT)
        )
    )
    offer_id = session.scalar(select(Offer.id).where(Offer.person_id == person_id))
    return PersonPage(requests, offer_id, messages_of(session, person_id))
