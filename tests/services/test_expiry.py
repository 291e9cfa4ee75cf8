"""Proposals nobody answered: found oldest deadline first, expired one by one, and a
proposal answered meanwhile is left alone."""

from __future__ import annotations

import datetime as dt

from mutualaid.adapters import sms_context
from mutualaid.models import MatchStatus
from mutualaid.services import expiry
from mutualaid.services.audit import Actor
from mutualaid.services.lifecycle import accept
from tests import builders

HOUR = dt.timedelta(hours=1)


def test_overdue_proposals_oldest_deadline_first(session) -> None:
    now = dt.datetime.now(dt.UTC)
    later = builders.match(session, expires_at=now - HOUR)
    sooner = builders.match(session, expires_at=now - 2 * HOUR)
    builders.match(session, expires_at=now + HOUR)  # not yet
    builders.match(session, expires_at=now - HOUR, status=MatchStatus.ACCEPTED)
    assert expiry.overdue(session, now=now) == [sooner.id, later.id]
    assert expiry.overdue(session, now=now, limit=1) == [sooner.id]


def test_an_overdue_proposal_expires_unless_answered_first(app, session) -> None:
    now = dt.datetime.now(dt.UTC)
    late = builders.match(session, expires_at=now - HOUR)
    answered = builders.match(session, expires_at=now - HOUR)
    ctx = sms_context()
    accept(session, ctx, answered, actor=Actor.person(answered.offer.person_id))
    assert expiry.expire_overdue(session, ctx, late.id, pause_after=3)
    assert not expiry.expire_overdue(session, ctx, answered.id, pause_after=3)
    assert not expiry.expire_overdue(session, ctx, 10**6, pause_after=3)
    assert (late.status, answered.status) == (MatchStatus.EXPIRED, MatchStatus.ACCEPTED)
