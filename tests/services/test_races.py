"""Races with exactly one outcome, on SQLite and PostgreSQL: threads released together by
a barrier, each with its own session, many trials each."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from mutualaid.adapters import sms_context
from mutualaid.extensions import db
from mutualaid.models import LIVE_MATCH_STATUSES, AidRequest, Match, MatchStatus, Message, Offer
from mutualaid.models import RequestStatus as R
from mutualaid.services import lifecycle
from mutualaid.services.audit import Actor
from mutualaid.worker.jobs import run_matching
from tests import builders

TRIALS = int(os.environ.get("MUTUALAID_TEST_RACE_TRIALS", "100"))
pytestmark = pytest.mark.slow(seconds=8)


def race(app, *contenders: Callable[[], Any]) -> list[Any]:
    """Run the contenders at the same instant, each in its own app context (own session),
    committing what it did; returns each one's result or exception."""
    db.session.commit()  # the test's own session must not hold SQLite's write lock
    barrier = threading.Barrier(len(contenders))
    results: list[Any] = [None] * len(contenders)

    def go(i: int, contender: Callable[[], Any]) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[i] = contender()
                db.session.commit()
            except Exception as exc:  # the test inspects it
                db.session.rollback()
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=go, args=(i, c)) for i, c in enumerate(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _proposal(session, *, expired: bool = False) -> tuple[int, int]:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=-1 if expired else 3600)
    match = builders.match(session, expires_at=when)
    ids = match.id, match.request_id
    session.commit()
    return ids


def _live(session, request_id: int) -> list[Match]:
    session.expire_all()
    return list(
        session.scalars(
            select(Match).where(
                Match.request_id == request_id, Match.status.in_(LIVE_MATCH_STATUSES)
            )
        )
    )


def _accept(app, match_id: int, person_id: int | None = None):
    def go():
        match = db.session.get(Match, match_id)
        actor = Actor.person(person_id or match.offer.person_id)
        return lifecycle.accept(db.session, sms_context(), match, actor=actor)

    return go


def test_eight_yes_at_once_one_wins(app, session) -> None:
    for _ in range(TRIALS):
        match_id, request_id = _proposal(session)
        results = race(app, *[_accept(app, match_id) for _ in range(8)])
        assert sorted(map(str, results)) == ["done"] + ["too_late"] * 7, results
        session.expire_all()
        assert session.get(AidRequest, request_id).status is R.MATCHED
        told = session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.match_id == match_id, Message.template == "accepted_volunteer")
        )
        assert told == 1


def test_yes_at_the_instant_of_expiry(app, session) -> None:
    outcomes = set()
    for _ in range(TRIALS):
        match_id, request_id = _proposal(session, expired=True)

        def sweep(match_id: int = match_id):
            match = db.session.get(Match, match_id)
            return lifecycle.expire(db.session, sms_context(), match)

        yes, expiry = race(app, _accept(app, match_id), sweep)
        assert {str(yes), str(expiry)} == {"done", "too_late"}, (yes, expiry)
        session.expire_all()
        match = session.get(Match, match_id)
        req = session.get(AidRequest, request_id)
        if str(yes) == "done":
            assert (match.status, req.status) == (MatchStatus.ACCEPTED, R.MATCHED)
        else:
            assert (match.status, req.status) == (MatchStatus.EXPIRED, R.OPEN)
        outcomes.add(match.status)
    assert outcomes  # both orders are legal; each trial had exactly one


@pytest.fixture
def coordinator(session) -> int:
    from mutualaid.models import Role
    from mutualaid.services.accounts import create_account

    account = create_account(
        session, "coord@example.org", "a long enough password", Role.COORDINATOR
    )
    session.commit()
    return account.id


def test_coordinator_assignment_against_a_volunteers_yes(app, session, coordinator) -> None:
    for _ in range(TRIALS):
        match_id, request_id = _proposal(session)
        other_id = builders.offer(session).id
        session.commit()

        def assign(request_id: int = request_id, other_id: int = other_id):
            req = db.session.get(AidRequest, request_id)
            offer = db.session.get(Offer, other_id)
            return lifecycle.assign(
                db.session, sms_context(), req, offer, actor=Actor.coordinator(coordinator)
            )

        yes, assigned = race(app, _accept(app, match_id), assign)
        assert not isinstance(yes, Exception) and not isinstance(assigned, Exception)
        live = _live(session, request_id)
        assert len(live) == 1 and live[0].status is MatchStatus.ACCEPTED
        if str(yes) == "done":
            assert assigned is None and live[0].id == match_id
        else:
            assert assigned is not None and live[0].offer_id == other_id
        assert session.get(AidRequest, request_id).status is R.MATCHED


def test_a_matching_run_against_an_assignment(app, session, coordinator) -> None:
    trials = max(10, TRIALS // 4)  # each trial is a whole run
    for _ in range(trials):
        req = builders.aid_request(session)
        near = builders.offer(session, lat=req.lat, lon=req.lon + 0.001)
        chosen = builders.offer(session, lat=req.lat, lon=req.lon + 0.01)
        request_id, chosen_id, near_id = req.id, chosen.id, near.id
        session.commit()

        def assign(request_id: int = request_id, chosen_id: int = chosen_id):
            r = db.session.get(AidRequest, request_id)
            return lifecycle.assign(
                db.session,
                sms_context(),
                r,
                db.session.get(Offer, chosen_id),
                actor=Actor.coordinator(coordinator),
            )

        def matching_run(request_id: int = request_id):
            return run_matching(app, trigger="test", only_requests={request_id})

        assigned, ran = race(app, assign, matching_run)
        assert not isinstance(assigned, Exception), assigned
        assert not isinstance(ran, Exception), ran
        live = _live(session, request_id)
        # Exactly one live match: the coordinator's, accepted. A proposal the run made
        # first was withdrawn by the assignment; one it tried after was never written.
        assert [(m.offer_id, m.status) for m in live] == [(chosen_id, MatchStatus.ACCEPTED)]
        session.expire_all()
        assert session.get(AidRequest, request_id).status is R.MATCHED
        # The near volunteer may have been proposed and withdrawn, never left live.
        assert all(m.offer_id != near_id for m in live)
        # Tidy: the volunteers are full now; later trials use new ones.
        for offer_id in (near_id, chosen_id):
            session.get(Offer, offer_id).paused = True
        session.commit()
