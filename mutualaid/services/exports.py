"""CSV exports of requests, volunteers and matches: streamed in batches, masked by the
reader's privacy, every cell safe to open in a spreadsheet."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mutualaid.models import AidRequest, Match, Offer
from mutualaid.services.privacy import Privacy

EXPORTS = ("requests", "volunteers", "matches")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A formula after a list separator: a spreadsheet in a locale whose separator is ";" (or
# one ignoring quotes) may cut the cell there, and the piece after it would run. A minus
# before a digit is a number ("40.68, -73.95"), not a formula.
_FORMULA_AFTER_SEPARATOR = re.compile(r"([;,]\s*)(?=[=+@\t\r]|-[^\d.\s])")


def safe_cell(value: Any, tz: dt.tzinfo | None = None) -> str:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or a tab or
    carriage return) gets a leading apostrophe, and so does such text after a ; or ,
    inside the cell. (The export also quotes every cell.)"""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        # With its offset, in the network's zone as the pages show it ("…T09:30:00-05:00").
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(tz or dt.UTC).isoformat(timespec="seconds")
    text = str(value.value if hasattr(value, "value") else value)
    text = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_rows(
    session: Session,
    kind: str,
    privacy: Privacy,
    *,
    batch: int = 1000,
    tz: dt.tzinfo | None = None,
) -> Iterator[list[str]]:
    """The header and rows of one export, streamed in batches; times in ``tz`` (the
    network's zone) with their UTC offset."""
    if kind == "requests":
        yield [
            "ref",
            "status",
            "category",
            "urgency",
            "channel",
            "created_at",
            "matched_at",
            "closed_at",
            "place",
            "approx_location",
            "name",
            "phone",
            "address",
            "details",
            "flagged",
            "flag_reason",
        ]
        query = select(AidRequest).options(selectinload(AidRequest.requester))
        for r in _batches(session, query, AidRequest.id, batch):
            yield [
                safe_cell(v, tz)
                for v in (
                    r.ref,
                    r.status,
                    r.category,
                    r.urgency,
                    r.channel,
                    r.created_at,
                    r.matched_at,
                    r.closed_at,
                    privacy.place(r),
                    privacy.coords(r.lat, r.lon),
                    r.requester.name,
                    privacy.phone(r.requester.phone),
                    privacy.address(r.address),
                    privacy.text(r.details),
                    r.flagged,
                    r.flag_reason,
                )
            ]
    elif kind == "volunteers":
        yield [
            "volunteer",
            "name",
            "phone",
            "categories",
            "place",
            "approx_location",
            "radius_km",
            "capacity",
            "availability",
            "vetted",
            "paused",
            "blocked",
            "created_at",
        ]
        query = select(Offer).options(selectinload(Offer.person))
        for o in _batches(session, query, Offer.id, batch):
            yield [
                safe_cell(v, tz)
                for v in (
                    f"V{o.id}",
                    o.person.name,
                    privacy.phone(o.person.phone),
                    " ".join(o.categories),
                    privacy.place(o),
                    privacy.coords(o.lat, o.lon),
                    o.radius_km,
                    o.capacity,
                    privacy.text(o.availability),
                    o.vetted,
                    o.paused,
                    o.person.blocked,
                    o.created_at,
                )
            ]
    elif kind == "matches":
        yield [
            "match",
            "request_ref",
            "volunteer",
            "status",
            "km",
            "why",
            "run",
            "assigned_by",
            "proposed_at",
            "answered_at",
            "closed_at",
        ]
        query = select(Match).options(selectinload(Match.request))
        for m in _batches(session, query, Match.id, batch):
            yield [
                safe_cell(v, tz)
                for v in (
                    m.id,
                    m.request.ref,
                    f"V{m.offer_id}",
                    m.status,
                    m.km,
                    m.why,
                    m.run_id,
                    m.assigned_by,
                    m.proposed_at,
                    m.answered_at,
                    m.closed_at,
                )
            ]
    else:
        raise ValueError(f"unknown export {kind!r}")


def _batches(session: Session, query: Any, key: Any, size: int) -> Iterator[Any]:
    """Rows of ``query`` by ascending ``key``, ``size`` at a time (keyset pagination)."""
    last = 0
    while True:
        rows = list(session.scalars(query.where(key > last).order_by(key).limit(size)))
        yield from rows
        if len(rows) < size:
            return
        last = rows[-1].id
