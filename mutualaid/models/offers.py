"""Volunteer offers: what a neighbour can do, where, how far and how much at once."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mutualaid.models.base import Base, Located, utcnow

if TYPE_CHECKING:
    from mutualaid.models.people import Person


class Offer(Located, Base):
    """One volunteer's standing offer (one per person, updated in place)."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), unique=True)
    radius_km: Mapped[float] = mapped_column(default=3.0, server_default="3")
    # How many tasks they will hold at once.
    capacity: Mapped[int] = mapped_column(default=1, server_default="1")
    # Free text as they wrote it ("weekday evenings"); shown to coordinators.
    availability: Mapped[str] = mapped_column(String(200), default="", server_default="")
    vetted: Mapped[bool] = mapped_column(default=False, server_default=false())
    vetted_at: Mapped[dt.datetime | None]
    vetted_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    paused: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship()
    category_rows: Mapped[list[OfferCategory]] = relationship(
        cascade="all, delete-orphan", order_by="OfferCategory.category", lazy="selectin"
    )

    @property
    def categories(self) -> list[str]:
        return [row.category for row in self.category_rows]

    @categories.setter
    def categories(self, keys: list[str]) -> None:
        wanted = sorted(set(keys))
        keep = [row for row in self.category_rows if row.category in wanted]
        have = {row.category for row in keep}
        self.category_rows = keep + [OfferCategory(category=k) for k in wanted if k not in have]

    def __repr__(self) -> str:
        return f"<Offer {self.id}>"


class OfferCategory(Base):
    __tablename__ = "offer_categories"

    offer_id: Mapped[int] = mapped_column(
        ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True
    )
    category: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)
