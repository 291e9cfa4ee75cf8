"""Alerts for coordinators (someone asked for a person, a request escalated, a text failed,
the backlog grew), queued until the worker tells the on-duty coordinators by e-mail or
webhook."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from mutualaid.models.base import Base, utcnow


class Alert(Base):
    """One thing coordinators should hear about. ``summary`` never holds a phone number,
    an address or what a person wrote; ``link`` is a dashboard path."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # human, escalation, failed_send, backlog
    summary: Mapped[str] = mapped_column(String(300))
    link: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # When it was sent (or, with notifications off, let go); None while waiting.
    notified_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<Alert {self.id} {self.kind}>"
