"""A synthetic day in the demo city, run through the real services on a virtual clock.

Requests and offers arrive over the day; the services the worker's jobs call run as
they would (matching every MATCH_INTERVAL_SECONDS, the expiry sweep, escalation), each
event in a unit of work of its own; volunteers answer each proposal YES or NO after a
random delay, or never (it expires); accepted tasks are done a few hours later. Prints
what a coordinator would want to know about the day.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from mutualaid import adapters
from mutualaid.extensions import db
from mutualaid.models import AidRequest, Channel, Match, MatchStatus, RequestStatus, Urgency
from mutualaid.models import base as clock
from mutualaid.services import escalation, expiry, lifecycle, matching_runs
from mutualaid.services.audit import Actor
from mutualaid.services.intake import NewOffer, NewRequest, create_request, save_offer
from mutualaid.services.location import Gazetteer, Resolver, load_places, read_places_file
from mutualaid.unit_of_work import unit_of_work


@dataclass(frozen=True)
class DayPlan:
    requests: int = 150
    volunteers: int = 60
    late_volunteers: int = 15  # offers arriving during the day
    hours: float = 24.0
    p_yes: float = 0.55
    p_no: float = 0.25  # the rest never answer: the proposal expires
    answer_minutes: float = 12.0  # mean delay of an answer
    task_hours: float = 3.0  # mean time from YES to DONE
    seed: int = 1


@dataclass
class DayReport:
    requests: int
    served: int
    completed: int
    minutes_to_accept: list[float]
    proposals: int
    proposals_to_served: int
    escalated: int
    runs: int
    seconds_solving: float
    lines: list[str] = field(default_factory=list)

    def summary(self) -> str:
        times = sorted(self.minutes_to_accept)
        median = statistics.median(times) if times else float("nan")
        p90 = times[min(len(times) - 1, math.ceil(0.9 * len(times)) - 1)] if times else float("nan")
        per_served = self.proposals_to_served / self.served if self.served else float("nan")
        n = self.requests
        return "\n".join(
            [
                f"requests arrived          {n}",
                f"served (a volunteer said yes) {self.served} ({self.served / n:.0%})",
                f"completed by end of day   {self.completed}",
                f"time to acceptance        median {median:.0f} min, 90th percentile {p90:.0f} min",
                f"proposals per served request {per_served:.2f} ({self.proposals} in all)",
                f"escalated to coordinators {self.escalated} ({self.escalated / n:.0%})",
                f"matching runs             {self.runs} ({self.seconds_solving:.2f} s solving)",
            ]
        )


def simulate_day(app: Flask, plan: DayPlan, places_file: Path) -> DayReport:
    """Run the day on ``app``'s (empty, migrated) database; returns the figures."""
    rng = random.Random(plan.seed)
    start = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)
    now = [start]
    clock.set_clock(lambda: now[0])
    events: list[tuple[dt.datetime, int, str, Callable[[], None]]] = []
    counter = [0]

    def at(when: dt.datetime, label: str, action: Callable[[], None]) -> None:
        counter[0] += 1
        heapq.heappush(events, (when, counter[0], label, action))

    try:
        with app.app_context():
            entries = read_places_file(places_file)
            with unit_of_work() as unit:
                load_places(unit.session, entries)
            hoods = [p for p in entries if p.kind == "neighbourhood"][:20]
            resolver = Resolver(Gazetteer(entries))
            keys = list(app.extensions["categories"])
            weights = [5, 3, 4, 2, 1, 2, 2, 1][: len(keys)] + [1] * max(0, len(keys) - 8)

            def point(spread_km: float) -> str:
                place = rng.choice(hoods)
                r, a = spread_km * math.sqrt(rng.random()), rng.random() * 2 * math.pi
                lat = place.lat + r * math.cos(a) / 111.0
                lon = place.lon + r * math.sin(a) / (111.0 * math.cos(math.radians(place.lat)))
                return f"{lat:.5f},{lon:.5f}"

            def new_offer(i: int) -> None:
                with unit_of_work() as unit:
                    _new_offer(unit.session, i)

            def _new_offer(session, i: int) -> None:
                offer = save_offer(
                    session,
                    NewOffer(
                        phone=f"+1347{5550000 + i:07d}"[:12],
                        categories=tuple(rng.sample(keys, rng.randint(1, 3))),
                        location_text=point(1.5),
                        radius_km=rng.choice([2.0, 3.0, 5.0, 8.0]),
                        capacity=rng.choice([1, 1, 2, 3]),
                    ),
                    resolver=resolver,
                    categories=keys,
                )
                offer.vetted = rng.random() < 0.6

            def new_request(i: int) -> None:
                with unit_of_work() as unit:
                    _new_request(unit.session, i)

            def _new_request(session, i: int) -> None:
                create_request(
                    session,
                    NewRequest(
                        phone=f"+1929{5550000 + i:07d}"[:12],
                        category=rng.choices(keys, weights)[0],
                        location_text=point(1.0),
                        urgency=rng.choices(list(Urgency), [6, 3, 1])[0],
                        channel=Channel.SMS,
                    ),
                    resolver=resolver,
                    categories=keys,
                )

            for i in range(plan.volunteers):
                new_offer(i)
            day = dt.timedelta(hours=plan.hours)
            for i in range(plan.late_volunteers):
                at(start + day * rng.random(), "offer", lambda i=i: new_offer(plan.volunteers + i))
            for i in range(plan.requests):
                # More requests in the morning and in the evening.
                share = rng.choice([rng.gauss(0.17, 0.08), rng.gauss(0.5, 0.12), rng.random()])
                when = start + day * min(max(share, 0.0), 0.99)
                at(when, "request", lambda i=i: new_request(i))

            answered: set[int] = set()
            runs = 0
            solving = 0.0
            interval = dt.timedelta(seconds=app.config["MATCH_INTERVAL_SECONDS"])
            settings = matching_runs.RunSettings.from_config(app.config)
            escalating = escalation.EscalationSettings.from_config(app.config)
            step = dt.timedelta(minutes=1)
            next_run = start
            while now[0] < start + day:
                while events and events[0][0] <= now[0]:
                    _, _, _, action = heapq.heappop(events)
                    action()
                _expire_overdue(app)
                if now[0] >= next_run:
                    with unit_of_work() as unit:
                        run, made = matching_runs.run_matching(
                            unit.session, adapters.sms_context(), settings, trigger="simulation"
                        )
                    runs += 1
                    solving += run.solve_seconds
                    _schedule_answers(rng, plan, made.proposed, answered, at, now[0])
                    next_run = now[0] + interval
                if now[0].minute % 10 == 0:
                    with unit_of_work() as unit:
                        escalation.escalate(unit.session, adapters.sms_context(), escalating)
                now[0] += step
            adapters.sms_context()  # the catalogue still loads after the day (sanity)
            return _report(plan, runs, solving)
    finally:
        clock.set_clock(None)


def _expire_overdue(app: Flask) -> None:
    with unit_of_work() as unit:
        overdue = expiry.overdue(unit.session, now=clock.utcnow())
    for match_id in overdue:
        with unit_of_work() as unit:
            expiry.expire_overdue(
                unit.session,
                adapters.sms_context(),
                match_id,
                pause_after=app.config["PAUSE_AFTER_EXPIRIES"],
            )


def _schedule_answers(rng, plan, match_ids, answered, at, now) -> None:
    """Each new proposal: YES or NO after a delay, or no answer (it will expire)."""
    for match_id in match_ids:
        if match_id in answered:
            continue
        answered.add(match_id)
        roll = rng.random()
        delay = dt.timedelta(minutes=rng.expovariate(1 / plan.answer_minutes))
        if roll < plan.p_yes:

            def yes(match_id: int = match_id) -> None:
                with unit_of_work() as unit:
                    match = unit.session.get(Match, match_id)
                    outcome = lifecycle.accept(
                        unit.session,
                        adapters.sms_context(),
                        match,
                        actor=Actor.person(match.offer.person_id),
                    )
                if outcome is lifecycle.Outcome.DONE:
                    hours = rng.expovariate(1 / plan.task_hours)
                    at(
                        clock.utcnow() + dt.timedelta(hours=hours),
                        "done",
                        lambda: _done(match_id),
                    )

            at(now + delay, "yes", yes)
        elif roll < plan.p_yes + plan.p_no:

            def no(match_id: int = match_id) -> None:
                with unit_of_work() as unit:
                    match = unit.session.get(Match, match_id)
                    lifecycle.decline(
                        unit.session,
                        adapters.sms_context(),
                        match,
                        actor=Actor.person(match.offer.person_id),
                    )

            at(now + delay, "no", no)


def _done(match_id: int) -> None:
    with unit_of_work() as unit:
        match = unit.session.get(Match, match_id)
        lifecycle.complete(
            unit.session, adapters.sms_context(), match, actor=Actor.person(match.offer.person_id)
        )


def _report(plan: DayPlan, runs: int, solving: float) -> DayReport:
    session = db.session
    requests = list(session.scalars(select(AidRequest)))
    served = [
        r for r in requests if r.matched_at is not None or r.status is RequestStatus.COMPLETED
    ]
    accepted_at = dict(
        session.execute(
            select(Match.request_id, func.min(Match.answered_at))
            .where(Match.status.in_([MatchStatus.ACCEPTED, MatchStatus.COMPLETED]))
            .group_by(Match.request_id)
        ).all()
    )
    minutes = [
        (accepted_at[r.id] - r.created_at).total_seconds() / 60
        for r in served
        if r.id in accepted_at
    ]
    proposals = dict(
        session.execute(select(Match.request_id, func.count()).group_by(Match.request_id)).all()
    )
    return DayReport(
        requests=len(requests),
        served=len(served),
        completed=sum(r.status is RequestStatus.COMPLETED for r in requests),
        minutes_to_accept=minutes,
        proposals=sum(proposals.values()),
        proposals_to_served=sum(proposals.get(r.id, 0) for r in served),
        escalated=sum(r.flagged for r in requests),
        runs=runs,
        seconds_solving=solving,
    )
