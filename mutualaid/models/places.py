"""The network's gazetteer: neighbourhoods, landmarks and postcodes people name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from mutualaid.models.base import Base


class Place(Base):
    __tablename__ = "places"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # "neighbourhood", "landmark" or "postcode"
    kind: Mapped[str] = mapped_column(String(20))
    lat: Mapped[float]
    lon: Mapped[float]
    # Other names people use for it ("Bed-Stuy", "BedStuy").
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)

    def __repr__(self) -> str:
        return f"<Place {self.key}>"
