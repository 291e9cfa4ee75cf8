"""SMS conversations: what we last asked a person and are waiting for, with an expiry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from mutualaid.models.base import Base, utcnow
from mutualaid.models.crypto import EncryptedJSON

IDLE = "idle"


class Conversation(Base):
    """One per person. ``state`` names the question awaiting an answer ("need_location" …),
    ``data`` what we know so far (what the person typed: encrypted, and cleared by the
    worker once ``expires_at`` has passed); past ``expires_at`` the question is
    forgotten, so a stale question never captures a later text. Locking this row
    serialises one phone's texts."""

    __tablename__ = "conversations"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(30), default=IDLE, server_default=IDLE)
    data: Mapped[dict[str, Any]] = mapped_column(
        EncryptedJSON("conversations.data"), default=dict, server_default=""
    )
    expires_at: Mapped[dt.datetime | None]
    # Set when the person asked for a human (HUMAN / PERSONA); cleared by a coordinator.
    human_requested_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def active(self, now: dt.datetime) -> bool:
        return self.state != IDLE and self.expires_at is not None and self.expires_at > now

    def __repr__(self) -> str:
        return f"<Conversation {self.person_id} {self.state}>"
