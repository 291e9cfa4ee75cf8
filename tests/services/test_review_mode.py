"""Review-first matching (MATCH_MODE = review): the worker's run only prepares a preview,
stored for coordinators; nothing is proposed until one sends it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from mutualaid.models import Match, MatchingRun, utcnow
from mutualaid.services import matching_runs
from mutualaid.worker import jobs
from tests import builders


def _matches(session) -> int:
    return session.scalar(select(func.count()).select_from(Match))


def test_the_worker_prepares_and_stores_a_preview(app, session) -> None:
    app.config["MATCH_MODE"] = "review"
    req = builders.aid_request(session)
    offer = builders.offer(session)
    unreachable = builders.aid_request(session, category="rides")
    session.commit()
    assert jobs.match_if_due(app) == 0
    session.expire_all()
    assert _matches(session) == 0
    run = matching_runs.prepared_preview(session)
    assert run is not None and run.trigger == "review" and run.dry_run
    assert [row[:2] for row in run.preview["pairs"]] == [[req.id, offer.id]]
    assert [row[0] for row in run.preview["unmatched"]] == [unreachable.id]
    # Not due again until something changes (the review run counts as a run).
    assert not matching_runs.run_is_due(
        session, now=utcnow(), interval_seconds=300, debounce_seconds=0, review=True
    )


def test_a_real_run_makes_the_prepared_preview_stale(app, session) -> None:
    app.config["MATCH_MODE"] = "review"
    builders.aid_request(session)
    builders.offer(session)
    session.commit()
    jobs.match_if_due(app)
    session.add(MatchingRun(trigger="coordinator", started_at=utcnow() + dt.timedelta(seconds=1)))
    session.commit()
    assert matching_runs.prepared_preview(session) is None


def test_auto_mode_proposes(app, session) -> None:
    assert app.config["MATCH_MODE"] == "auto"
    builders.aid_request(session)
    builders.offer(session)
    session.commit()
    assert jobs.match_if_due(app) == 1
    assert matching_runs.prepared_preview(session) is None
