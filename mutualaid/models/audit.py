"""Audit events: who (person, coordinator or system) did what to which record, and when."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mutualaid.models.base import Base, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # "person", "coordinator" or "system"; actor_id is the person's or account's id.
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None]
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    # Never phone numbers or street addresses.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.subject_type}:{self.subject_id}>"
