"""A matching preview sent exactly as a coordinator saw it, minus the pairs they unchecked.

The engine's plan was optimal; any subset of it is still a valid plan (each pair was
feasible, and dropping pairs never breaks a volunteer's capacity), so the checked pairs are
proposed as they were shown — no new solve, and the unchecked requests simply stay open.
What may have changed since the preview is checked again pair by pair, and a pair that is
no longer possible is skipped with the reason, never replaced by another. Each proposal
goes through ``lifecycle.propose`` (row locks, the conditional write and the one-live-match
index), so a preview sent twice, or racing a scheduled run, never double-proposes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session, selectinload

import matching
from mutualaid.models import (
    LIVE_MATCH_STATUSES,
    AidRequest,
    Match,
    MatchingRun,
    Offer,
    RequestStatus,
)
from mutualaid.services import lifecycle
from mutualaid.services.audit import Actor, record
from mutualaid.services.catalogues import Category
from mutualaid.services.matching_runs import REFUSED, Plan
from mutualaid.services.notify import SmsContext

KM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class PreviewPair:
    """One proposed pair as the preview showed it."""

    request_id: int
    offer_id: int
    km: float
    why: str

    def as_list(self) -> list:
        """Compact, for signing into the page (km to the metre)."""
        return [self.request_id, self.offer_id, round(self.km, 3), self.why]

    @classmethod
    def from_list(cls, row: list) -> PreviewPair:
        """Raises ValueError for anything but [int, int, number, str]."""
        if not (
            isinstance(row, list)
            and len(row) == 4
            and all(isinstance(v, int) and not isinstance(v, bool) for v in row[:2])
            and isinstance(row[2], int | float)
            and isinstance(row[3], str)
        ):
            raise ValueError("not a previewed pair")
        return cls(row[0], row[1], float(row[2]), row[3])


def pairs_of(plan: Plan) -> list[PreviewPair]:
    return [
        PreviewPair(int(p.need[1:]), int(p.volunteer[1:]), p.km, p.why) for p in plan.result.pairs
    ]


@dataclass(frozen=True)
class Skipped:
    """A kept pair not proposed: ``reason`` names what changed (a key of the catalogues'
    ``dash.skip_reason``), ``values`` fill in its sentence."""

    pair: PreviewPair
    ref: str | None
    reason: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Sent:
    run: MatchingRun
    proposed: list[Match]
    skipped: list[Skipped]


def send_previewed(
    session: Session,
    ctx: SmsContext,
    pairs: Iterable[PreviewPair],
    *,
    categories: Mapping[str, Category],
    max_km: float,
    actor: Actor,
    started_at: dt.datetime,
    link_for: Callable[[Match], str] | None = None,
) -> Sent:
    """Propose each of ``pairs`` (the previewed pairs the coordinator kept, in the preview's
    order) that is still possible, and record the run. Flushes; the caller commits."""
    chosen = list({p.request_id: p for p in pairs}.values())  # one pair per request
    request_ids = [p.request_id for p in chosen]
    offer_ids = sorted({p.offer_id for p in chosen})
    requests = {
        r.id: r for r in session.scalars(select(AidRequest).where(AidRequest.id.in_(request_ids)))
    }
    offers = {
        o.id: o
        for o in session.scalars(
            select(Offer).options(selectinload(Offer.person)).where(Offer.id.in_(offer_ids))
        )
    }
    busy_requests = set(
        session.scalars(
            select(Match.request_id).where(
                Match.request_id.in_(request_ids), Match.status.in_(LIVE_MATCH_STATUSES)
            )
        )
    )
    refused = set(
        session.execute(
            select(Match.request_id, Match.offer_id).where(
                tuple_(Match.request_id, Match.offer_id).in_(
                    [(p.request_id, p.offer_id) for p in chosen]
                ),
                Match.status.in_(REFUSED),
            )
        ).all()
    ) if chosen else set()  # fmt: skip
    load = dict(
        session.execute(
            select(Match.offer_id, func.count())
            .where(Match.offer_id.in_(offer_ids), Match.status.in_(LIVE_MATCH_STATUSES))
            .group_by(Match.offer_id)
        ).all()
    )
    run = MatchingRun(
        started_at=started_at,
        trigger="coordinator",
        triggered_by=actor.id,
        dry_run=False,
        requests_considered=len(chosen),
        volunteers_considered=len(offer_ids),
        solve_seconds=0.0,
        proven_optimal=None,  # not a solve: a subset of a previewed optimal plan
    )
    session.add(run)
    session.flush()
    proposed: list[Match] = []
    skipped: list[Skipped] = []
    expires_at = ctx.now + ctx.proposal_ttl
    for pair in chosen:
        req, offer = requests.get(pair.request_id), offers.get(pair.offer_id)
        reason = _why_not(
            pair,
            req,
            offer,
            busy=pair.request_id in busy_requests,
            refused=(pair.request_id, pair.offer_id) in refused,
            load=load.get(pair.offer_id, 0),
            categories=categories,
            max_km=max_km,
        )
        match = None
        if reason is None:
            assert req is not None and offer is not None
            match = lifecycle.propose(
                session,
                ctx,
                req,
                offer,
                km=pair.km,
                why=pair.why,
                expires_at=expires_at,
                run_id=run.id,
                actor=actor,
                link_for=link_for,
            )
            reason = None if match is not None else ("raced", {})
        if match is None:
            assert reason is not None
            skipped.append(Skipped(pair, req.ref if req else None, *reason))
            continue
        proposed.append(match)
        load[pair.offer_id] = load.get(pair.offer_id, 0) + 1
    run.proposed = len(proposed)
    run.unmatched = len(skipped)
    run.total_km = round(sum(m.km or 0.0 for m in proposed), 3)
    run.finished_at = ctx.now
    record(
        session,
        actor,
        "matching.sent_as_previewed",
        subject_type="matching_runs",
        subject_id=run.id,
        kept=len(chosen),
        proposed=len(proposed),
        skipped=[[s.pair.request_id, s.pair.offer_id, s.reason] for s in skipped],
    )
    session.flush()
    return Sent(run, proposed, skipped)


def _why_not(
    pair: PreviewPair,
    req: AidRequest | None,
    offer: Offer | None,
    *,
    busy: bool,
    refused: bool,
    load: int,
    categories: Mapping[str, Category],
    max_km: float,
) -> tuple[str, dict[str, Any]] | None:
    """Why ``pair`` can no longer be proposed (what changed since the preview: a key of
    ``dash.skip_reason`` and its values), or None."""
    if req is None:
        return "request_gone", {}
    if offer is None:
        return "volunteer_gone", {}
    if req.status is not RequestStatus.OPEN:
        return "request_state", {"state": req.status.value}
    if busy:
        return "request_busy", {}
    person = offer.person
    if person.blocked:
        return "blocked", {}
    if person.opted_out:
        return "opted_out", {}
    if offer.paused:
        return "paused", {}
    if refused:
        return "refused", {}
    if req.category not in offer.categories:
        return "category", {}
    category = categories.get(req.category)
    if category is not None and category.needs_vetting and not offer.vetted:
        return "vetting", {}
    if None in (req.lat, req.lon, offer.lat, offer.lon):
        return "location", {}
    km = float(
        matching.great_circle_km(
            matching.unit_vectors([req.lat], [req.lon]),
            matching.unit_vectors([offer.lat], [offer.lon]),
        )[0]
    )
    if km > min(offer.radius_km, max_km) + KM_TOLERANCE:
        return "reach", {"km": f"{km:.1f}"}
    if load >= offer.capacity:
        return "capacity", {}
    return None
