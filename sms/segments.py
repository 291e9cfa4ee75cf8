"""How many SMS segments a text costs: GSM-7 or UCS-2, counted as carriers split it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["GSM7_BASIC", "GSM7_EXTENSION", "Segments", "segments"]

Encoding = Literal["GSM-7", "UCS-2"]

# 3GPP TS 23.038 default alphabet (one septet each) and its extension table
# (an escape septet plus one, so two each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_SINGLE = {"GSM-7": 160, "UCS-2": 70}
_PART = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True, slots=True)
class Segments:
    """The cost of one text: its encoding, length in units, and segment count.

    ``units`` are septets for GSM-7 (extension characters count two) and
    UTF-16 code units for UCS-2 (an emoji outside the BMP counts two).
    """

    encoding: Encoding
    units: int
    count: int


def segments(text: str) -> Segments:
    """Count the segments of ``text`` exactly.

    One segment holds 160 GSM-7 septets or 70 UCS-2 units; a longer text is
    sent in parts of 153 or 67 (the rest is the concatenation header), and a
    part never splits an escape sequence or a surrogate pair, so a character
    that would straddle a boundary moves to the next part. An empty text
    costs nothing.

    >>> segments("need groceries 11216")
    Segments(encoding='GSM-7', units=20, count=1)
    >>> segments("Está bien 👍")
    Segments(encoding='UCS-2', units=12, count=1)
    >>> segments("€" * 80).count, segments("a" * 161).count
    (1, 2)
    """
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        encoding: Encoding = "GSM-7"
        sizes = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    else:
        encoding = "UCS-2"
        sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    units = sum(sizes)
    if units == 0:
        return Segments(encoding, 0, 0)
    if units <= _SINGLE[encoding]:
        return Segments(encoding, units, 1)
    part, count, used = _PART[encoding], 1, 0
    for size in sizes:
        if used + size > part:
            count += 1
            used = 0
        used += size
    return Segments(encoding, units, count)
