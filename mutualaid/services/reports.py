"""What the network achieved, and where: figures (requests per day, share served, time to
acceptance, by category and by area; texts sent and their SMS segments) and the map's
counts per cell."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mutualaid.models import (
    AidRequest,
    Message,
    MessageDirection,
    Offer,
    OfferCategory,
    Person,
    RequestStatus,
)


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


@dataclass(frozen=True)
class MapLabel:
    x: float
    y: float
    name: str


@dataclass
class MapView:
    points: list[MapPoint]
    labels: list[MapLabel]


def map_view(
    session: Session, *, width: int = 800, height: int = 600, cell: int = 16, category: str = ""
) -> MapView:
    """The map's marks (:func:`map_points`) and, where they are drawn, the gazetteer's
    neighbourhoods as labels, so coordinators can tell where the marks are (no map service
    contacted)."""
    from mutualaid.models import Place

    points, projection = _map_points(
        session, width=width, height=height, cell=cell, category=category
    )
    if projection is None:
        return MapView(points, [])
    labels = []
    for place in session.scalars(select(Place).where(Place.kind == "neighbourhood")):
        x, y = projection(place.lat, place.lon)
        if 20 <= x <= width - 20 and 12 <= y <= height - 6:
            labels.append(MapLabel(round(x, 1), round(y, 1), place.name))
    return MapView(points, labels)


def map_points(
    session: Session,
    *,
    width: int = 800,
    height: int = 600,
    cell: int = 16,
    category: str = "",
) -> list[MapPoint]:
    """Open requests and available volunteers, counted per cell: see _map_points."""
    return _map_points(session, width=width, height=height, cell=cell, category=category)[0]


def _map_points(
    session: Session,
    *,
    width: int,
    height: int,
    cell: int,
    category: str,
) -> tuple[list[MapPoint], Any]:
    """Open requests and available volunteers projected into a ``width`` × ``height`` box
    (equirectangular around their centre) and counted per ``cell``-pixel square by the
    database, so neither the work nor the drawing grows with the number of people (and no
    one is pinpointed); each volunteer once, whatever the number of their categories. With
    the points, the projection (lat, lon) -> (x, y), or None when there is nothing."""
    open_requests: tuple[Any, ...] = (
        AidRequest.status == RequestStatus.OPEN,
        AidRequest.lat.is_not(None),
    )
    available: tuple[Any, ...] = (
        Offer.paused.is_(False),
        Person.blocked.is_(False),
        Person.opted_out.is_(False),
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
        return [], None
    south, north = min(b[0] for b in bounds), max(b[1] for b in bounds)
    west, east = min(b[2] for b in bounds), max(b[3] for b in bounds)
    squeeze = math.cos(math.radians((south + north) / 2))
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
    # A volunteer offering three categories is one volunteer: counted once per cell (their
    # categories only choose the cell's most common one).
    volunteers = {
        (int(x), int(y)): n
        for x, y, n in session.execute(
            select(vx, vy, func.count(func.distinct(Offer.id)))
            .join(Person, Person.id == Offer.person_id)
            .where(*available)
            .group_by(vx, vy)
        )
    }
    cells: dict[tuple[str, int, int], Counter[str]] = defaultdict(Counter)
    for kind, x, y, category, n in rows:
        cells[kind, int(x), int(y)][category] += n
    points = [
        MapPoint(
            (ix + 0.5) * cell,
            (iy + 0.5) * cell,
            kind,
            counter.most_common(1)[0][0],
            volunteers.get((ix, iy), 0) if kind == "volunteer" else sum(counter.values()),
        )
        for (kind, ix, iy), counter in sorted(cells.items())
    ]

    def project(lat: float, lon: float) -> tuple[float, float]:
        return width / 2 + (lon - cx) * squeeze * scale, height / 2 - (lat - cy) * scale

    return points, project


@dataclass
class Figures:
    days: list[tuple[dt.date, int]]
    total: int
    served: int
    median_hours: float | None
    p90_hours: float | None
    by_category: list[tuple[str, int, int, float | None]]  # category, total, served, median h
    by_area: list[tuple[str, int, int]]  # area, total, served
    # Texts sent: per day (SMS texts, their segments, WhatsApp texts) and per template
    # (SMS texts, segments, the most one text cost), the costliest first.
    texts_days: list[tuple[dt.date, int, int, int]] = field(default_factory=list)
    texts_by_template: list[tuple[str, int, int, int]] = field(default_factory=list)

    @property
    def segments_sent(self) -> int:
        return sum(n for _, _, n, _ in self.texts_days)

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
    texts_days, texts_by_template = _texts_sent(session, since=since, days=days, tz=tz)
    return Figures(
        texts_days=texts_days,
        texts_by_template=texts_by_template,
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


def _texts_sent(
    session: Session, *, since: dt.datetime, days: int, tz: dt.tzinfo
) -> tuple[list[tuple[dt.date, int, int, int]], list[tuple[str, int, int, int]]]:
    """What the texts sent since ``since`` cost: SMS segments (counted when each was
    queued) per day in the network's time zone and per template; WhatsApp texts per day."""
    rows = session.execute(
        select(Message.sent_at, Message.template, Message.segments, Message.channel).where(
            Message.direction == MessageDirection.OUTBOUND,
            Message.sent_at.is_not(None),
            Message.sent_at >= since,
        )
    ).all()
    sms_texts: Counter[dt.date] = Counter()
    sms_segments: Counter[dt.date] = Counter()
    whatsapp: Counter[dt.date] = Counter()
    t_texts: Counter[str] = Counter()
    t_segments: Counter[str] = Counter()
    t_most: Counter[str] = Counter()
    for sent_at, template, cost, channel in rows:
        day = sent_at.astimezone(tz).date()
        if channel == "whatsapp":
            whatsapp[day] += 1
            continue
        key, cost = template or "-", cost or 0
        sms_texts[day] += 1
        sms_segments[day] += cost
        t_texts[key] += 1
        t_segments[key] += cost
        t_most[key] = max(t_most[key], cost)
    first = since.astimezone(tz).date()
    per_day = [first + dt.timedelta(days=i) for i in range(days + 1)]
    return (
        [(d, sms_texts[d], sms_segments[d], whatsapp[d]) for d in per_day],
        [(k, t_texts[k], n, t_most[k]) for k, n in t_segments.most_common()],
    )


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (linear interpolation); None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
