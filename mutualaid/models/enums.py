"""Enumerations stored in the database, and the column type that stores them portably."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum


def enum_column(enum_type: type[enum.Enum], name: str) -> Enum:
    """A VARCHAR with a CHECK constraint of the enum's values (alike on SQLite and PostgreSQL)."""
    return Enum(
        enum_type,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Urgency(enum.StrEnum):
    NORMAL = "normal"  # in the next few days
    SOON = "soon"  # within a day
    URGENT = "urgent"  # today


class Channel(enum.StrEnum):
    SMS = "sms"
    WEB = "web"
    COORDINATOR = "coordinator"
    VOICE = "voice"  # the voice hotline
    WHATSAPP = "whatsapp"


# The channels a text comes and goes by (Message.channel).
TEXT_CHANNELS = ("sms", "whatsapp")


class Precision(enum.StrEnum):
    """How well we know where a request or offer is."""

    EXACT = "exact"  # coordinates given
    ADDRESS = "address"  # a geocoded street address
    PLACE = "place"  # a named place from the network's gazetteer
    POSTCODE = "postcode"  # a ZIP/postcode centroid
    NONE = "none"  # not resolved yet: needs a location


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class MatchStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # a proposal taken back (request cancelled, assigned elsewhere)
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # an accepted match released


LIVE_MATCH_STATUSES = (MatchStatus.PROPOSED, MatchStatus.ACCEPTED)


class MessageDirection(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageStatus(enum.StrEnum):
    RECEIVED = "received"  # inbound, stored, not yet handled
    PROCESSED = "processed"  # inbound, handled
    QUEUED = "queued"  # outbound, waiting for the worker
    SENDING = "sending"  # outbound, claimed by a worker (lease)
    SENT = "sent"  # accepted by the provider
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # never sent: opted out or blocked


def values(enum_type: type[enum.Enum]) -> list[Any]:
    return [m.value for m in enum_type]
