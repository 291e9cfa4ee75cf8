"""The inbox: storing each inbound SMS exactly once, whichever way it arrives (the webhook,
or the recovery job that imports what Twilio received while we were down)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from mutualaid.db import insert_or_ignore
from mutualaid.models import Message, MessageDirection, MessageStatus
from sms.phones import InvalidPhoneNumber, normalize
from sms.signature import is_message_sid
from sms.text import clean

log = logging.getLogger(__name__)

# Twilio's own limit on media per message; anything more is a forged count.
MAX_MEDIA = 10

if TYPE_CHECKING:
    from sms.transport import ProviderMessage, TwilioSender


def sender_phone(raw: str, region: str) -> str | None:
    """The sender in E.164, or None when it is not a phone number (a short code, an
    alphanumeric sender, an address): such senders are refused, never answered."""
    try:
        return normalize(clean(raw)[:40], region=region)
    except (InvalidPhoneNumber, ValueError):
        return None


def store_inbound(
    session: Session,
    *,
    sid: str,
    sender: str,
    body: str,
    media: int = 0,
    region: str,
    max_body: int,
    received_at: dt.datetime | None = None,
) -> int | None:
    """Store one inbound message by its provider id, atomically: the new row's id, or
    None when that MessageSid is already stored (a retry, a duplicate, an import) or is
    not a Twilio MessageSid, or the sender is not a phone number (nothing is stored or
    answered then)."""
    phone = sender_phone(sender, region)
    if phone is None or not is_message_sid(sid):
        log.warning("inbound message refused: %s", "sender" if phone is None else "MessageSid")
        return None
    values = {
        "direction": MessageDirection.INBOUND,
        "phone": phone,
        "body": clean(body)[:max_body],
        "media_count": min(max(0, media), MAX_MEDIA),
        "status": MessageStatus.RECEIVED,
        "provider_sid": sid,
    }
    if received_at is not None:
        values["created_at"] = received_at
    return insert_or_ignore(session, Message, values, ["provider_sid"])


def import_missed(
    session: Session, listed: Iterable[ProviderMessage], *, region: str, max_body: int
) -> list[int]:
    """Store the inbound messages of a provider listing that we do not have yet, oldest
    first; returns the new rows' ids in that order."""
    # Twilio lists newest first, with times to the second: within one second, the later
    # in the list is the earlier received.
    listed = list(listed)
    earliest = dt.datetime.min.replace(tzinfo=dt.UTC)
    order = sorted(
        (i for i, m in enumerate(listed) if (m.direction or "").startswith("inbound")),
        key=lambda i: (listed[i].date_created or earliest, -i),
    )
    new_ids = []
    for m in (listed[i] for i in order):
        new_id = store_inbound(
            session,
            sid=m.sid,
            sender=m.from_ or "",
            body=m.body or "",
            region=region,
            max_body=max_body,
            received_at=m.date_created,
        )
        if new_id is not None:
            new_ids.append(new_id)
    return new_ids


def recover_missed(
    session: Session,
    sender: TwilioSender,
    *,
    to: str | None,
    since: dt.datetime,
    region: str,
    max_body: int,
) -> list[int]:
    """Ask the provider which texts it received since ``since`` and store those we never
    did (the service was down, a webhook was lost); the new rows' ids, oldest first. Each
    MessageSid is stored at most once, however often this runs."""
    listed = sender.list_messages(to=to, date_sent_after=since)
    return import_missed(session, listed, region=region, max_body=max_body)
