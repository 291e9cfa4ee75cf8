"""Telling coordinators: alerts queued where things happen (someone asked for a person, a
request escalated, a text failed, the backlog grew) and delivered by the worker to the
on-duty coordinators — one message listing what is waiting, by e-mail and/or an outgoing
JSON webhook — outside quiet hours, at most once per digest interval. Off by default:
with no recipient configured, waiting alerts are let go unsent.

Delivery is side effects after commit: :func:`waiting` reads, the caller sends with no
transaction open, :func:`mark_sent` records it (STYLE habit 4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mutualaid.models import LIVE_MATCH_STATUSES, AidRequest, Alert, Match, RequestStatus

KINDS = ("human", "escalation", "failed_send", "backlog")
MAX_LISTED = 30


def add(session: Session, kind: str, summary: str, *, link: str = "") -> Alert:
    """Queue an alert (``summary`` without personal data). Flushes nothing itself."""
    assert kind in KINDS, kind
    alert = Alert(kind=kind, summary=summary[:300], link=link[:200])
    session.add(alert)
    return alert


@dataclass(frozen=True)
class Settings:
    email_to: tuple[str, ...] = ()
    webhook_url: str = ""
    quiet_hours: tuple[int, int] | None = None  # (start, end) local hours; end exclusive
    digest_minutes: int = 0
    backlog_open: int = 0  # alert when this many open requests wait unasked (0: never)
    timezone: str = "UTC"

    @property
    def enabled(self) -> bool:
        return bool(self.email_to or self.webhook_url)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        return cls(
            email_to=tuple(config["NOTIFY_EMAIL_TO"]),
            webhook_url=config["NOTIFY_WEBHOOK_URL"],
            quiet_hours=parse_quiet_hours(config["NOTIFY_QUIET_HOURS"]),
            digest_minutes=int(config["NOTIFY_DIGEST_MINUTES"]),
            backlog_open=int(config["NOTIFY_BACKLOG_OPEN"]),
            timezone=config["TIMEZONE"],
        )


def parse_quiet_hours(text: str) -> tuple[int, int] | None:
    """ "22-7" → (22, 7): from 22:00 to 07:00 local time; "" → None. ValueError otherwise.

    >>> parse_quiet_hours("22-7"), parse_quiet_hours("")
    ((22, 7), None)
    """
    text = text.strip()
    if not text:
        return None
    start, sep, end = text.partition("-")
    if not sep or not (start.strip().isdigit() and end.strip().isdigit()):
        raise ValueError("quiet hours are written like 22-7")
    hours = int(start), int(end)
    if not all(0 <= h <= 23 for h in hours) or hours[0] == hours[1]:
        raise ValueError("quiet hours are two different hours from 0 to 23")
    return hours


def is_quiet(settings: Settings, now: dt.datetime) -> bool:
    if settings.quiet_hours is None:
        return False
    hour = now.astimezone(ZoneInfo(settings.timezone)).hour
    start, end = settings.quiet_hours
    return start <= hour < end if start < end else hour >= start or hour < end


@dataclass(frozen=True)
class Digest:
    """What one delivery says: a subject line and the alerts as lines, with their ids."""

    ids: tuple[int, ...]
    subject: str
    lines: tuple[str, ...]

    def text(self) -> str:
        return "\n".join((self.subject, "", *self.lines))


def waiting(
    session: Session, settings: Settings, *, now: dt.datetime, base_url: str
) -> Digest | None:
    """The digest to deliver now, or None: nothing waiting, quiet hours, or the last
    delivery was less than ``digest_minutes`` ago. Read-only."""
    pending = list(
        session.scalars(
            select(Alert).where(Alert.notified_at.is_(None)).order_by(Alert.id).limit(500)
        )
    )
    if not pending or is_quiet(settings, now):
        return None
    if settings.digest_minutes:
        last = session.scalar(select(func.max(Alert.notified_at)))
        if last is not None and now - last < dt.timedelta(minutes=settings.digest_minutes):
            return None
    counts: dict[str, int] = {}
    for alert in pending:
        counts[alert.kind] = counts.get(alert.kind, 0) + 1
    subject = f"Mutual aid: {len(pending)} " + ("alert" if len(pending) == 1 else "alerts")
    subject += " (" + ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items()) + ")"
    lines = [
        f"- {a.summary}" + (f" {base_url}{a.link}" if a.link else "") for a in pending[:MAX_LISTED]
    ]
    if len(pending) > MAX_LISTED:
        lines.append(f"- and {len(pending) - MAX_LISTED} more: {base_url}/dashboard/")
    return Digest(tuple(a.id for a in pending), subject, tuple(lines))


def mark_sent(session: Session, ids: Sequence[int], *, now: dt.datetime) -> None:
    session.execute(
        update(Alert).where(Alert.id.in_(ids), Alert.notified_at.is_(None)).values(notified_at=now)
    )


def mark_failed(session: Session, ids: Sequence[int]) -> None:
    session.execute(update(Alert).where(Alert.id.in_(ids)).values(attempts=Alert.attempts + 1))


def let_go(session: Session, *, now: dt.datetime) -> int:
    """Notifications are off: waiting alerts are let go (never sent later, all at once)."""
    result = session.execute(
        update(Alert).where(Alert.notified_at.is_(None)).values(notified_at=now)
    )
    return result.rowcount or 0


def check_backlog(session: Session, settings: Settings, *, now: dt.datetime) -> Alert | None:
    """An alert when ``backlog_open`` or more open requests wait with no volunteer asked,
    at most once an hour, and only when it grew since the last such alert."""
    if not settings.backlog_open:
        return None
    live = select(Match.id).where(
        Match.request_id == AidRequest.id, Match.status.in_(LIVE_MATCH_STATUSES)
    )
    waiting_now = session.scalar(
        select(func.count())
        .select_from(AidRequest)
        .where(AidRequest.status == RequestStatus.OPEN, ~live.exists())
    )
    if (waiting_now or 0) < settings.backlog_open:
        return None
    last = session.scalars(
        select(Alert).where(Alert.kind == "backlog").order_by(Alert.id.desc()).limit(1)
    ).first()
    if last is not None:
        if now - last.created_at < dt.timedelta(hours=1):
            return None
        before = int(last.summary.split()[0]) if last.summary.split()[0].isdigit() else 0
        if waiting_now <= before:
            return None
    return add(
        session,
        "backlog",
        f"{waiting_now} open requests wait with no volunteer asked",
        link="/dashboard/requests?state=open&sort=urgency",
    )
