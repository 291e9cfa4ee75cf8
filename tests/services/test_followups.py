"""Nobody falls through the cracks: escalation, honest updates, unresponsive volunteers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mutualaid.models import Match, MatchStatus, Message, Offer
from mutualaid.worker.jobs import escalate, expire_proposals
from tests import builders

HOUR = dt.timedelta(hours=1)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_a_request_open_too_long_is_flagged_and_its_requester_updated(app, session) -> None:
    old = builders.aid_request(session, created_at=_now() - 25 * HOUR)
    fresh = builders.aid_request(session)
    session.commit()
    assert escalate(app) >= 1
    session.expire_all()
    assert old.flagged and "open for more than 24 hours" in old.flag_reason
    assert not fresh.flagged
    update_ = session.scalars(select(Message).where(Message.template == "still_looking")).one()
    assert update_.request_id == old.id and old.ref in update_.body
    # At most one update per interval, however often the job runs.
    escalate(app)
    assert (
        len(session.scalars(select(Message).where(Message.template == "still_looking")).all()) == 1
    )


def test_a_request_refused_three_times_is_flagged(app, session) -> None:
    req = builders.aid_request(session)
    for status in (MatchStatus.DECLINED, MatchStatus.EXPIRED, MatchStatus.DECLINED):
        builders.match(session, request=req, status=status)
    session.commit()
    escalate(app)
    session.expire_all()
    assert req.flagged and "declined or expired 3 times" in req.flag_reason


def test_a_volunteer_who_lets_three_proposals_expire_is_paused_and_told(app, session) -> None:
    offer = builders.offer(session, capacity=5)
    for _ in range(3):
        builders.match(session, offer=offer, expires_at=_now() - HOUR)
    session.commit()
    assert expire_proposals(app) == 3
    session.expire_all()
    assert session.get(Offer, offer.id).paused
    told = session.scalars(select(Message).where(Message.template == "paused_for_expiries")).one()
    assert "RESUME" in told.body
    expired = session.scalars(select(Message).where(Message.template == "expired_volunteer")).all()
    assert len(expired) == 3


def test_one_expiry_does_not_pause(app, session) -> None:
    offer = builders.offer(session)
    builders.match(session, offer=offer, expires_at=_now() - HOUR)
    session.commit()
    expire_proposals(app)
    session.expire_all()
    assert not session.get(Offer, offer.id).paused
    assert session.scalars(select(Match)).one().status is MatchStatus.EXPIRED


def test_matching_runs_again_only_after_a_change(app, session) -> None:
    import time

    from mutualaid.models import MatchingRun
    from mutualaid.worker.jobs import match_if_due

    app.config.update(MATCH_INTERVAL_SECONDS=3600, MATCH_DEBOUNCE_SECONDS=1)
    builders.offer(session)
    session.commit()

    def runs() -> int:
        session.expire_all()
        return len(session.scalars(select(MatchingRun)).all())

    match_if_due(app)  # the first run ever
    assert runs() == 1
    time.sleep(1.1)
    match_if_due(app)  # nothing changed since: not due for an hour
    assert runs() == 1
    builders.aid_request(session)
    session.commit()
    time.sleep(1.1)
    assert match_if_due(app) == 1  # a new request: proposed to the volunteer
    assert runs() == 2
