"""Receiving without a public address (INBOUND_MODE = "poll"): instead of waiting for
Twilio's webhooks, the worker asks Twilio every few seconds for the texts it received
(stored once each, by MessageSid, then handled like a webhook's) and for the delivery
status of the texts we sent (applied as a status callback would be).

The inbound half is the recovery path (services.inbox.recover_missed) made a mode."""

from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mutualaid.models import Message, MessageDirection, MessageStatus
from mutualaid.services import inbox
from mutualaid.services.outbox import record_delivery_status
from sms.transport import ProviderMessage, SendError

# How far back the first look goes (the laptop was off), and the overlap kept with the
# newest text we have (Twilio's clock and ours differ, and dates have whole seconds).
LOOK_BACK = dt.timedelta(hours=6)
OVERLAP = dt.timedelta(minutes=2)
# A sent message's status is asked at the next poll, then again after FIRST_GAP, doubling
# up to LAST_GAP, and no longer after GIVE_UP (a carrier that never reports).
FIRST_GAP = dt.timedelta(seconds=5)
LAST_GAP = dt.timedelta(minutes=5)
GIVE_UP = dt.timedelta(hours=24)


class Poller(Protocol):
    """What polling needs from the provider (TwilioSender)."""

    def list_messages(
        self,
        *,
        to: str | None = None,
        from_: str | None = None,
        date_sent_after: dt.datetime | None = None,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> list[ProviderMessage]: ...

    def fetch_message(self, sid: str) -> ProviderMessage: ...


def poll_inbound(
    session: Session,
    poller: Poller,
    *,
    to: str | None,
    now: dt.datetime,
    region: str,
    max_body: int,
) -> list[int]:
    """Store the texts the provider received that we do not have yet; their ids, oldest
    first. Looks back from the newest text we hold (less an overlap), at most LOOK_BACK:
    each MessageSid is stored once however often this runs."""
    newest = session.scalar(
        select(func.max(Message.created_at)).where(Message.direction == MessageDirection.INBOUND)
    )
    since = now - LOOK_BACK if newest is None else max(now - LOOK_BACK, newest - OVERLAP)
    listed = poller.list_messages(to=to, date_sent_after=since)
    return inbox.import_missed(session, listed, region=region, max_body=max_body)


@dataclass
class Checks:
    """When each sent message is next asked about, kept by the worker between rounds."""

    due: MutableMapping[str, tuple[dt.datetime, dt.timedelta]]  # by provider sid

    @classmethod
    def new(cls) -> Checks:
        return cls({})


def poll_sent(
    session: Session,
    poller: Poller,
    checks: Checks,
    *,
    now: dt.datetime,
    limit: int = 20,
) -> int:
    """Ask the provider about our messages still ``sent`` (or ``undelivered``, which may
    yet become delivered), at most ``limit`` due ones, and apply what it says as a status
    callback would; how many moved. A message is asked again later and later, and not
    after GIVE_UP."""
    waiting = session.execute(
        select(Message.id, Message.provider_sid, Message.sent_at)
        .where(
            Message.direction == MessageDirection.OUTBOUND,
            Message.status.in_((MessageStatus.SENT, MessageStatus.UNDELIVERED)),
            Message.provider_sid.is_not(None),
            Message.sent_at >= now - GIVE_UP,
        )
        .order_by(Message.sent_at)
    ).all()
    alive = {row.provider_sid for row in waiting}
    for forgotten in [k for k in checks.due if k not in alive]:
        del checks.due[forgotten]
    moved = asked = 0
    for row in waiting:
        when, gap = checks.due.get(row.provider_sid, (row.sent_at, FIRST_GAP))
        if when > now:
            continue
        if asked >= limit:
            break
        asked += 1
        checks.due[row.provider_sid] = (now + gap, min(gap * 2, LAST_GAP))
        try:
            found = poller.fetch_message(row.provider_sid)
        except SendError:
            continue  # asked again at its next time
        moved += record_delivery_status(
            session,
            message_id=row.id,
            provider_sid=row.provider_sid,
            status=found.status or "",
            error_code=found.error_code,
        )
    return moved
