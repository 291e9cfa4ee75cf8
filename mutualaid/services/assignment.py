"""Assigning a volunteer by hand: who could take a request now (nearest first, with
their load), and the assignment itself — the same for the dashboard and the API."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import matching
from mutualaid.models import LIVE_MATCH_STATUSES, AidRequest, Match, Offer, OfferCategory, Person
from mutualaid.services import lifecycle
from mutualaid.services.audit import Actor
from mutualaid.services.details import offers_by_id
from mutualaid.services.errors import Conflict
from mutualaid.services.notify import SmsContext


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
    dlon = max_km / max(1.0, 111.0 * abs(math.cos(math.radians(req.lat))))
    rows = session.execute(
        select(Offer.id, Offer.lat, Offer.lon, Offer.radius_km, Offer.capacity)
        .join(Person, Person.id == Offer.person_id)
        .join(OfferCategory, OfferCategory.offer_id == Offer.id)
        .where(
            OfferCategory.category == req.category,
            Offer.paused.is_(False),
            Person.blocked.is_(False),
            Person.opted_out.is_(False),
            Person.awaiting_opt_in.is_(False),
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


def assign(
    session: Session,
    ctx: SmsContext,
    req: AidRequest,
    offer_id: int,
    *,
    max_km: float,
    actor: Actor,
    agreed: bool = False,
    link_for: Callable[[Match], str] | None = None,
) -> tuple[Match, float]:
    """Assign volunteer ``offer_id`` to ``req``: proposed to them by SMS (their YES makes
    it theirs, silence expires it like any proposal), or accepted at once when ``agreed``
    (they already told the coordinator yes); the match and its km. Raises Conflict when
    that volunteer cannot take it now (category, distance, load, paused) or the request
    changed meanwhile; then nothing was assigned."""
    options = candidates(session, req, max_km=max_km, limit=10_000)
    chosen = next((c for c in options if c.offer.id == offer_id), None)
    if chosen is None:
        raise Conflict("assign_cannot", "that volunteer cannot take this request now")
    match = lifecycle.assign(
        session, ctx, req, chosen.offer, actor=actor, km=chosen.km, agreed=agreed,
        link_for=link_for,
    )  # fmt: skip
    if match is None:
        raise Conflict("assign_too_late", "the request changed meanwhile; nothing was assigned")
    return match, chosen.km
