"""Nobody falls through the cracks: requests open too long or refused too often are
flagged for coordinators, and a requester still waiting hears an honest update at most
once per interval."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mutualaid.models import AidRequest, Match, RequestStatus
from mutualaid.services import alerts
from mutualaid.services.audit import Actor
from mutualaid.services.flags import flag
from mutualaid.services.matching_runs import REFUSED
from mutualaid.services.notify import SmsContext, say


@dataclass(frozen=True)
class EscalationSettings:
    after_hours: float
    after_refusals: int
    still_looking_hours: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EscalationSettings:
        return cls(
            after_hours=config["ESCALATE_AFTER_HOURS"],
            after_refusals=config["ESCALATE_AFTER_REFUSALS"],
            still_looking_hours=config["STILL_LOOKING_HOURS"],
        )


def escalate(
    session: Session, ctx: SmsContext, settings: EscalationSettings, *, limit: int = 500
) -> int:
    """Flag the open requests (up to ``limit``, oldest first) waiting longer than
    ``after_hours`` or declined or expired ``after_refusals`` times, and queue a "still
    looking" text to each requester waiting longer than ``still_looking_hours`` (once per
    such interval). Returns the flags and texts added."""
    now = ctx.now
    open_requests = list(
        session.scalars(
            select(AidRequest)
            .where(AidRequest.status == RequestStatus.OPEN)
            .order_by(AidRequest.id)
            .limit(limit)
        )
    )
    refusals = dict(
        session.execute(
            select(Match.request_id, func.count())
            .where(Match.status.in_(REFUSED))
            .group_by(Match.request_id)
        ).all()
    )
    done = 0
    too_long = dt.timedelta(hours=settings.after_hours)
    interval = dt.timedelta(hours=settings.still_looking_hours)
    for req in open_requests:
        reason = None
        if refusals.get(req.id, 0) >= settings.after_refusals:
            reason = f"declined or expired {refusals[req.id]} times"
        elif now - req.created_at >= too_long:
            reason = f"open for more than {settings.after_hours} hours"
        if reason and not req.flagged and flag(session, req, reason, actor=Actor.system()):
            done += 1
            alerts.add(
                session,
                "escalation",
                f"Request {req.ref} needs a coordinator: {reason}",
                link=f"/dashboard/requests/{req.id}",
            )
        waited = now - req.created_at
        if waited >= interval and req.requester.phone:
            bucket = int(waited / interval)
            sent = say(
                session,
                ctx,
                req.requester,
                "still_looking",
                dedupe_key=f"still_looking:{req.id}:{bucket}",
                request_id=req.id,
                ref=req.ref,
                category=ctx.label(req.category, req.requester.language),
            )
            done += sent is not None
    return done
