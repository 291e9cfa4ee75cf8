"""Matching runs as a service: due when the interval passed or something changed, one run
at a time (the lock), no transaction open during the solve, a preview stores nothing."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from mutualaid.adapters import sms_context
from mutualaid.extensions import db
from mutualaid.models import Match, MatchingRun, MatchStatus, Offer
from mutualaid.services import matching_runs
from tests import builders

NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


def _settings(app) -> matching_runs.RunSettings:
    return matching_runs.RunSettings.from_config(app.config)


def _run(app, session, **kwargs):
    return matching_runs.run_matching(
        session, sms_context(), _settings(app), trigger="test", **kwargs
    )


def test_a_run_proposes_and_records_itself(app, session) -> None:
    req = builders.aid_request(session)
    builders.offer(session)
    session.commit()
    run, plan = _run(app, session)
    session.commit()
    assert (run.requests_considered, run.volunteers_considered, run.proposed) == (1, 1, 1)
    assert run.id is not None and run.finished_at is not None
    (match,) = session.scalars(select(Match)).all()
    assert match.request_id == req.id and match.status is MatchStatus.PROPOSED
    assert plan.proposed == [match.id]


def test_a_preview_stores_nothing(app, session) -> None:
    builders.aid_request(session)
    builders.offer(session)
    session.commit()
    run, plan = _run(app, session, dry_run=True)
    session.commit()
    assert run.id is None and run.dry_run and len(plan.result.pairs) == 1
    assert session.scalar(select(func.count()).select_from(MatchingRun)) == 0
    assert session.scalar(select(func.count()).select_from(Match)) == 0


def test_a_run_refuses_to_discard_unsaved_work(app, session) -> None:
    offer = builders.offer(session)
    session.commit()
    offer.capacity = 3  # changed (flushed or not): a run would roll it back
    with pytest.raises(RuntimeError):
        _run(app, session)


def test_only_some_requests(app, session) -> None:
    one = builders.aid_request(session)
    builders.aid_request(session)
    builders.offer(session, capacity=2)
    session.commit()
    run, _plan = _run(app, session, only_requests={one.id})
    assert run.requests_considered == 1 and run.proposed == 1


@pytest.mark.parametrize(
    ("last_run_minutes_ago", "changed_minutes_ago", "due"),
    [
        (None, None, True),  # never ran
        (10, None, False),  # nothing changed, interval not over
        (61, None, True),  # the interval is over
        (10, 5, True),  # changed since, debounce passed
        (10, 11, False),  # changed before the last run
        (0.1, 0.05, False),  # changed since, but within the debounce
    ],
)
def test_when_a_run_is_due(session, last_run_minutes_ago, changed_minutes_ago, due) -> None:
    now = dt.datetime.now(dt.UTC)
    if last_run_minutes_ago is not None:
        session.add(
            MatchingRun(
                started_at=now - dt.timedelta(minutes=last_run_minutes_ago),
                trigger="test",
                dry_run=False,
                requests_considered=0,
                volunteers_considered=0,
                unmatched=0,
                solve_seconds=0.0,
            )
        )
    offer = builders.offer(session)
    offer.updated_at = now - dt.timedelta(minutes=changed_minutes_ago or 10_000)
    session.commit()
    assert (
        matching_runs.run_is_due(session, now=now, interval_seconds=3600, debounce_seconds=20)
        is due
    )


@pytest.mark.postgres
def test_one_run_at_a_time_on_postgresql(app) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's (SQLite has one writer anyway)")
    engine = db.engine
    got: list[bool] = []
    with matching_runs.run_lock(engine) as first:
        other = threading.Thread(target=lambda: got.append(_try_lock(engine)))
        other.start()
        other.join(timeout=30)
    assert first and got == [False]
    assert _try_lock(engine)  # released


def _try_lock(engine) -> bool:
    with matching_runs.run_lock(engine) as got:
        return got


def test_the_lock_is_free_on_sqlite(app) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with matching_runs.run_lock(db.engine) as first, matching_runs.run_lock(db.engine) as second:
        assert first and second


def test_describe_says_why_for_each_pair_and_each_unmatched(app, session) -> None:
    builders.aid_request(session)
    builders.aid_request(session, category="rides")
    builders.offer(session)
    session.commit()
    _, plan = _run(app, session, dry_run=True)
    lines = matching_runs.describe(plan)
    assert len(lines) == 2 and " -> " in lines[0] and "unmatched" in lines[1]
    assert session.scalar(select(func.count()).select_from(Offer)) == 1
