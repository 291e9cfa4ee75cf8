"""What one reader may see of people: phone numbers masked, street addresses hidden and
places approximate, unless a coordinator asks to reveal them — and every reveal is
audited."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sqlalchemy.orm import Session

from mutualaid.models import AidRequest, Offer
from mutualaid.services.audit import Actor, record
from mutualaid.services.catalogues import number_words
from mutualaid.services.lifecycle import strip_numbers
from sms.phones import mask


class Privacy:
    """What one reader may see of people: ``full`` for a coordinator who asked to reveal
    (audited), otherwise masked phones, no street address, approximate places only."""

    WORDS: ClassVar[dict[str, str]] = {
        "hidden": "(hidden)",
        "needs_location": "needs a location",
        "located": "located",
    }

    def __init__(
        self, full: bool, region: str = "US", words: Mapping[str, str] | None = None
    ) -> None:
        self.full = full
        self.region = region
        self.words = {**self.WORDS, **(words or {})}

    def phone(self, phone: str | None) -> str:
        if not phone:
            return ""
        return phone if self.full else mask(phone)

    def address(self, address: str | None) -> str:
        if not address:
            return ""
        return address if self.full else self.words["hidden"]

    def place(self, row: AidRequest | Offer) -> str:
        """Where: what was typed (only in full) or the resolved place name and precision."""
        label = row.location_label or ""
        if self.full and row.location_text:
            return f"{row.location_text} ({label})" if label else row.location_text
        return label or self.words["needs_location" if row.lat is None else "located"]

    def coords(self, lat: float | None, lon: float | None) -> str:
        if lat is None or lon is None:
            return ""
        digits = 5 if self.full else 2  # 2 decimals: about a kilometre
        return f"{lat:.{digits}f}, {lon:.{digits}f}"

    def text(self, text: str | None) -> str:
        """Free text a person wrote: numbers in it are removed unless in full."""
        if not text:
            return ""
        return text if self.full else strip_numbers(text, self.region, words=number_words())


def reveal(session: Session, actor: Actor, *, subject_type: str, subject_id: int | None) -> None:
    """A coordinator asked to see a person's phone number and address: audited."""
    record(session, actor, "contact.revealed", subject_type=subject_type, subject_id=subject_id)
