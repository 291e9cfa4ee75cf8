"""Rate-limit counters shared by every process (web workers on several machines)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from mutualaid.models.base import Base


class RateCounter(Base):
    """Hits of one key in one fixed window. Keys are keyed hashes, never raw phone numbers,
    addresses or emails."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0, server_default="0")
