"""Aid requests: one need of one requester, from intake to completion."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mutualaid.models.base import Base, Located, utcnow
from mutualaid.models.crypto import Encrypted
from mutualaid.models.enums import Channel, RequestStatus, Urgency, enum_column

if TYPE_CHECKING:
    from mutualaid.models.people import Person


class AidRequest(Located, Base):
    """A need. ``status`` changes only through services.transitions.change_request_status."""

    __tablename__ = "aid_requests"
    __table_args__ = (Index("ix_aid_requests_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Short public reference given to the requester ("K7Q2MX"); carries no personal data.
    ref: Mapped[str] = mapped_column(String(12), unique=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    category: Mapped[str] = mapped_column(String(40), index=True)
    # Free text for the volunteer ("buzzer 4B, call when outside"): encrypted at rest.
    details: Mapped[str] = mapped_column(
        Encrypted("aid_requests.details"), default="", server_default=""
    )
    urgency: Mapped[Urgency] = mapped_column(
        enum_column(Urgency, "urgency"), default=Urgency.NORMAL, server_default=Urgency.NORMAL.value
    )
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus, "request_status"),
        default=RequestStatus.OPEN,
        server_default=RequestStatus.OPEN.value,
    )
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")

    # The private street address, if given: shown only to the volunteer who accepted;
    # encrypted at rest.
    address: Mapped[str | None] = mapped_column(Encrypted("aid_requests.address", 200))

    # Set when a coordinator should look at it (needs a location, escalated, asked for a human).
    flagged: Mapped[bool] = mapped_column(default=False, server_default=false())
    flag_reason: Mapped[str | None] = mapped_column(String(200))

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    matched_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]

    requester: Mapped[Person] = relationship()

    @property
    def needs_location(self) -> bool:
        return self.lat is None or self.lon is None

    def __repr__(self) -> str:
        return f"<AidRequest {self.ref} {self.status.value}>"
