"""The JSON instance and result formats, as plain mappings (no file I/O here)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from ._model import URGENCIES, Need, Result, Settings, Volunteer

__all__ = ["parse_instance", "result_to_dict"]

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
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number, got {value!r}")
    if kw.get("integer") and int(value) != value:
        raise ValueError(f"{key} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{key} {value!r} is out of range [{low}, {high}]")
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
        waited_hours=_number(rec, "waited_hours", 0, math.inf, default=0.0),
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
        radius_km=_number(rec, "radius_km", 0, math.inf),
        capacity=_number(rec, "capacity", 0, math.inf, integer=True, default=1),
        vetted=_flag(rec, "vetted"),
        penalty=_number(rec, "penalty", 0, math.inf, default=0.0),
    )


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
    needs: list[Need] = []
    seen: set[str] = set()
    for k, rec in enumerate(top["needs"]):
        try:
            needs.append(_need(rec, seen))
        except ValueError as exc:
            raise ValueError(f"{_label('need', k, rec)}: {exc}") from None
    vols: list[Volunteer] = []
    seen = set()
    for k, rec in enumerate(top["volunteers"]):
        try:
            vols.append(_volunteer(rec, seen))
        except ValueError as exc:
            raise ValueError(f"{_label('volunteer', k, rec)}: {exc}") from None
    return needs, vols, settings


def result_to_dict(result: Result) -> dict[str, Any]:
    """The result format: ``{"matches": [...], "unmatched": [...], "stats": {...}}``.

    Examples
    --------
    >>> from matching import Need, Volunteer, solve
    >>> doc = result_to_dict(solve([Need("r1", 0, 0, "x")], []))
    >>> doc["matches"], doc["unmatched"][0]["reason"], doc["stats"]["matched"]
    ([], 'no_category', 0)
    """
    return {
        "matches": [
            {"need": p.need, "volunteer": p.volunteer, "km": round(p.km, 6), "why": p.why}
            for p in result.pairs
        ],
        "unmatched": [
            {"need": u.need, "reason": u.reason, "detail": u.detail} for u in result.unmatched
        ],
        "stats": asdict(result.stats),
    }
