"""Voice calls to the hotline: where each call is in its dialogue, and what it became."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from mutualaid.models.base import Base, utcnow
from mutualaid.models.crypto import Encrypted, EncryptedJSON


class Call(Base):
    """One per Twilio CallSid. ``step`` names the question the caller is being asked
    ("language", "category", "where", "confirm", "voicemail"), ``data`` what they pressed
    so far (encrypted; cleared once ``expires_at`` has passed, like an SMS conversation).
    ``outcome`` is set once: "request" (confirmed), "voicemail" (a coordinator calls back)
    or "missed" (the call ended before either; the caller got one follow-up text).
    ``recording_url`` is Twilio's address of the voicemail, shown to coordinators only."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(34), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    step: Mapped[str] = mapped_column(String(20), default="language", server_default="language")
    data: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJSON("calls.data"), default=dict, server_default=""
    )
    expires_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("aid_requests.id"), index=True)
    recording_sid: Mapped[str | None] = mapped_column(String(34))
    recording_url: Mapped[str | None] = mapped_column(Encrypted("calls.recording_url", 300))
    recording_seconds: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Call {self.id} {self.step} {self.outcome or '-'}>"
