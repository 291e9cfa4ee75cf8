"""The coordinators' queues, as the dashboard and the API read them: the overview, the
lists of requests and volunteers (filtered, sorted, a page at a time), the texts that
failed, the recent matching runs and the audit log. Bounded queries: a fixed number per
page whatever the size of the network."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from mutualaid.models import (
    LIVE_MATCH_STATUSES,
    AidRequest,
    AuditEvent,
    Channel,
    Conversation,
    Match,
    MatchingRun,
    MatchStatus,
    Message,
    MessageDirection,
    MessageStatus,
    Offer,
    OfferCategory,
    Person,
    RequestStatus,
    Urgency,
)

PAGE_SIZE = 50

LIST_LIMIT = 100  # rows of any side list (flags, expiring proposals, history, messages)

SORTS = ("newest", "oldest", "urgency")

URGENCY_ORDER = case(
    (AidRequest.urgency == Urgency.URGENT, 0), (AidRequest.urgency == Urgency.SOON, 1), else_=2
)


@dataclass
class Overview:
    counts: dict[str, int]
    flagged: list[AidRequest]
    humans: list[tuple[Conversation, Person]]
    expiring: list[Match]
    unmatched_open: int
    today_requests: int
    today_accepted: int


def overview(session: Session, *, now: dt.datetime, day_start: dt.datetime) -> Overview:
    counts = {s.value: 0 for s in RequestStatus}
    counts.update(
        {
            status.value: n
            for status, n in session.execute(
                select(AidRequest.status, func.count()).group_by(AidRequest.status)
            )
        }
    )
    flagged = list(
        session.scalars(
            select(AidRequest)
            .where(
                AidRequest.flagged.is_(True),
                AidRequest.status.in_((RequestStatus.OPEN, RequestStatus.MATCHED)),
            )
            .order_by(URGENCY_ORDER, AidRequest.created_at)
            .limit(LIST_LIMIT)
        )
    )
    humans = list(
        session.execute(
            select(Conversation, Person)
            .join(Person, Person.id == Conversation.person_id)
            .where(Conversation.human_requested_at.is_not(None))
            .order_by(Conversation.human_requested_at)
            .limit(LIST_LIMIT)
        )
    )
    expiring = list(
        session.scalars(
            select(Match)
            .options(selectinload(Match.request), selectinload(Match.offer))
            .where(Match.status == MatchStatus.PROPOSED, Match.expires_at.is_not(None))
            .order_by(Match.expires_at)
            .limit(20)
        )
    )
    live = select(Match.id).where(
        Match.request_id == AidRequest.id, Match.status.in_(LIVE_MATCH_STATUSES)
    )
    unmatched_open = session.scalar(
        select(func.count())
        .select_from(AidRequest)
        .where(AidRequest.status == RequestStatus.OPEN, ~live.exists())
    )
    today_requests = session.scalar(
        select(func.count()).select_from(AidRequest).where(AidRequest.created_at >= day_start)
    )
    today_accepted = session.scalar(
        select(func.count()).select_from(AidRequest).where(AidRequest.matched_at >= day_start)
    )
    return Overview(
        counts, flagged, humans, expiring, unmatched_open or 0, today_requests, today_accepted
    )


@dataclass(frozen=True)
class RequestFilter:
    state: str = ""
    category: str = ""
    urgency: str = ""
    channel: str = ""
    area: str = ""  # the resolved place name (a neighbourhood, a ZIP code)
    flagged: bool = False
    older_than_hours: int = 0
    sort: str = "newest"
    page: int = 1


def list_requests(
    session: Session, f: RequestFilter, *, now: dt.datetime, page_size: int = PAGE_SIZE
) -> tuple[list[AidRequest], int]:
    """One page of requests matching ``f`` (with their requesters), and how many match."""
    query = select(AidRequest)
    if f.state:
        query = query.where(AidRequest.status == RequestStatus(f.state))
    if f.category:
        query = query.where(AidRequest.category == f.category)
    if f.urgency:
        query = query.where(AidRequest.urgency == Urgency(f.urgency))
    if f.channel:
        query = query.where(AidRequest.channel == Channel(f.channel))
    if f.area:
        query = query.where(AidRequest.location_label == f.area)
    if f.flagged:
        query = query.where(AidRequest.flagged.is_(True))
    if f.older_than_hours:
        query = query.where(AidRequest.created_at <= now - dt.timedelta(hours=f.older_than_hours))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    order = {
        "newest": (AidRequest.created_at.desc(), AidRequest.id.desc()),
        "oldest": (AidRequest.created_at, AidRequest.id),
        "urgency": (URGENCY_ORDER, AidRequest.created_at, AidRequest.id),
    }[f.sort]
    rows = session.scalars(
        query.options(selectinload(AidRequest.requester))
        .order_by(*order)
        .limit(page_size)
        .offset((f.page - 1) * page_size)
    )
    return list(rows), total or 0


@dataclass(frozen=True)
class VolunteerFilter:
    category: str = ""
    vetted: str = ""  # "", "yes", "no"
    paused: str = ""
    area: str = ""
    room: str = ""  # "yes": can take another task now; "no": full
    page: int = 1


def list_volunteers(
    session: Session, f: VolunteerFilter, *, page_size: int = PAGE_SIZE
) -> tuple[list[tuple[Offer, int]], int]:
    """One page of volunteers (offer and live load), and how many match."""
    query = select(Offer).join(Person, Person.id == Offer.person_id)
    if f.category:
        query = query.where(
            Offer.id.in_(select(OfferCategory.offer_id).where(OfferCategory.category == f.category))
        )
    if f.vetted:
        query = query.where(Offer.vetted.is_(f.vetted == "yes"))
    if f.paused:
        query = query.where(Offer.paused.is_(f.paused == "yes"))
    if f.area:
        query = query.where(Offer.location_label == f.area)
    load = (
        select(func.count())
        .where(Match.offer_id == Offer.id, Match.status.in_(LIVE_MATCH_STATUSES))
        .scalar_subquery()
    )
    if f.room:
        query = query.where(load < Offer.capacity if f.room == "yes" else load >= Offer.capacity)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(
        query.add_columns(load)
        .options(selectinload(Offer.person))
        .order_by(Offer.id)
        .limit(page_size)
        .offset((f.page - 1) * page_size)
    )
    return list(rows), total or 0


FAILED_STATUSES = (MessageStatus.FAILED, MessageStatus.UNDELIVERED)


def failed_messages(session: Session, *, limit: int = LIST_LIMIT) -> list[Message]:
    """Outbound messages that did not reach their person, newest first."""
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.direction == MessageDirection.OUTBOUND,
                Message.status.in_(FAILED_STATUSES),
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(limit)
        )
    )


def texts_of_phone(session: Session, phone: str, *, limit: int = LIST_LIMIT) -> list[Message]:
    """The texts to and from ``phone``, newest first."""
    return list(
        session.scalars(
            select(Message).where(Message.phone == phone).order_by(Message.id.desc()).limit(limit)
        )
    )


def recent_runs(session: Session, *, limit: int = 50) -> list[MatchingRun]:
    return list(
        session.scalars(
            select(MatchingRun)
            .order_by(MatchingRun.started_at.desc(), MatchingRun.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class AuditFilter:
    actor_type: str = ""
    actor_id: int | None = None
    action: str = ""
    subject_type: str = ""
    subject_id: int | None = None
    page: int = 1


def audit_log(
    session: Session, f: AuditFilter, *, page_size: int = PAGE_SIZE
) -> tuple[list[AuditEvent], bool]:
    """One page of audit events, newest first, and whether there is a next page."""
    query = select(AuditEvent)
    if f.actor_type:
        query = query.where(AuditEvent.actor_type == f.actor_type)
    if f.actor_id is not None:
        query = query.where(AuditEvent.actor_id == f.actor_id)
    if f.action:
        query = query.where(AuditEvent.action.startswith(f.action, autoescape=True))
    if f.subject_type:
        query = query.where(AuditEvent.subject_type == f.subject_type)
    if f.subject_id is not None:
        query = query.where(AuditEvent.subject_id == f.subject_id)
    rows = list(
        session.scalars(
            query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(page_size + 1)
            .offset((f.page - 1) * page_size)
        )
    )
    return rows[:page_size], len(rows) > page_size
