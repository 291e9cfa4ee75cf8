"""The data model: one module per concept, re-exported here."""

from mutualaid.models.accounts import Account, Role
from mutualaid.models.alerts import Alert
from mutualaid.models.audit import AuditEvent
from mutualaid.models.base import Base, utcnow
from mutualaid.models.calls import Call
from mutualaid.models.conversations import Conversation
from mutualaid.models.enums import (
    LIVE_MATCH_STATUSES,
    Channel,
    MatchStatus,
    MessageDirection,
    MessageStatus,
    Precision,
    RequestStatus,
    Urgency,
)
from mutualaid.models.limits import RateCounter
from mutualaid.models.matches import Match, MatchingRun
from mutualaid.models.messages import Message
from mutualaid.models.notes import RequestNote
from mutualaid.models.offers import Offer, OfferCategory
from mutualaid.models.people import Person
from mutualaid.models.places import Place
from mutualaid.models.requests import AidRequest
from mutualaid.models.submissions import PendingSubmission

__all__ = [
    "LIVE_MATCH_STATUSES",
    "Account",
    "AidRequest",
    "Alert",
    "AuditEvent",
    "Base",
    "Call",
    "Channel",
    "Conversation",
    "Match",
    "MatchStatus",
    "MatchingRun",
    "Message",
    "MessageDirection",
    "MessageStatus",
    "Offer",
    "OfferCategory",
    "PendingSubmission",
    "Person",
    "Place",
    "Precision",
    "RateCounter",
    "RequestNote",
    "RequestStatus",
    "Role",
    "Urgency",
    "utcnow",
]
