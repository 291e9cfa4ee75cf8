"""Web submissions waiting for their phone number to confirm them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mutualaid.models.base import Base, utcnow
from mutualaid.models.crypto import Encrypted, EncryptedJSON


class PendingSubmission(Base):
    """A request or offer typed into a public form, naming ``phone``. Nothing acts on that
    person until the phone texts back "YES <code>"; past ``expires_at`` it is deleted.
    What was typed (``payload``) and the phone are encrypted like everything personal."""

    __tablename__ = "pending_submissions"
    __table_args__ = (
        Index("ix_pending_submissions_phone_code", "phone", "code"),
        # Ids are never reused, so audit events of a deleted submission name only it.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "request" or "offer"
    phone: Mapped[str] = mapped_column(Encrypted("pending_submissions.phone", 20))
    code: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    payload: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJSON("pending_submissions.payload"), default=dict, server_default=""
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)

    def __repr__(self) -> str:
        return f"<PendingSubmission {self.id} {self.kind}>"
