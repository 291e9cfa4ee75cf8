"""The JSON instance and result formats, as plain mappings (no file I/O here)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._collector import with_collector_paused
from ._model import URGENCIES, Need, Result, Settings, Stats, Unmatched, Volunteer
from ._problem import LIMITS
from ._tables import NeedTable, VolunteerTable

__all__ = [
    "columns_to_dict",
    "loads_instance",
    "parse_instance",
    "parse_tables",
    "result_to_dict",
]

_NEED_FIELDS = {
    "id",
    "lat",
    "lon",
    "category",
    "urgency",
    "waited_hours",
    "exclude",
    "needs_vetted",
}
_VOL_FIELDS = {"id", "lat", "lon", "categories", "radius_km", "capacity", "vetted", "penalty"}
_SETTINGS_FIELDS = {
    "max_km",
    "urgency_points",
    "wait_points_per_day",
    "max_wait_points",
    "k_nearest",
    "k_nearest_needs",
    "max_rounds",
}


def _label(kind: str, k: int, rec: Mapping[str, Any]) -> str:
    rid = rec.get("id") if isinstance(rec, Mapping) else None
    return f"{kind} #{k}" + (f" (id {rid!r})" if rid is not None else "")


def _number(rec: Mapping[str, Any], key: str, low: float, high: float, **kw: Any) -> Any:
    if key not in rec:
        if "default" in kw:
            return kw["default"]
        raise ValueError(f"missing field {key!r}")
    value = rec[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a finite number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number, got {value!r}")
    if kw.get("integer") and int(value) != value:
        raise ValueError(f"{key} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{key} {value!r} is out of range [{low:g}, {high:g}]")
    return int(value) if kw.get("integer") else float(value)


def _string(rec: Mapping[str, Any], key: str, default: str | None = None) -> str:
    if key not in rec:
        if default is not None:
            return default
        raise ValueError(f"missing field {key!r}")
    value = rec[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string, got {value!r}")
    return value


def _strings(rec: Mapping[str, Any], key: str, required: bool) -> tuple[str, ...]:
    if key not in rec:
        if required:
            raise ValueError(f"missing field {key!r}")
        return ()
    value = rec[key]
    if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
        raise ValueError(f"{key} must be a list of non-empty strings, got {value!r}")
    return tuple(value)


def _flag(rec: Mapping[str, Any], key: str) -> bool:
    value = rec.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, got {value!r}")
    return value


def _check_keys(rec: object, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(rec, Mapping):
        raise ValueError(f"must be an object, got {type(rec).__name__}")
    unknown = sorted(set(rec) - allowed)
    if unknown:
        raise ValueError(f"unknown field(s) {unknown}")
    return rec


def _need(rec: object, seen: set[str]) -> Need:
    rec = _check_keys(rec, _NEED_FIELDS)
    rid = _string(rec, "id")
    if rid in seen:
        raise ValueError("duplicate id")
    seen.add(rid)
    urgency = _string(rec, "urgency", "normal")
    if urgency not in URGENCIES:
        raise ValueError(f"urgency must be one of {URGENCIES}, got {urgency!r}")
    return Need(
        id=rid,
        lat=_number(rec, "lat", -90, 90),
        lon=_number(rec, "lon", -180, 180),
        category=_string(rec, "category"),
        urgency=urgency,
        waited_hours=_number(rec, "waited_hours", *LIMITS["waited_hours"], default=0.0),
        exclude=_strings(rec, "exclude", required=False),
        needs_vetted=_flag(rec, "needs_vetted"),
    )


def _volunteer(rec: object, seen: set[str]) -> Volunteer:
    rec = _check_keys(rec, _VOL_FIELDS)
    rid = _string(rec, "id")
    if rid in seen:
        raise ValueError("duplicate id")
    seen.add(rid)
    return Volunteer(
        id=rid,
        lat=_number(rec, "lat", -90, 90),
        lon=_number(rec, "lon", -180, 180),
        categories=_strings(rec, "categories", required=True),
        radius_km=_number(rec, "radius_km", *LIMITS["radius_km"]),
        capacity=_number(rec, "capacity", *LIMITS["capacity"], integer=True, default=1),
        vetted=_flag(rec, "vetted"),
        penalty=_number(rec, "penalty", *LIMITS["penalty"], default=0.0),
    )


class _Unusual(Exception):
    """A batch that the fast path does not vouch for; the per-record path decides."""


_NUMBER = {int, float}


def _only(values: list[Any], types: set[type]) -> bool:
    """Whether every value is of one of ``types`` exactly (a bool is not an int here).
    The checks of this batch path run in C (``map``, ``set``), not a Python loop."""
    return set(map(type, values)) <= types


def _column(recs: list[Any], key: str, default: Any = _Unusual) -> list[Any]:
    if default is _Unusual:
        try:
            return list(map(itemgetter(key), recs))
        except KeyError:
            raise _Unusual from None
    return list(map(dict.get, recs, repeat(key, len(recs)), repeat(default, len(recs))))


def _numbers(values: list[Any], low: float, high: float) -> NDArray[np.float64]:
    """Floats of ``values`` when every one is a number (not a bool) within range."""
    if not _only(values, _NUMBER):
        raise _Unusual
    try:
        arr = np.asarray(values, dtype=np.float64)
    except OverflowError:
        raise _Unusual from None
    if not (np.all(arr >= low) and np.all(arr <= high)):  # False for NaN too
        raise _Unusual
    return arr


def _texts(values: list[Any]) -> None:
    if not _only(values, {str}) or not all(values):
        raise _Unusual


def _records(recs: Any, allowed: set[str]) -> None:
    if not isinstance(recs, list) or not _only(recs, {dict}):
        raise _Unusual
    keys: set[str] = set()
    keys.update(*recs)
    if not keys <= allowed:
        raise _Unusual


def _placed(recs: list[Any], allowed: set[str]) -> tuple[list[str], Any, Any]:
    """Unique ids and in-range coordinates of plainly valid records."""
    _records(recs, allowed)
    ids = _column(recs, "id")
    _texts(ids)
    if len(set(ids)) != len(ids):
        raise _Unusual
    return ids, _numbers(_column(recs, "lat"), -90, 90), _numbers(_column(recs, "lon"), -180, 180)


def _shared(values: list[str], pool: dict[str, str]) -> list[str]:
    """``values`` with equal strings one object (JSON decoding makes one per occurrence:
    a million needs' categories and urgencies took 110 MB, now a few bytes)."""
    return [pool.setdefault(v, v) for v in values]


def _fast_needs(recs: list[Any]) -> NeedTable:
    """All needs at once, when every record is plainly valid (else `_Unusual`): as
    columns, never as a million objects."""
    ids, lat, lon = _placed(recs, _NEED_FIELDS)
    category = _column(recs, "category")
    _texts(category)
    urgency = _column(recs, "urgency", "normal")
    if not _only(urgency, {str}) or not set(urgency) <= set(URGENCIES):
        raise _Unusual
    waited = _numbers(_column(recs, "waited_hours", 0.0), *LIMITS["waited_hours"])
    exclude = _column(recs, "exclude", [])
    if not _only(exclude, {list}):
        raise _Unusual
    _texts([v for x in exclude for v in x])
    vetted = _column(recs, "needs_vetted", False)
    if not _only(vetted, {bool}):
        raise _Unusual
    pool: dict[str, str] = {}
    category, urgency = _shared(category, pool), _shared(urgency, pool)
    return NeedTable(
        ids, lat, lon, category, urgency, waited, [tuple(x) if x else () for x in exclude], vetted
    )


def _fast_volunteers(recs: list[Any]) -> VolunteerTable:
    """All volunteers at once, when every record is plainly valid (else `_Unusual`): as
    columns, each distinct set of categories one tuple."""
    ids, lat, lon = _placed(recs, _VOL_FIELDS)
    categories = _column(recs, "categories")
    if not _only(categories, {list}):
        raise _Unusual
    _texts([v for x in categories for v in x])
    radius = _numbers(_column(recs, "radius_km"), *LIMITS["radius_km"])
    capacity = _column(recs, "capacity", 1)
    low, high = LIMITS["capacity"]
    if not _only(capacity, {int}) or (
        capacity and not low <= min(capacity) <= max(capacity) <= high
    ):
        raise _Unusual
    vetted = _column(recs, "vetted", False)
    if not _only(vetted, {bool}):
        raise _Unusual
    penalty = _numbers(_column(recs, "penalty", 0.0), *LIMITS["penalty"])
    pool: dict[str, str] = {}
    sets: dict[tuple[str, ...], tuple[str, ...]] = {}
    offered = [tuple(_shared(c, pool)) for c in categories]
    return VolunteerTable(
        ids, lat, lon, [sets.setdefault(c, c) for c in offered], radius, capacity, vetted, penalty
    )


def _each(kind: str, recs: list[Any], parse: Any) -> list[Any]:
    """Record by record: the first problem names its record (position and id)."""
    out = []
    seen: set[str] = set()
    for k, rec in enumerate(recs):
        try:
            out.append(parse(rec, seen))
        except ValueError as exc:
            raise ValueError(f"{_label(kind, k, rec)}: {exc}") from None
    return out


@with_collector_paused
def parse_instance(doc: object) -> tuple[list[Need], list[Volunteer], Settings]:
    """Needs, volunteers and settings from a decoded JSON instance.

    Every record is checked; the first problem raises ValueError naming the
    record (its position and id). Nothing is ever dropped silently.

    Examples
    --------
    >>> needs, vols, s = parse_instance({
    ...     "settings": {"max_km": 10},
    ...     "needs": [{"id": "r1", "lat": 40.68, "lon": -73.94, "category": "groceries"}],
    ...     "volunteers": [{"id": "v1", "lat": 40.69, "lon": -73.95,
    ...                     "categories": ["groceries"], "radius_km": 5}]})
    >>> needs[0].urgency, vols[0].capacity, s.max_km
    ('normal', 1, 10.0)
    >>> parse_instance({"needs": [{"id": "r1", "lat": 91, "lon": 0, "category": "x"}],
    ...                 "volunteers": []})
    Traceback (most recent call last):
    ...
    ValueError: need #0 (id 'r1'): lat 91 is out of range [-90, 90]
    """
    needs, vols, settings = parse_tables(doc)
    return list(needs), list(vols), settings


def parse_tables(doc: object) -> tuple[NeedTable, VolunteerTable, Settings]:
    """`parse_instance`, the needs and volunteers as tables (held as columns: what
    `python -m matching solve` reads a million records into)."""
    try:
        top = _check_keys(doc, {"settings", "needs", "volunteers"})
    except ValueError as exc:
        raise ValueError(f"instance: {exc}") from None
    for key in ("needs", "volunteers"):
        if not isinstance(top.get(key), list):
            raise ValueError(f"instance: {key!r} must be a list")
    try:
        settings = Settings(**_check_keys(top.get("settings", {}), _SETTINGS_FIELDS))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"settings: {exc}") from exc
    try:
        needs = _fast_needs(top["needs"])
    except _Unusual:
        needs = NeedTable.of(_each("need", top["needs"], _need))
    try:
        vols = _fast_volunteers(top["volunteers"])
    except _Unusual:
        vols = VolunteerTable.of(_each("volunteer", top["volunteers"], _volunteer))
    return needs, vols, settings


#: Characters of records decoded at a time by `loads_instance` (about 60,000 records).
CHUNK_CHARS = 8_000_000

_WS = re.compile(r"[ \t\n\r]*")


def _skip(text: str, pos: int) -> int:
    """The position of the first character at or after ``pos`` that is not JSON space."""
    return _WS.match(text, pos).end()  # type: ignore[union-attr]  # "*" always matches


_BETWEEN = re.compile(r"\}[ \t\n\r]*,[ \t\n\r]*\{")  # between two records
_LAST = re.compile(r"\}[ \t\n\r]*\]")  # after the last
_DECODER = json.JSONDecoder()


def _chunked(text: str, pos: int, parse: Callable[[list[Any]], Any]) -> tuple[Any, int]:
    """The array of records at ``text[pos] == "["``, parsed about `CHUNK_CHARS` at a
    time; the records and the position after the array. `_Unusual` where a record is
    not plainly valid or an id repeats. The records as one table (`parse`'s, joined).

    Cut where one record ends and the next begins (``}``, ``,``, ``{``), each piece is
    decoded as an array of its own. A cut that fell inside a string (an id holding
    "},{") leaves that string open, and the piece is not JSON; a cut inside a nested
    value leaves it unclosed: either way `_Unusual`, never other records."""
    parts: list[Any] = []
    seen: set[str] = set()
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        return parse([]), pos + 1
    while True:
        cut = _BETWEEN.search(text, pos + CHUNK_CHARS)
        last = _LAST.search(text, pos, len(text) if cut is None else cut.start() + 1)
        if last is None and cut is None:
            raise _Unusual
        end = last.start() if last is not None else cut.start()  # type: ignore[union-attr]
        try:
            chunk = json.loads("[" + text[pos : end + 1] + "]")
        except json.JSONDecodeError:
            raise _Unusual from None
        parsed = parse(chunk)
        del chunk
        if not seen.isdisjoint(parsed.id):
            raise _Unusual
        seen.update(parsed.id)
        parts.append(parsed)
        if last is not None:
            return (parts[0] if len(parts) == 1 else type(parts[0]).concat(parts)), last.end()
        pos = cut.end() - 1  # type: ignore[union-attr]


def _streamed(text: str) -> tuple[NeedTable, VolunteerTable, Settings]:
    """`loads_instance`'s one pass, or `_Unusual` (then the whole document is decoded)."""
    pos = _skip(text, 0)
    if not text.startswith("{", pos):
        raise _Unusual
    top: dict[str, Any] = {}
    pos = _skip(text, pos + 1)
    parsers: dict[str, Callable[[list[Any]], Any]] = {
        "needs": _fast_needs,
        "volunteers": _fast_volunteers,
    }
    try:
        while not text.startswith("}", pos):
            if not text.startswith('"', pos):
                raise _Unusual
            key, pos = _DECODER.raw_decode(text, pos)
            pos = _skip(text, pos)
            if key in top or not text.startswith(":", pos):
                raise _Unusual
            pos = _skip(text, pos + 1)
            if key in parsers and text.startswith("[", pos):
                top[key], pos = _chunked(text, pos, parsers[key])
            elif key == "settings":
                top[key], pos = _DECODER.raw_decode(text, pos)
            else:
                raise _Unusual
            pos = _skip(text, pos)
            if text.startswith(",", pos):
                pos = _skip(text, pos + 1)
                if text.startswith("}", pos):
                    raise _Unusual
            elif not text.startswith("}", pos):
                raise _Unusual
    except json.JSONDecodeError:
        raise _Unusual from None
    if _skip(text, pos + 1) != len(text) or not {"needs", "volunteers"} <= set(top):
        raise _Unusual
    try:
        settings = Settings(**_check_keys(top.get("settings", {}), _SETTINGS_FIELDS))
    except (TypeError, ValueError):
        raise _Unusual from None
    return top["needs"], top["volunteers"], settings


@with_collector_paused
def loads_instance(text: str) -> tuple[NeedTable, VolunteerTable, Settings]:
    """``parse_tables(json.loads(text))``, the same records or the same error, without
    the decoded document: records are decoded `CHUNK_CHARS` at a time and made records
    at once. A million needs and volunteers decoded whole took 1.3 GB, which stayed taken
    after they were freed (their memory lay among the records'); here the text and one
    chunk. Anything unusual (a record not plainly valid, a repeated id or key, JSON not
    well formed) is left to the whole-document path, which names the problem.

    Raises ``json.JSONDecodeError`` where ``text`` is not JSON, ValueError as
    `parse_instance`.

    Examples
    --------
    >>> needs, vols, s = loads_instance(
    ...     '{"needs": [{"id": "r1", "lat": 1, "lon": 2, "category": "x"}], "volunteers": []}')
    >>> needs[0].id, len(vols), s.max_km
    ('r1', 0, 25.0)
    """
    try:
        return _streamed(text)
    except _Unusual:
        return parse_tables(json.loads(text))


def result_to_dict(result: Result) -> dict[str, Any]:
    """The result format: ``{"matches": [...], "unmatched": [...], "stats": {...}}``.

    Examples
    --------
    >>> from matching import Need, Volunteer, solve
    >>> doc = result_to_dict(solve([Need("r1", 0, 0, "x")], []))
    >>> doc["matches"], doc["unmatched"][0]["reason"], doc["stats"]["matched"]
    ([], 'no_category', 0)
    """
    pairs = result.pairs
    return columns_to_dict(
        [p.need for p in pairs],
        [p.volunteer for p in pairs],
        [p.km for p in pairs],
        [p.why for p in pairs],
        result.unmatched,
        result.stats,
    )


def columns_to_dict(
    need: list[str],
    volunteer: list[str],
    km: list[float],
    why: list[str],
    unmatched: Sequence[Unmatched],
    stats: Stats,
) -> dict[str, Any]:
    """`result_to_dict` of pairs given as columns (`matching._solve.Solved`)."""
    return {
        "matches": [
            {"need": n, "volunteer": v, "km": round(k, 6), "why": w}
            for n, v, k, w in zip(need, volunteer, km, why, strict=True)
        ],
        "unmatched": [{"need": u.need, "reason": u.reason, "detail": u.detail} for u in unmatched],
        "stats": asdict(stats),
    }
