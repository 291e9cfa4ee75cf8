"""Escalation as a service: the thresholds come from its settings, a flag is set once,
and a waiting requester hears at most one update per interval."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

from mutualaid.adapters import sms_context
from mutualaid.models import MatchStatus, Message
from mutualaid.services.escalation import EscalationSettings, escalate
from tests import builders

SETTINGS = EscalationSettings(after_hours=2, after_refusals=2, still_looking_hours=1)


def test_thresholds_are_the_settings(app, session) -> None:
    ctx = sms_context()
    old = builders.aid_request(session, created_at=ctx.now - dt.timedelta(hours=3))
    refused = builders.aid_request(session)
    for _ in range(2):
        builders.match(session, request=refused, status=MatchStatus.DECLINED)
    fresh = builders.aid_request(session)
    assert escalate(session, ctx, SETTINGS) == 3  # two flags and one update
    assert old.flag_reason == "open for more than 2 hours"
    assert refused.flag_reason == "declined or expired 2 times"
    assert not fresh.flagged
    assert escalate(session, ctx, SETTINGS) == 0  # once
    later = dataclasses.replace(ctx, now=ctx.now + dt.timedelta(minutes=61))
    assert escalate(session, later, SETTINGS) == 3  # an interval more: an update to each
    updates = session.scalars(select(Message).where(Message.template == "still_looking")).all()
    assert len(updates) == 4


def test_an_already_flagged_request_keeps_its_reason(app, session) -> None:
    ctx = sms_context()
    req = builders.aid_request(
        session,
        created_at=ctx.now - dt.timedelta(hours=3),
        flagged=True,
        flag_reason="needs location",
    )
    escalate(session, ctx, SETTINGS)
    assert req.flag_reason == "needs location"
