"""The declarative base: naming convention, UTC timestamps, and shared column types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import DateTime, MetaData, String, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, registry

from mutualaid.models.crypto import Encrypted
from mutualaid.models.enums import Precision, enum_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_clock: Callable[[], dt.datetime] | None = None


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC: the app's one clock (a simulation may set another)."""
    return _clock() if _clock is not None else dt.datetime.now(dt.UTC)


def set_clock(clock: Callable[[], dt.datetime] | None) -> None:
    """Replace the app's clock (simulations of a day; None restores the real one)."""
    global _clock
    _clock = clock


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every database.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones and hands back
    naive values, which this type reads as UTC. Naive values are refused on
    the way in so that no local time slips into the database.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware UTC datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime()},
    )


class Located:
    """Columns of a place a person typed and what we resolved it to (requests and offers)."""

    @declared_attr
    def location_text(cls) -> Mapped[str]:
        """What the person typed ("11216", "cerca de Fulton St", "123 Main St"): it can be
        a street address, so it is encrypted (bound to its own table's column)."""
        return mapped_column(
            Encrypted(f"{cls.__tablename__}.location_text", 200), default="", server_default=""
        )

    lat: Mapped[float | None]
    lon: Mapped[float | None]
    location_label: Mapped[str | None] = mapped_column(String(120))
    location_precision: Mapped[Precision] = mapped_column(
        enum_column(Precision, "precision"), default=Precision.NONE, server_default="none"
    )
