"""Matching runs: a snapshot of open requests and free volunteers, the engine's solve with
no transaction open, then one conditional proposal per pair.

:func:`run_matching` does the three in order: reading happens in one short read-only
transaction, solving in none, writing in the caller's unit of work (a worker job passes
a ``checkpoint`` that commits every few pairs). A pair whose request was assigned,
cancelled or proposed meanwhile, or whose volunteer filled up or paused, is skipped by
``lifecycle.propose`` — a run never creates a stale proposal. Runs are serialised by one
lock (:func:`run_lock`), which the boundary holds until its commit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, exists, func, select, text
from sqlalchemy.orm import Session

import matching
from mutualaid.db import READ_ONLY, has_written
from mutualaid.models import (
    LIVE_MATCH_STATUSES,
    AidRequest,
    Match,
    MatchingRun,
    MatchStatus,
    Offer,
    OfferCategory,
    Person,
    RequestStatus,
    utcnow,
)
from mutualaid.services import lifecycle
from mutualaid.services.audit import Actor
from mutualaid.services.catalogues import Category
from mutualaid.services.notify import SmsContext

# Advisory-lock key that serialises matching runs on PostgreSQL ("MATCHRUN").
PG_RUN_LOCK = 0x4D41544348

REFUSED = (MatchStatus.DECLINED, MatchStatus.EXPIRED)


@dataclass(frozen=True)
class RunSettings:
    engine: matching.Settings
    load_window: dt.timedelta
    load_penalty_km: float
    unreliability_penalty_km: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RunSettings:
        return cls(
            engine=matching.Settings(
                max_km=config["MAX_KM"],
                urgency_points={
                    "normal": config["URGENCY_POINTS_NORMAL"],
                    "soon": config["URGENCY_POINTS_SOON"],
                    "urgent": config["URGENCY_POINTS_URGENT"],
                },
                wait_points_per_day=config["WAIT_POINTS_PER_DAY"],
                max_wait_points=config["MAX_WAIT_POINTS"],
            ),
            load_window=dt.timedelta(days=config["LOAD_WINDOW_DAYS"]),
            load_penalty_km=config["LOAD_PENALTY_KM"],
            unreliability_penalty_km=config["UNRELIABILITY_PENALTY_KM"],
        )


@dataclass(frozen=True)
class Snapshot:
    """What a run sees: plain records for the engine, read in one transaction."""

    taken_at: dt.datetime
    needs: list[matching.Need]
    volunteers: list[matching.Volunteer]
    # Open requests the engine cannot consider (no location yet), for the report.
    unlocated: int = 0


@dataclass
class Plan:
    snapshot: Snapshot
    result: matching.Result
    proposed: list[int] = field(default_factory=list)


def take_snapshot(
    session: Session,
    *,
    categories: Mapping[str, Category],
    settings: RunSettings,
    now: dt.datetime,
    only_requests: set[int] | None = None,
) -> Snapshot:
    """Open requests without a live match (each with the volunteers it must never be
    proposed again), and volunteers with free capacity who are neither paused, opted out
    nor blocked; imported people still waiting for their opt-in are in neither. Read-only."""
    live = exists().where(
        and_(Match.request_id == AidRequest.id, Match.status.in_(LIVE_MATCH_STATUSES))
    )
    query = select(AidRequest).where(
        AidRequest.status == RequestStatus.OPEN,
        ~live,
        AidRequest.lat.is_not(None),
        # an imported request waits for its requester's YES
        ~AidRequest.requester.has(Person.awaiting_opt_in.is_(True)),
    )
    if only_requests is not None:
        query = query.where(AidRequest.id.in_(only_requests))
    requests = list(session.scalars(query.order_by(AidRequest.id)))
    unlocated = session.scalar(
        select(func.count())
        .select_from(AidRequest)
        .where(AidRequest.status == RequestStatus.OPEN, AidRequest.lat.is_(None))
    )
    excluded: dict[int, set[str]] = defaultdict(set)
    for request_id, offer_id in session.execute(
        select(Match.request_id, Match.offer_id).where(Match.status.in_(REFUSED))
    ):
        excluded[request_id].add(f"v{offer_id}")
    needs = [
        matching.Need(
            id=f"r{r.id}",
            lat=r.lat,
            lon=r.lon,
            category=r.category,
            urgency=r.urgency.value,
            waited_hours=max(0.0, (now - r.created_at).total_seconds() / 3600),
            exclude=tuple(sorted(excluded.get(r.id, ()))),
            needs_vetted=categories[r.category].needs_vetting
            if r.category in categories
            else False,
        )
        for r in requests
    ]
    return Snapshot(now, needs, _volunteers(session, settings, now), unlocated)


def _volunteers(
    session: Session, settings: RunSettings, now: dt.datetime
) -> list[matching.Volunteer]:
    load = dict(
        session.execute(
            select(Match.offer_id, func.count())
            .where(Match.status.in_(LIVE_MATCH_STATUSES))
            .group_by(Match.offer_id)
        ).all()
    )
    since = now - settings.load_window
    recent: dict[int, dict[MatchStatus, int]] = defaultdict(lambda: defaultdict(int))
    for offer_id, status, count in session.execute(
        select(Match.offer_id, Match.status, func.count())
        .where(Match.proposed_at >= since)
        .group_by(Match.offer_id, Match.status)
    ):
        recent[offer_id][status] = count
    categories: dict[int, list[str]] = defaultdict(list)
    for offer_id, category in session.execute(
        select(OfferCategory.offer_id, OfferCategory.category)
    ):
        categories[offer_id].append(category)
    rows = session.execute(
        select(Offer.id, Offer.lat, Offer.lon, Offer.radius_km, Offer.capacity, Offer.vetted)
        .join(Person, Person.id == Offer.person_id)
        .where(
            Offer.paused.is_(False),
            Offer.lat.is_not(None),
            Person.opted_out.is_(False),
            Person.blocked.is_(False),
            Person.awaiting_opt_in.is_(False),
        )
        .order_by(Offer.id)
    )
    volunteers = []
    for offer_id, lat, lon, radius_km, capacity, vetted in rows:
        free = capacity - load.get(offer_id, 0)
        if free <= 0 or not categories[offer_id]:
            continue
        volunteers.append(
            matching.Volunteer(
                id=f"v{offer_id}",
                lat=lat,
                lon=lon,
                categories=tuple(sorted(categories[offer_id])),
                radius_km=radius_km,
                capacity=free,
                vetted=vetted,
                penalty=fairness_penalty(recent[offer_id], settings),
            )
        )
    return volunteers


def fairness_penalty(recent: Mapping[MatchStatus, int], settings: RunSettings) -> float:
    """Extra km-equivalent cost for a volunteer, so the same few are not asked every time:
    per task taken in the load window, and per unit of unreliability (the share of their
    recent proposals they let expire)."""
    tasks = recent.get(MatchStatus.ACCEPTED, 0) + recent.get(MatchStatus.COMPLETED, 0)
    answered = tasks + recent.get(MatchStatus.DECLINED, 0) + recent.get(MatchStatus.CANCELLED, 0)
    expired = recent.get(MatchStatus.EXPIRED, 0)
    unreliability = expired / (answered + expired) if answered + expired else 0.0
    return settings.load_penalty_km * tasks + settings.unreliability_penalty_km * unreliability


def solve(snapshot: Snapshot, settings: RunSettings) -> Plan:
    """Run the engine on the snapshot; touches no database."""
    return Plan(snapshot, matching.solve(snapshot.needs, snapshot.volunteers, settings.engine))


# Pairs proposed between two checkpoints of apply_plan.
CHECKPOINT_PAIRS = 5


def apply_plan(
    session: Session,
    ctx: SmsContext,
    plan: Plan,
    *,
    trigger: str,
    triggered_by: int | None = None,
    dry_run: bool = False,
    started_at: dt.datetime,
    link_for: Any = None,
    checkpoint: Callable[[], None] | None = None,
    keep_preview: bool = False,
) -> MatchingRun:
    """Record the run and (unless ``dry_run``) propose each pair that is still possible;
    a dry run is recorded only with ``keep_preview`` (a review run: its pairs and
    unmatched kept for a coordinator to send). Flushes; the caller commits.
    ``checkpoint``, when given, is called after every CHECKPOINT_PAIRS pairs: a job
    commits there, so that a run proposing thousands of pairs does not hold SQLite's
    write lock (and the webhooks) for its whole length; each proposal stands on its own,
    so a run stopped part-way leaves nothing half-done."""
    result = plan.result
    run = MatchingRun(
        started_at=started_at,
        trigger=trigger,
        triggered_by=triggered_by,
        dry_run=dry_run,
        requests_considered=len(plan.snapshot.needs),
        volunteers_considered=len(plan.snapshot.volunteers),
        unmatched=len(result.unmatched),
        solve_seconds=result.stats.seconds,
        proven_optimal=result.stats.proven_optimal,
    )
    if keep_preview and dry_run:
        run.preview = {
            "pairs": [
                [int(p.need[1:]), int(p.volunteer[1:]), round(p.km, 3), p.why] for p in result.pairs
            ],
            "unmatched": [[int(u.need[1:]), u.reason, u.detail] for u in result.unmatched],
            "total_km": round(result.stats.total_km, 3),
        }
    if not dry_run or keep_preview:  # a coordinator's preview is shown, never stored
        session.add(run)
        session.flush()
    total_km = 0.0
    if not dry_run:
        expires_at = ctx.now + ctx.proposal_ttl
        actor = Actor.coordinator(triggered_by) if triggered_by else Actor.system()
        for n, pair in enumerate(result.pairs):
            req = session.get(AidRequest, int(pair.need[1:]))
            offer = session.get(Offer, int(pair.volunteer[1:]))
            if req is None or offer is None:
                continue
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
            if match is not None:
                plan.proposed.append(match.id)
                total_km += pair.km
            if checkpoint is not None and (n + 1) % CHECKPOINT_PAIRS == 0:
                checkpoint()
    run.proposed = len(plan.proposed)
    run.total_km = round(total_km if not dry_run else result.stats.total_km, 3)
    run.finished_at = ctx.now
    return run


@contextlib.contextmanager
def run_lock(engine: Engine) -> Iterator[bool]:
    """Serialise matching runs across processes, whether a run commits once or in steps:
    PostgreSQL's advisory lock, held by a connection of its own (no transaction is held
    open for it) until the block ends; yields False when another run holds it. On SQLite,
    BEGIN IMMEDIATE makes every write phase the only writer, and each proposal is a
    conditional write, so two overlapping runs cannot double-propose."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_RUN_LOCK}))
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_RUN_LOCK})


REVIEW = "review"  # the trigger of a worker's run in review mode


def run_is_due(
    session: Session,
    *,
    now: dt.datetime,
    interval_seconds: float,
    debounce_seconds: float,
    review: bool = False,
) -> bool:
    """Whether the periodic run is due: every ``interval_seconds``, and sooner (after
    ``debounce_seconds``) when a request, offer or match changed since the last run (in
    review mode, a review run that prepared a preview counts as a run)."""
    counted = MatchingRun.dry_run.is_(False)
    if review:
        counted = counted | (MatchingRun.trigger == REVIEW)
    last = session.scalar(select(func.max(MatchingRun.started_at)).where(counted))
    if last is None:
        return True
    age = (now - last).total_seconds()
    # Anything newer than the last run: a request or offer created or changed (both set
    # updated_at), or a proposal declined or expired (closed_at). One query.
    latest = session.execute(
        select(
            select(func.max(AidRequest.updated_at)).scalar_subquery(),
            select(func.max(Offer.updated_at)).scalar_subquery(),
            select(func.max(Match.closed_at)).scalar_subquery(),
        )
    ).one()
    changed = any(when is not None and when > last for when in latest)
    return age >= interval_seconds or (changed and age >= debounce_seconds)


def run_matching(
    session: Session,
    ctx: SmsContext,
    settings: RunSettings,
    *,
    trigger: str,
    triggered_by: int | None = None,
    dry_run: bool = False,
    only_requests: set[int] | None = None,
    link_for: Callable[[Match], str] | None = None,
    checkpoint: Callable[[], None] | None = None,
    keep_preview: bool = False,
) -> tuple[MatchingRun, Plan]:
    """One matching run: the snapshot, the solve, then (unless ``dry_run``) the proposals;
    a dry run with ``keep_preview`` stores its run and preview (review mode).

    The caller holds :func:`run_lock`. The run ends the transaction it is called in (it
    may only have read: nothing of the caller's can be pending), reads the snapshot in a
    read-only transaction (on SQLite without the write lock, so webhooks keep storing)
    and ends it, so no transaction is open during the solve; the proposals are written
    in the caller's unit of work, which commits them (and calls ``checkpoint``, when
    given, after every CHECKPOINT_PAIRS pairs)."""
    _end_reading(session)
    session.connection(execution_options=READ_ONLY)
    started_at = ctx.now
    snapshot = take_snapshot(
        session,
        categories=ctx.categories,
        settings=settings,
        now=started_at,
        only_requests=only_requests,
    )
    _end_reading(session)
    plan = solve(snapshot, settings)
    run = apply_plan(
        session,
        ctx,
        plan,
        trigger=trigger,
        triggered_by=triggered_by,
        dry_run=dry_run,
        started_at=started_at,
        link_for=link_for,
        checkpoint=checkpoint,
        keep_preview=keep_preview,
    )
    run.finished_at = utcnow()  # when its last proposal was written
    return run, plan


def prepared_preview(session: Session) -> MatchingRun | None:
    """The latest review run's prepared preview, unless a run has proposed since (then it is
    stale: a coordinator previews afresh)."""
    latest = session.scalars(
        select(MatchingRun)
        .where((MatchingRun.dry_run.is_(False)) | (MatchingRun.trigger == REVIEW))
        .order_by(MatchingRun.started_at.desc(), MatchingRun.id.desc())
        .limit(1)
    ).first()
    if latest is None or latest.trigger != REVIEW or latest.preview is None:
        return None
    return latest


def _end_reading(session: Session) -> None:
    if has_written(session):
        raise RuntimeError("a matching run must start with nothing written in its transaction")
    session.rollback()


def describe(plan: Plan) -> list[str]:
    """Lines a coordinator can read: each proposed pair and why, each unmatched request and why."""
    lines = [f"{p.need} -> {p.volunteer}: {p.km:.2f} km. {p.why}" for p in plan.result.pairs]
    lines += [f"{u.need} unmatched ({u.reason}): {u.detail}" for u in plan.result.unmatched]
    return lines
