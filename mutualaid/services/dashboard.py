"""What the coordinators' dashboard reads and the few changes it makes itself (vetting,
pausing, blocking, reveals): bounded queries, privacy by role, figures, CSV rows."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

import matching
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
from mutualaid.services.audit import Actor, record
from mutualaid.services.catalogues import number_words
from mutualaid.services.errors import Refused
from mutualaid.services.lifecycle import strip_numbers
from mutualaid.services.notes import NoteView, notes_on
from mutualaid.services.outbox import enqueue, suppress_queued
from sms.phones import mask

PAGE_SIZE = 50
LIST_LIMIT = 100  # rows of any side list (flags, expiring proposals, history, messages)
SORTS = ("newest", "oldest", "urgency")
URGENCY_ORDER = case(
    (AidRequest.urgency == Urgency.URGENT, 0), (AidRequest.urgency == Urgency.SOON, 1), else_=2
)


class Privacy:
    """What one reader may see of people: ``full`` for a coordinator who asked to reveal
    (audited), otherwise masked phones, no street address, approximate places only."""

    WORDS: ClassVar[dict[str, str]] = {
        "hidden": "(hidden)",
        "needs_location": "needs a location",
        "located": "located",
    }

    def __init__(
        self, full: bool, region: str = "US", words: Mapping[str, str] | None = None
    ) -> None:
        self.full = full
        self.region = region
        self.words = {**self.WORDS, **(words or {})}

    def phone(self, phone: str | None) -> str:
        if not phone:
            return ""
        return phone if self.full else mask(phone)

    def address(self, address: str | None) -> str:
        if not address:
            return ""
        return address if self.full else self.words["hidden"]

    def place(self, row: AidRequest | Offer) -> str:
        """Where: what was typed (only in full) or the resolved place name and precision."""
        label = row.location_label or ""
        if self.full and row.location_text:
            return f"{row.location_text} ({label})" if label else row.location_text
        return label or self.words["needs_location" if row.lat is None else "located"]

    def coords(self, lat: float | None, lon: float | None) -> str:
        if lat is None or lon is None:
            return ""
        digits = 5 if self.full else 2  # 2 decimals: about a kilometre
        return f"{lat:.{digits}f}, {lon:.{digits}f}"

    def text(self, text: str | None) -> str:
        """Free text a person wrote: numbers in it are removed unless in full."""
        if not text:
            return ""
        return text if self.full else strip_numbers(text, self.region, words=number_words())


MAX_ID = 2**31 - 1  # the largest id an integer column holds (PostgreSQL's)


def whole_number(text: str, top: int = MAX_ID) -> int | None:
    """``text`` as a whole number from 0 to ``top``, or None: only ASCII digits count
    (str.isdigit() accepts "²", which int() refuses), and nothing a database column cannot
    hold gets near a query."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    value = int(text)
    return value if value <= top else None


def text_arg(args: Mapping[str, str], name: str, limit: int) -> str:
    """A free-text query argument, trimmed, without control characters (PostgreSQL refuses
    a NUL byte even in a comparison: a 500, not "no match")."""
    value = "".join(ch for ch in args.get(name, "") if ch.isprintable())
    return value.strip()[:limit]


# --- Overview -------------------------------------------------------------------------


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


# --- Requests -------------------------------------------------------------------------


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

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> RequestFilter:
        """Read a filter from query arguments, dropping anything not allowed."""

        def choice(name: str, allowed: set[str]) -> str:
            value = args.get(name, "")
            return value if value in allowed else ""

        def whole(name: str, default: int, top: int) -> int:
            value = whole_number(args.get(name, ""), top=10**12)
            return min(value, top) if value else default

        return cls(
            state=choice("state", {s.value for s in RequestStatus}),
            category=text_arg(args, "category", 40),
            urgency=choice("urgency", {u.value for u in Urgency}),
            channel=choice("channel", {c.value for c in Channel}),
            area=text_arg(args, "area", 120),
            flagged=args.get("flagged") == "1",
            older_than_hours=whole("older_than_hours", 0, 24 * 365),
            sort=choice("sort", set(SORTS)) or "newest",
            page=whole("page", 1, 100000),
        )


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


@dataclass
class RequestPage:
    req: AidRequest
    matches: list[Match]
    history: list[AuditEvent]
    messages: list[Message]
    notes: list[NoteView]


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
    return RequestPage(req, matches, history, messages, notes_on(session, req.id))


@dataclass
class Candidate:
    offer: Offer
    km: float
    load: int


def candidates(
    session: Session, req: AidRequest, *, max_km: float, limit: int = 20
) -> list[Candidate]:
    """Volunteers who could take ``req`` by hand, nearest first, with the engine's
    great-circle distance and their current load. Looks only inside a box of ``max_km``;
    a fixed number of queries whatever the number of volunteers."""
    if req.lat is None or req.lon is None:
        return []
    dlat = max_km / 111.0
    dlon = max_km / max(1.0, 111.0 * abs(_cos_deg(req.lat)))
    rows = session.execute(
        select(Offer.id, Offer.lat, Offer.lon, Offer.radius_km, Offer.capacity)
        .join(Person, Person.id == Offer.person_id)
        .join(OfferCategory, OfferCategory.offer_id == Offer.id)
        .where(
            OfferCategory.category == req.category,
            Offer.paused.is_(False),
            Person.blocked.is_(False),
            Person.opted_out.is_(False),
            Offer.lat.between(req.lat - dlat, req.lat + dlat),
            Offer.lon.between(req.lon - dlon, req.lon + dlon),
        )
        .limit(20_000)
    ).all()
    if not rows:
        return []
    here = matching.unit_vectors([req.lat], [req.lon])
    there = matching.unit_vectors([r.lat for r in rows], [r.lon for r in rows])
    km = matching.great_circle_km(here, there)
    near = sorted(
        (float(d), r.id, r.capacity)
        for r, d in zip(rows, km, strict=True)
        if d <= min(max_km, r.radius_km)
    )
    found: list[tuple[float, int, int]] = []
    step = max(limit * 4, 50)
    for start in range(0, len(near), step):
        chunk = near[start : start + step]
        loads = dict(
            session.execute(
                select(Match.offer_id, func.count())
                .where(
                    Match.offer_id.in_([offer_id for _, offer_id, _ in chunk]),
                    Match.status.in_(LIVE_MATCH_STATUSES),
                )
                .group_by(Match.offer_id)
            ).all()
        )
        for d, offer_id, capacity in chunk:
            if loads.get(offer_id, 0) < capacity:
                found.append((d, offer_id, loads.get(offer_id, 0)))
        if len(found) >= limit:
            break
    found = found[:limit]
    offers = offers_by_id(session, [offer_id for _, offer_id, _ in found])
    return [Candidate(offers[offer_id], round(d, 2), n) for d, offer_id, n in found]


def _cos_deg(degrees: float) -> float:
    import math

    return math.cos(math.radians(degrees))


# --- Volunteers -----------------------------------------------------------------------


@dataclass(frozen=True)
class VolunteerFilter:
    category: str = ""
    vetted: str = ""  # "", "yes", "no"
    paused: str = ""
    area: str = ""
    room: str = ""  # "yes": can take another task now; "no": full
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> VolunteerFilter:
        yes_no = {"yes", "no"}
        page = args.get("page", "")
        return cls(
            category=text_arg(args, "category", 40),
            vetted=args.get("vetted", "") if args.get("vetted") in yes_no else "",
            paused=args.get("paused", "") if args.get("paused") in yes_no else "",
            area=text_arg(args, "area", 120),
            room=args.get("room", "") if args.get("room") in yes_no else "",
            page=min(whole_number(page, top=10**12) or 1, 100000),
        )


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


def vet(session: Session, offer: Offer, *, actor: Actor, now: dt.datetime) -> bool:
    if offer.vetted:
        return False
    offer.vetted, offer.vetted_at, offer.vetted_by = True, now, actor.id
    record(session, actor, "offer.vetted", subject_type="offers", subject_id=offer.id)
    return True


def set_paused(session: Session, offer: Offer, paused: bool, *, actor: Actor) -> bool:
    if offer.paused is paused:
        return False
    offer.paused = paused
    action = "offer.paused" if paused else "offer.resumed"
    record(session, actor, action, subject_type="offers", subject_id=offer.id, reason="coordinator")
    return True


def block(session: Session, person: Person, *, actor: Actor) -> bool:
    """Block a person: nothing more is sent to them, and they are never proposed again."""
    if person.blocked:
        return False
    person.blocked = True
    suppress_queued(session, person.id)
    record(session, actor, "person.blocked", subject_type="people", subject_id=person.id)
    return True


def reveal(session: Session, actor: Actor, *, subject_type: str, subject_id: int | None) -> None:
    """A coordinator asked to see a person's phone number and address: audited."""
    record(session, actor, "contact.revealed", subject_type=subject_type, subject_id=subject_id)


# --- Matching runs --------------------------------------------------------------------


def recent_runs(session: Session, *, limit: int = 50) -> list[MatchingRun]:
    return list(
        session.scalars(
            select(MatchingRun)
            .order_by(MatchingRun.started_at.desc(), MatchingRun.id.desc())
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


# --- Map ------------------------------------------------------------------------------


@dataclass
class MapPoint:
    x: float
    y: float
    kind: str  # "request" or "volunteer"
    category: str  # the most common in this cell
    count: int = 1

    @property
    def size(self) -> float:
        """Half the width of its mark: grows with the square root of the count, capped."""
        return round(min(3 + self.count**0.5, 8.0), 1)


def map_points(
    session: Session,
    *,
    width: int = 800,
    height: int = 600,
    cell: int = 16,
    category: str = "",
) -> list[MapPoint]:
    """Open requests and available volunteers projected into a ``width`` × ``height`` box
    (equirectangular around their centre) and counted per ``cell``-pixel square by the
    database, so neither the work nor the drawing grows with the number of people (and no
    one is pinpointed)."""
    open_requests: tuple[Any, ...] = (
        AidRequest.status == RequestStatus.OPEN,
        AidRequest.lat.is_not(None),
    )
    available: tuple[Any, ...] = (
        Offer.paused.is_(False),
        Person.blocked.is_(False),
        Offer.lat.is_not(None),
    )
    if category:
        open_requests += (AidRequest.category == category,)
        available += (
            Offer.id.in_(select(OfferCategory.offer_id).where(OfferCategory.category == category)),
        )
    bounds = [
        session.execute(
            select(
                func.min(AidRequest.lat), func.max(AidRequest.lat),
                func.min(AidRequest.lon), func.max(AidRequest.lon),
            ).where(*open_requests)
        ).one(),
        session.execute(
            select(
                func.min(Offer.lat), func.max(Offer.lat),
                func.min(Offer.lon), func.max(Offer.lon),
            )
            .join(Person, Person.id == Offer.person_id)
            .where(*available)
        ).one(),
    ]  # fmt: skip
    bounds = [b for b in bounds if b[0] is not None]
    if not bounds:
        return []
    south, north = min(b[0] for b in bounds), max(b[1] for b in bounds)
    west, east = min(b[2] for b in bounds), max(b[3] for b in bounds)
    squeeze = _cos_deg((south + north) / 2)
    span = max((north - south), (east - west) * squeeze, 0.005)
    scale = min(width, height) * 0.9 / span
    cx, cy = (west + east) / 2, (south + north) / 2

    def cells_of(lat: Any, lon: Any) -> tuple[Any, Any]:
        x = func.floor((width / 2 + (lon - cx) * (squeeze * scale)) / cell)
        y = func.floor((height / 2 - (lat - cy) * scale) / cell)
        return x.label("x"), y.label("y")

    rx, ry = cells_of(AidRequest.lat, AidRequest.lon)
    vx, vy = cells_of(Offer.lat, Offer.lon)
    rows = [
        ("request", *row)
        for row in session.execute(
            select(rx, ry, AidRequest.category, func.count())
            .where(*open_requests)
            .group_by(rx, ry, AidRequest.category)
        )
    ]
    rows += [
        ("volunteer", *row)
        for row in session.execute(
            select(vx, vy, OfferCategory.category, func.count())
            .join(Person, Person.id == Offer.person_id)
            .join(OfferCategory, OfferCategory.offer_id == Offer.id)
            .where(*available, *((OfferCategory.category == category,) if category else ()))
            .group_by(vx, vy, OfferCategory.category)
        )
    ]
    cells: dict[tuple[str, int, int], Counter[str]] = defaultdict(Counter)
    for kind, x, y, category, n in rows:
        cells[kind, int(x), int(y)][category] += n
    return [
        MapPoint(
            (ix + 0.5) * cell,
            (iy + 0.5) * cell,
            kind,
            counter.most_common(1)[0][0],
            sum(counter.values()),
        )
        for (kind, ix, iy), counter in sorted(cells.items())
    ]


# --- Figures --------------------------------------------------------------------------


@dataclass
class Figures:
    days: list[tuple[dt.date, int]]
    total: int
    served: int
    median_hours: float | None
    p90_hours: float | None
    by_category: list[tuple[str, int, int, float | None]]  # category, total, served, median h
    by_area: list[tuple[str, int, int]]  # area, total, served

    @property
    def share_served(self) -> float | None:
        return self.served / self.total if self.total else None


def figures(session: Session, *, now: dt.datetime, days: int, tz: dt.tzinfo) -> Figures:
    """Requests per day (in the network's time zone) over ``days``, the share that found a
    volunteer, and median / 90th-percentile hours from request to acceptance."""
    since = now - dt.timedelta(days=days)
    rows = session.execute(
        select(
            AidRequest.created_at,
            AidRequest.matched_at,
            AidRequest.category,
            AidRequest.location_label,
        ).where(AidRequest.created_at >= since)
    ).all()
    per_day: Counter[dt.date] = Counter()
    waits: list[float] = []
    cat_total: Counter[str] = Counter()
    cat_served: Counter[str] = Counter()
    cat_waits: dict[str, list[float]] = defaultdict(list)
    area_total: Counter[str] = Counter()
    area_served: Counter[str] = Counter()
    for created, matched, category, area in rows:
        per_day[created.astimezone(tz).date()] += 1
        cat_total[category] += 1
        area_total[area or "unknown"] += 1
        if matched is not None:
            hours = (matched - created).total_seconds() / 3600
            waits.append(hours)
            cat_waits[category].append(hours)
            cat_served[category] += 1
            area_served[area or "unknown"] += 1
    first = since.astimezone(tz).date()
    series = [
        (first + dt.timedelta(days=i), per_day[first + dt.timedelta(days=i)])
        for i in range(days + 1)
    ]
    return Figures(
        days=series,
        total=len(rows),
        served=len(waits),
        median_hours=percentile(waits, 50),
        p90_hours=percentile(waits, 90),
        by_category=[
            (c, n, cat_served[c], percentile(cat_waits[c], 50)) for c, n in cat_total.most_common()
        ],
        by_area=[(a, n, area_served[a]) for a, n in area_total.most_common(20)],
    )


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (linear interpolation); None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


# --- Audit log ------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    actor_type: str = ""
    actor_id: int | None = None
    action: str = ""
    subject_type: str = ""
    subject_id: int | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditFilter:
        def number(name: str) -> int | None:
            value = args.get(name, "")
            return whole_number(value)

        return cls(
            actor_type=args.get("actor_type", "")
            if args.get("actor_type") in {"person", "coordinator", "system"}
            else "",
            actor_id=number("actor_id"),
            action=text_arg(args, "action", 60),
            subject_type=text_arg(args, "subject_type", 40),
            subject_id=number("subject_id"),
            page=max(1, min(number("page") or 1, 100000)),
        )


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


# --- CSV export -----------------------------------------------------------------------

EXPORTS = ("requests", "volunteers", "matches")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A formula after a list separator: a spreadsheet in a locale whose separator is ";" (or
# one ignoring quotes) may cut the cell there, and the piece after it would run. A minus
# before a digit is a number ("40.68, -73.95"), not a formula.
_FORMULA_AFTER_SEPARATOR = re.compile(r"([;,]\s*)(?=[=+@\t\r]|-[^\d.\s])")


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a tab or
    carriage return) gets a leading apostrophe, and so does such text after a ; or ,
    inside the cell. (The export also quotes every cell.)"""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    text = str(value.value if hasattr(value, "value") else value)
    text = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_rows(
    session: Session, kind: str, privacy: Privacy, *, batch: int = 1000
) -> Iterator[list[str]]:
    """The header and rows of one export, streamed in batches."""
    if kind == "requests":
        yield [
            "ref",
            "status",
            "category",
            "urgency",
            "channel",
            "created_at",
            "matched_at",
            "closed_at",
            "place",
            "approx_location",
            "name",
            "phone",
            "address",
            "details",
            "flagged",
            "flag_reason",
        ]
        query = select(AidRequest).options(selectinload(AidRequest.requester))
        for r in _batches(session, query, AidRequest.id, batch):
            yield [
                safe_cell(v)
                for v in (
                    r.ref,
                    r.status,
                    r.category,
                    r.urgency,
                    r.channel,
                    r.created_at,
                    r.matched_at,
                    r.closed_at,
                    privacy.place(r),
                    privacy.coords(r.lat, r.lon),
                    r.requester.name,
                    privacy.phone(r.requester.phone),
                    privacy.address(r.address),
                    privacy.text(r.details),
                    r.flagged,
                    r.flag_reason,
                )
            ]
    elif kind == "volunteers":
        yield [
            "volunteer",
            "name",
            "phone",
            "categories",
            "place",
            "approx_location",
            "radius_km",
            "capacity",
            "availability",
            "vetted",
            "paused",
            "blocked",
            "created_at",
        ]
        query = select(Offer).options(selectinload(Offer.person))
        for o in _batches(session, query, Offer.id, batch):
            yield [
                safe_cell(v)
                for v in (
                    f"V{o.id}",
                    o.person.name,
                    privacy.phone(o.person.phone),
                    " ".join(o.categories),
                    privacy.place(o),
                    privacy.coords(o.lat, o.lon),
                    o.radius_km,
                    o.capacity,
                    privacy.text(o.availability),
                    o.vetted,
                    o.paused,
                    o.person.blocked,
                    o.created_at,
                )
            ]
    elif kind == "matches":
        yield [
            "match",
            "request_ref",
            "volunteer",
            "status",
            "km",
            "why",
            "run",
            "assigned_by",
            "proposed_at",
            "answered_at",
            "closed_at",
        ]
        query = select(Match).options(selectinload(Match.request))
        for m in _batches(session, query, Match.id, batch):
            yield [
                safe_cell(v)
                for v in (
                    m.id,
                    m.request.ref,
                    f"V{m.offer_id}",
                    m.status,
                    m.km,
                    m.why,
                    m.run_id,
                    m.assigned_by,
                    m.proposed_at,
                    m.answered_at,
                    m.closed_at,
                )
            ]
    else:
        raise ValueError(f"unknown export {kind!r}")


def _batches(session: Session, query: Any, key: Any, size: int) -> Iterator[Any]:
    """Rows of ``query`` by ascending ``key``, ``size`` at a time (keyset pagination)."""
    last = 0
    while True:
        rows = list(session.scalars(query.where(key > last).order_by(key).limit(size)))
        yield from rows
        if len(rows) < size:
            return
        last = rows[-1].id


# --- Messages -------------------------------------------------------------------------

FAILED_STATUSES = (MessageStatus.FAILED, MessageStatus.UNDELIVERED)
MAX_MESSAGE = 600


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


def retry_message(session: Session, message: Message, *, actor: Actor) -> Message | None:
    """Queue a failed message again, as a new outbox row (once per failed message); None
    when it is not a failed outbound message or was already retried."""
    if message.direction is not MessageDirection.OUTBOUND or message.status not in FAILED_STATUSES:
        return None
    again = enqueue(
        session,
        phone=message.phone,
        body=message.body,
        person_id=message.person_id,
        dedupe_key=f"retry:{message.id}",
        template=message.template,
        request_id=message.request_id,
        match_id=message.match_id,
    )
    if again is not None:
        record(session, actor, "message.retried", subject_type="messages", subject_id=message.id)
    return again


def message_person(
    session: Session,
    person: Person,
    body: str,
    *,
    actor: Actor,
    request_id: int | None = None,
    now: dt.datetime,
) -> Message | None:
    """A coordinator's own text to a person, through the outbox (not sent to someone who
    opted out or is blocked). Raises ValueError for an empty text or a person without a
    phone number."""
    body = "".join(ch for ch in body if ch in "\n" or ch.isprintable()).strip()[:MAX_MESSAGE]
    if not body:
        raise Refused("empty_message", "an empty message")
    if not person.phone:
        raise Refused("no_phone", "no phone number")
    message = enqueue(
        session,
        phone=person.phone,
        body=body,
        person_id=person.id,
        dedupe_key=f"coordinator:{actor.id}:{person.id}:{now.timestamp():.6f}",
        template="coordinator",
        request_id=request_id,
    )
    record(session, actor, "message.by_coordinator", subject_type="people", subject_id=person.id)
    return message


def flag(session: Session, req: AidRequest, reason: str, *, actor: Actor) -> bool:
    """Flag a request for coordinators' attention (or clear the flag with an empty reason)."""
    reason = "".join(ch for ch in reason if ch.isprintable()).strip()[:200]
    if req.flagged == bool(reason) and (req.flag_reason or "") == reason:
        return False
    req.flagged, req.flag_reason = bool(reason), reason or None
    record(
        session,
        actor,
        "request.flagged" if reason else "request.unflagged",
        subject_type="aid_requests",
        subject_id=req.id,
    )
    return True


def find_by_ref(session: Session, ref: str) -> AidRequest | None:
    ref = ref.strip().upper()[:12]
    return session.scalar(select(AidRequest).where(AidRequest.ref == ref)) if ref else None


def record_merge(
    session: Session, duplicate: AidRequest, into: AidRequest, *, actor: Actor
) -> None:
    """Note that ``duplicate`` (already cancelled by the caller) was merged into ``into``."""
    record(
        session,
        actor,
        "request.merged",
        subject_type="aid_requests",
        subject_id=duplicate.id,
        into=into.ref,
    )
    record(
        session,
        actor,
        "request.merged_from",
        subject_type="aid_requests",
        subject_id=into.id,
        duplicate=duplicate.ref,
    )


def edit_request(
    session: Session,
    req: AidRequest,
    *,
    category: str,
    urgency: Urgency,
    categories: Mapping[str, Any],
    actor: Actor,
) -> bool:
    """Change what is needed and how soon (an open request only; the next matching run sees
    it). Raises ValueError for an unknown category or a request no longer open."""
    if req.status is not RequestStatus.OPEN:
        raise Refused("not_open", "only an open request can be edited")
    if category not in categories:
        raise Refused("unknown_category", "unknown category")
    changes = {}
    if req.category != category:
        changes["category"] = f"{req.category} -> {category}"
        req.category = category
    if req.urgency is not urgency:
        changes["urgency"] = f"{req.urgency.value} -> {urgency.value}"
        req.urgency = urgency
    if changes:
        record(
            session, actor, "request.edited", subject_type="aid_requests", subject_id=req.id,
            **changes,
        )  # fmt: skip
    return bool(changes)
