"""Proposals nobody answered in time: each is expired (the volunteer is told, the request
goes back to the next run), and a volunteer who lets several expire in a row is paused."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from mutualaid.models import Match, MatchStatus
from mutualaid.services import lifecycle
from mutualaid.services.availability import pause_if_unresponsive
from mutualaid.services.notify import SmsContext


def overdue(session: Session, *, now: dt.datetime, limit: int = 200) -> list[int]:
    """The ids of proposals past their expiry, oldest deadline first. Reads only."""
    return list(
        session.scalars(
            select(Match.id)
            .where(Match.status == MatchStatus.PROPOSED, Match.expires_at < now)
            .order_by(Match.expires_at)
            .limit(limit)
        )
    )


def expire_overdue(session: Session, ctx: SmsContext, match_id: int, *, pause_after: int) -> bool:
    """Expire one overdue proposal (False when it was answered or expired meanwhile), and
    pause its volunteer if this makes ``pause_after`` expiries in a row."""
    match = session.get(Match, match_id)
    if match is None or lifecycle.expire(session, ctx, match) is not lifecycle.Outcome.DONE:
        return False
    pause_if_unresponsive(session, ctx, match.offer, after=pause_after)
    return True
