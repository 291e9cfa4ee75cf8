"""SMS messages: the inbound log and the outbound outbox, in one table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mutualaid.models.base import Base, utcnow
from mutualaid.models.crypto import Encrypted
from mutualaid.models.enums import MessageDirection, MessageStatus, enum_column


class Message(Base):
    """One text (SMS or WhatsApp). Inbound rows are unique per provider id (Twilio's
    MessageSid); outbound rows are unique per dedupe key (one intent is sent once).
    ``status`` changes only through services.transitions.change_message_status."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_outbox", "direction", "status", "next_attempt_at"),
        Index("ix_messages_person_created", "person_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[MessageDirection] = mapped_column(enum_column(MessageDirection, "direction"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # The other end in E.164: the sender of an inbound message, the recipient of an outbound one.
    phone: Mapped[str] = mapped_column(Encrypted("messages.phone", 20))
    # What people type holds addresses and numbers; what we send a volunteer holds the
    # requester's address. Both encrypted at rest.
    body: Mapped[str] = mapped_column(Encrypted("messages.body"), default="", server_default="")
    media_count: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus, "message_status"))
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    # Catalogue key of an outbound message ("proposal", "help" …), for the log and figures.
    template: Mapped[str | None] = mapped_column(String(40))
    # What an outbound SMS costs, counted when it was queued (GSM-7/UCS-2 segments);
    # NULL for WhatsApp, which has no segments.
    segments: Mapped[int | None]
    # How it came or goes: "sms" or "whatsapp" (the same person, the same number).
    channel: Mapped[str] = mapped_column(String(20), default="sms", server_default="sms")
    # A WhatsApp template message (outside the 24-hour window, and every proposal): the
    # approved template (Twilio Content SID) and its variables, as JSON (encrypted: they
    # hold what the body holds). ``body`` is the text as our catalogue renders it.
    content_sid: Mapped[str | None] = mapped_column(String(40))
    content_variables: Mapped[str | None] = mapped_column(Encrypted("messages.content_variables"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("aid_requests.id"), index=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id"))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None]
    lease_until: Mapped[dt.datetime | None]
    error_code: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        return f"<Message {self.id} {self.direction.value} {self.status.value}>"
