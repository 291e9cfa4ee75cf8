"""The inbox: storing each inbound SMS exactly once, whichever way it arrives (the webhook,
or the recovery job that imports what Twilio received while we were down)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from mutualaid.db import insert_or_ignore
from mutualaid.models import Message, MessageDirection, MessageStatus
from sms.phones import InvalidPhoneNumber, normalize
from sms.signature import is_message_sid
from sms.text import clean
from sms.whatsapp import split_address

log = logging.getLogger(__name__)

# What a phone number as a sender looks like: digits and dialling punctuation only.
_DIALLED = re.compile(r"\+?[\d\s().-]{3,30}")
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


def sender_of(raw: str, region: str, *, whatsapp: bool) -> tuple[str, str] | None:
    """The sender's channel and number: ``whatsapp:+1718…`` is WhatsApp (when it is on)
    from +1718…, the same person as an SMS from that number. None for anything that is
    not a phone number on a channel we serve (refused, never answered)."""
    channel, rest = split_address(clean(raw)[:60])
    if channel == "whatsapp" and (not whatsapp or not rest.startswith("+")):
        return None  # WhatsApp is off, or not an international number
    if not _DIALLED.fullmatch(rest):
        return None  # another channel ("messenger:+1…"), a short code's name, an address
    phone = sender_phone(rest, region)
    return (channel, phone) if phone is not None else None


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
    whatsapp: bool = False,
) -> int | None:
    """Store one inbound message by its provider id, atomically: the new row's id, or
    None when that MessageSid is already stored (a retry, a duplicate, an import) or is
    not a Twilio MessageSid, or the sender is not a phone number (nothing is stored or
    answered then). With ``whatsapp``, a ``whatsapp:+…`` sender is that phone number on
    WhatsApp (its channel is stored with the message)."""
    found = sender_of(sender, region, whatsapp=whatsapp)
    if found is None or not is_message_sid(sid):
        log.warning("inbound message refused: %s", "sender" if found is None else "MessageSid")
        return None
    channel, phone = found
    values = {
        "direction": MessageDirection.INBOUND,
        "channel": channel,
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
    session: Session,
    listed: Iterable[ProviderMessage],
    *,
    region: str,
    max_body: int,
    whatsapp: bool = False,
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
            whatsapp=whatsapp,
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
