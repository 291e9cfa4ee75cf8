"""Builders for matching tests: needs and volunteers around a point, in km offsets."""

from __future__ import annotations

import math
from typing import Any

from matching import EARTH_RADIUS_KM, Need, Volunteer

ORIGIN = (40.68, -73.94)  # Brooklyn


def at(east_km: float = 0.0, north_km: float = 0.0) -> tuple[float, float]:
    """Latitude and longitude of a point east_km east and north_km north of ORIGIN."""
    lat = ORIGIN[0] + math.degrees(north_km / EARTH_RADIUS_KM)
    lon = ORIGIN[1] + math.degrees(east_km / (EARTH_RADIUS_KM * math.cos(math.radians(lat))))
    return lat, lon


def need(nid: str, east_km: float = 0.0, north_km: float = 0.0, **kw: Any) -> Need:
    lat, lon = at(east_km, north_km)
    kw.setdefault("category", "groceries")
    return Need(nid, lat, lon, **kw)


def volunteer(vid: str, east_km: float = 0.0, north_km: float = 0.0, **kw: Any) -> Volunteer:
    lat, lon = at(east_km, north_km)
    kw.setdefault("categories", ("groceries",))
    kw.setdefault("radius_km", 10.0)
    return Volunteer(vid, lat, lon, **kw)
