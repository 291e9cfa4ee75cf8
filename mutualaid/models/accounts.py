"""Coordinator accounts: the people who log in to the dashboard, with a role each."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import String, true
from sqlalchemy.orm import Mapped, mapped_column

from mutualaid.models.base import Base, utcnow
from mutualaid.models.enums import enum_column


class Role(enum.StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    VIEWER = "viewer"


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Rotated on logout, password change and disabling, so old cookies stop working.
    session_token: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the account's JSON API token (the token is shown once); None: no API access.
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        return f"<Account {self.id} {self.role.value}>"
