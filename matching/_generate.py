"""Synthetic instances: a clustered metro, or a country of many such cities."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._geo import EARTH_RADIUS_KM

__all__ = ["CATEGORIES", "generate_instance"]

#: The eight categories of the synthetic instances.
CATEGORIES: tuple[str, ...] = (
    "groceries",
    "meals",
    "medicine",
    "rides",
    "childcare",
    "pets",
    "errands",
    "company",
)


def _scatter(
    rng: np.random.Generator,
    n: int,
    centres: NDArray[np.float64],
    share: NDArray[np.float64],
    spread_km: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """n points around the given (lat, lon) centres, Gaussian with spread_km."""
    which = rng.choice(len(centres), size=n, p=share / share.sum())
    north = rng.normal(0.0, spread_km[which])
    east = rng.normal(0.0, spread_km[which])
    lat = centres[which, 0] + np.degrees(north / EARTH_RADIUS_KM)
    lon = centres[which, 1] + np.degrees(
        east / (EARTH_RADIUS_KM * np.cos(np.radians(centres[which, 0])))
    )
    return np.clip(lat, -89.9, 89.9), (lon + 180.0) % 360.0 - 180.0


def _neighbourhoods(
    rng: np.random.Generator, cities: NDArray[np.float64], per_city: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Neighbourhood centres within ~12 km of each city centre, and their spreads."""
    centres = np.repeat(cities, per_city, axis=0)
    r = 12.0 * np.sqrt(rng.random(len(centres)))
    a = rng.random(len(centres)) * 2 * np.pi
    lat = centres[:, 0] + np.degrees(r * np.sin(a) / EARTH_RADIUS_KM)
    lon = centres[:, 1] + np.degrees(
        r * np.cos(a) / (EARTH_RADIUS_KM * np.cos(np.radians(centres[:, 0])))
    )
    return np.stack([lat, lon], axis=1), rng.uniform(0.8, 3.0, len(centres))


def generate_instance(
    needs: int, volunteers: int, city: str = "metro", seed: int = 0
) -> dict[str, Any]:
    """A synthetic instance as a JSON-ready mapping (the instance format).

    The metro is about 30 km across: 24 neighbourhoods with Gaussian spreads
    of 0.8-3 km, demand and supply weighted differently per neighbourhood;
    8 categories (needs spread unevenly over them), volunteers offering 1-3,
    radii 2-15 km, capacity 1-3, half of them vetted; needs 70 % normal,
    20 % soon, 10 % urgent, waiting 0-72 h, 10 % needing a vetted volunteer,
    5 % excluding one volunteer. The country is one metro per ~2,000 needs,
    with Zipf-like sizes, scattered over the continental United States.

    Examples
    --------
    >>> inst = generate_instance(3, 2, "metro", seed=1)
    >>> len(inst["needs"]), len(inst["volunteers"]), inst["settings"]["max_km"]
    (3, 2, 25.0)
    """
    if city not in ("metro", "country"):
        raise ValueError(f"city must be 'metro' or 'country', got {city!r}")
    if needs < 0 or volunteers < 0:
        raise ValueError("needs and volunteers must be >= 0")
    rng = np.random.default_rng(seed)
    if city == "metro":
        cities = np.array([[40.70, -73.95]])
        city_share = np.ones(1)
    else:
        n_cities = max(2, (max(needs, volunteers) + 1999) // 2000)
        cities = np.stack(
            [rng.uniform(26.0, 48.0, n_cities), rng.uniform(-122.0, -70.0, n_cities)], axis=1
        )
        city_share = np.arange(1, n_cities + 1, dtype=np.float64) ** -0.7
    per_city = 24
    hoods, spread = _neighbourhoods(rng, cities, per_city)
    share = np.repeat(city_share, per_city)
    need_share = share * rng.uniform(0.2, 1.0, len(hoods))
    vol_share = share * rng.uniform(0.2, 1.0, len(hoods))
    n_lat, n_lon = _scatter(rng, needs, hoods, need_share, spread)
    v_lat, v_lon = _scatter(rng, volunteers, hoods, vol_share, spread)
    cat_share = np.array([3.0, 2.0, 2.0, 1.5, 1.0, 0.8, 1.2, 0.8])
    need_cat = rng.choice(len(CATEGORIES), size=needs, p=cat_share / cat_share.sum())
    urgency = rng.choice(3, size=needs, p=[0.7, 0.2, 0.1])
    waited = np.round(rng.uniform(0.0, 72.0, needs), 1)
    vetted_need = rng.random(needs) < 0.1
    excluded = rng.integers(0, max(volunteers, 1), needs)
    has_exclusion = (rng.random(needs) < 0.05) & (volunteers > 0)
    n_offer = rng.integers(1, 4, volunteers)
    offer_rank = np.argsort(rng.random((volunteers, len(CATEGORIES))), axis=1)
    radius = np.round(rng.uniform(2.0, 15.0, volunteers), 1)
    capacity = rng.integers(1, 4, volunteers)
    vetted = rng.random(volunteers) < 0.5
    names = ("normal", "soon", "urgent")
    need_list = [
        {
            "id": f"r{i}",
            "lat": round(float(n_lat[i]), 6),
            "lon": round(float(n_lon[i]), 6),
            "category": CATEGORIES[need_cat[i]],
            "urgency": names[urgency[i]],
            "waited_hours": float(waited[i]),
            "exclude": [f"v{excluded[i]}"] if has_exclusion[i] else [],
            "needs_vetted": bool(vetted_need[i]),
        }
        for i in range(needs)
    ]
    vol_list = [
        {
            "id": f"v{j}",
            "lat": round(float(v_lat[j]), 6),
            "lon": round(float(v_lon[j]), 6),
            "categories": [CATEGORIES[c] for c in sorted(offer_rank[j, : n_offer[j]])],
            "radius_km": float(radius[j]),
            "capacity": int(capacity[j]),
            "vetted": bool(vetted[j]),
        }
        for j in range(volunteers)
    ]
    return {"settings": {"max_km": 25.0}, "needs": need_list, "volunteers": vol_list}
