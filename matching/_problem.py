"""The matching problem as validated arrays: `Problem`, its documented limits, feasibility
and the exact integer costs the solvers compare."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._arrays import distinct
from ._geo import EARTH_RADIUS_KM, unit_vectors

__all__ = ["LIMITS", "Problem"]

_IntArray = NDArray[np.intp]
_FloatArray = NDArray[np.float64]
_BoolArray = NDArray[np.bool_]

#: Documented limits of every input value; anything beyond is refused with a
#: ValueError naming the record (or array index) and the field. They bound the
#: memory and keep every sum of the exact integer costs within 64 bits.
LIMITS: dict[str, tuple[float, float]] = {
    "capacity": (0, 1000),
    "radius_km": (0.0, 20_100.0),  # just over half the circumference: any two points
    "max_km": (0.0, 20_100.0),  # exclusive at 0
    "penalty": (0.0, 10_000.0),
    "weight": (1, 1_000_000),
    "waited_hours": (0.0, 1_000_000.0),
    "urgency_points": (1, 100_000),
    "wait_points_per_day": (0.0, 100_000.0),
    "max_wait_points": (0, 100_000),
    "records": (0, 5_000_000),
}

# Costs are compared as whole multiples of this many km (a micrometre), exactly.
_RESOLUTION_KM = 1e-9


def _as_1d(name: str, values: ArrayLike | None, n: int, dtype: type, default: object) -> NDArray:
    if values is None:
        return np.full(n, default, dtype=dtype)
    arr: NDArray = np.asarray(values)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    if dtype is np.int64 and arr.size and arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            bad = int(np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))[0])
            raise ValueError(f"{name}[{bad}] = {arr[bad].item()!r} must be a whole number")
        if np.any(np.abs(arr) > 2.0**62):
            bad = int(np.flatnonzero(np.abs(arr) > 2.0**62)[0])
            raise ValueError(f"{name}[{bad}] = {arr[bad].item()!r} is out of range")
    if dtype is np.int64 and arr.dtype.kind == "O":
        arr = np.asarray([int(x) for x in arr.tolist()], dtype=object)
        big = [k for k, x in enumerate(arr.tolist()) if abs(x) > 2**62]
        if big:
            raise ValueError(f"{name}[{big[0]}] = {arr[big[0]]!r} is out of range")
    return np.asarray(arr, dtype=dtype)


def _check_range(name: str, arr: NDArray, low: float, high: float, low_open: bool = False) -> None:
    with np.errstate(invalid="ignore"):
        ok = (arr > low) if low_open else (arr >= low)
        ok &= arr <= high
    if not np.all(ok):
        bad = int(np.flatnonzero(~ok)[0])
        bracket = "(" if low_open else "["
        raise ValueError(
            f"{name}[{bad}] = {arr[bad].item()!r} is out of range {bracket}{low:g}, {high:g}]"
        )


@dataclass(frozen=True, eq=False)
class Problem:
    """One matching instance as arrays, validated at construction.

    Needs are rows, volunteers columns. A volunteer may serve a need when it
    offers the need's category, the great-circle distance is within its radius
    and the network's ``max_km``, it has capacity, it is vetted if the need
    requires it, and the pair is not excluded. Values outside `LIMITS` raise
    ValueError naming the array, the index and the limit.

    Parameters
    ----------
    need_lat, need_lon : array_like, shape (n,)
        Need locations in degrees.
    need_category : array_like of int, shape (n,)
        Column of `vol_offers` naming each need's category.
    need_weight : array_like of int, shape (n,)
        Priority weights, whole numbers in ``LIMITS["weight"]``.
    vol_lat, vol_lon : array_like, shape (m,)
        Volunteer locations in degrees.
    vol_offers : array_like of bool, shape (m, n_categories)
        Which categories each volunteer offers.
    vol_radius_km : array_like, shape (m,)
        Travel radius of each volunteer.
    vol_capacity : array_like of int, shape (m,), optional
        Needs each volunteer may take (default 1; 0 means full).
    need_vetted, vol_vetted : array_like of bool, optional
        Needs requiring a vetted volunteer; vetted volunteers.
    vol_penalty : array_like, shape (m,), optional
        Extra cost per assigned need, km-equivalents.
    exclude : array_like of int, shape (p, 2), optional
        ``(need index, volunteer index)`` pairs that may not be matched.
    max_km : float
        Network-wide distance limit.

    Examples
    --------
    >>> p = Problem([0.0], [0.0], [0], [10], [0.0], [0.01], [[True]], [5.0])
    >>> p.n_need, p.n_vol, p.capacity.tolist()
    (1, 1, [1])
    >>> Problem([0.0], [0.0], [0], [10], [0.0], [0.0], [[True]], [5.0], [2**31])
    Traceback (most recent call last):
    ...
    ValueError: vol_capacity[0] = 2147483648 is out of range [0, 1000]
    """

    need_lat: ArrayLike
    need_lon: ArrayLike
    need_category: ArrayLike
    need_weight: ArrayLike
    vol_lat: ArrayLike
    vol_lon: ArrayLike
    vol_offers: ArrayLike
    vol_radius_km: ArrayLike
    vol_capacity: ArrayLike | None = None
    need_vetted: ArrayLike | None = None
    vol_vetted: ArrayLike | None = None
    vol_penalty: ArrayLike | None = None
    exclude: ArrayLike | None = None
    max_km: float = 25.0
    # Derived, validated arrays.
    xyz_need: _FloatArray = field(init=False, repr=False)
    xyz_vol: _FloatArray = field(init=False, repr=False)
    category: _IntArray = field(init=False, repr=False)
    weight: NDArray[np.int64] = field(init=False, repr=False)
    offers: _BoolArray = field(init=False, repr=False)
    radius: _FloatArray = field(init=False, repr=False)
    capacity: NDArray[np.int64] = field(init=False, repr=False)
    needs_vetted: _BoolArray = field(init=False, repr=False)
    vetted: _BoolArray = field(init=False, repr=False)
    penalty: _FloatArray = field(init=False, repr=False)
    exclude_keys: NDArray[np.int64] = field(init=False, repr=False)
    lat_lon_need: _FloatArray = field(init=False, repr=False)
    lat_lon_vol: _FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        lat_n = np.asarray(self.need_lat, dtype=np.float64).reshape(-1)
        n = len(lat_n)
        lon_n = _as_1d("need_lon", self.need_lon, n, np.float64, 0.0)
        lat_v = np.asarray(self.vol_lat, dtype=np.float64).reshape(-1)
        m = len(lat_v)
        lon_v = _as_1d("vol_lon", self.vol_lon, m, np.float64, 0.0)
        high = LIMITS["records"][1]
        if n > high or m > high:
            raise ValueError(f"at most {high:,} needs and {high:,} volunteers, got {n:,}, {m:,}")
        _check_range("need_lat", lat_n, -90, 90)
        _check_range("need_lon", lon_n, -180, 180)
        _check_range("vol_lat", lat_v, -90, 90)
        _check_range("vol_lon", lon_v, -180, 180)
        offers = np.asarray(self.vol_offers, dtype=bool)
        if offers.size == 0 and not (offers.ndim == 2 and offers.shape[0] == m):
            offers = np.zeros((m, offers.shape[-1] if offers.ndim == 2 else 0), dtype=bool)
        if offers.ndim != 2 or offers.shape[0] != m:
            raise ValueError(f"vol_offers must have shape ({m}, n_categories), got {offers.shape}")
        category = _as_1d("need_category", self.need_category, n, np.int64, 0)
        _check_range("need_category", category, 0, max(offers.shape[1] - 1, 0))
        if n and offers.shape[1] == 0:
            raise ValueError("need_category must index the columns of vol_offers")
        weight = _as_1d("need_weight", self.need_weight, n, np.int64, 1)
        _check_range("need_weight", weight, *LIMITS["weight"])
        radius = _as_1d("vol_radius_km", self.vol_radius_km, m, np.float64, 0.0)
        _check_range("vol_radius_km", radius, *LIMITS["radius_km"])
        capacity = _as_1d("vol_capacity", self.vol_capacity, m, np.int64, 1)
        _check_range("vol_capacity", capacity, *LIMITS["capacity"])
        penalty = _as_1d("vol_penalty", self.vol_penalty, m, np.float64, 0.0)
        _check_range("vol_penalty", penalty, *LIMITS["penalty"])
        max_km = float(self.max_km)
        low, top = LIMITS["max_km"]
        if not (low < max_km <= top):
            raise ValueError(f"max_km = {self.max_km!r} is out of range ({low:g}, {top:g}]")
        keys = np.zeros(0, dtype=np.int64)
        if self.exclude is not None:
            pairs = np.asarray(self.exclude, dtype=np.int64).reshape(-1, 2)
            bad = (pairs[:, 0] < 0) | (pairs[:, 0] >= n) | (pairs[:, 1] < 0) | (pairs[:, 1] >= m)
            if np.any(bad):
                k = int(np.flatnonzero(bad)[0])
                raise ValueError(f"exclude[{k}] = {pairs[k].tolist()} is not a (need, volunteer)")
            keys = distinct(pairs[:, 0] * m + pairs[:, 1])
        put(self, "lat_lon_need", np.stack([lat_n, lon_n], axis=1))
        put(self, "lat_lon_vol", np.stack([lat_v, lon_v], axis=1))
        put(self, "xyz_need", unit_vectors(lat_n, lon_n).reshape(n, 3))
        put(self, "xyz_vol", unit_vectors(lat_v, lon_v).reshape(m, 3))
        put(self, "category", category.astype(np.intp))
        put(self, "weight", weight)
        put(self, "offers", offers)
        put(self, "radius", radius)
        put(self, "capacity", capacity)
        put(self, "needs_vetted", _as_1d("need_vetted", self.need_vetted, n, np.bool_, False))
        put(self, "vetted", _as_1d("vol_vetted", self.vol_vetted, m, np.bool_, False))
        put(self, "penalty", penalty)
        put(self, "exclude_keys", keys)
        put(self, "max_km", max_km)

    @property
    def n_need(self) -> int:
        return len(self.category)

    @property
    def n_vol(self) -> int:
        return len(self.radius)

    def reach(self) -> _FloatArray:
        """Each volunteer's effective radius: its own, capped by ``max_km``."""
        return np.minimum(self.radius, self.max_km)

    def feasible(self, need: _IntArray, vol: _IntArray, km: _FloatArray) -> _BoolArray:
        """Which of these pairs may be matched (category, range, capacity, vetting, exclusion).

        Examples
        --------
        >>> p = Problem([0.0], [0.0], [0], [10], [0.0], [0.0], [[True]], [5.0])
        >>> p.feasible(np.array([0]), np.array([0]), np.array([5.0])).tolist()
        [True]
        """
        ok = self.offers[vol, self.category[need]]
        ok &= km <= np.minimum(self.radius[vol], self.max_km)
        ok &= self.capacity[vol] > 0
        ok &= ~(self.needs_vetted[need] & ~self.vetted[vol])
        if len(self.exclude_keys):
            keys = need.astype(np.int64) * self.n_vol + vol
            at = np.minimum(np.searchsorted(self.exclude_keys, keys), len(self.exclude_keys) - 1)
            ok &= self.exclude_keys[at] != keys
        return ok

    def pair_km(self, need: _IntArray, vol: _IntArray) -> _FloatArray:
        """Great-circle km of these pairs, from the chord between their unit vectors."""
        return gathered_km(self.xyz_need, need, self.xyz_vol, vol)


def chord_km(a: _FloatArray, b: _FloatArray) -> _FloatArray:
    """Great-circle km between rows of unit-vector arrays, by the chord (as the solver)."""
    d = a - b
    chord = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2])
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord * 0.5, 1.0))


#: Pairs whose points `gathered_km` gathers at once: their temporaries (about 100 bytes
#: a pair) stay near 25 MB however many pairs there are (a million rows' 12 million
#: candidate pairs at once took 1.2 GB).
_GATHER_PAIRS = 1 << 18


def gathered_km(a_xyz: _FloatArray, a: NDArray, b_xyz: _FloatArray, b: NDArray) -> _FloatArray:
    """``chord_km(a_xyz[a], b_xyz[b])``, a block of pairs at a time."""
    out = np.empty(len(a), dtype=np.float64)
    for start in range(0, len(a), _GATHER_PAIRS):
        end = start + _GATHER_PAIRS
        out[start:end] = chord_km(a_xyz[a[start:end]], b_xyz[b[start:end]])
    return out


def cost_units(km_max: float, nodes: int) -> float:
    """Integer cost units per km: a micrometre, coarser only where path sums of
    ``nodes`` costs of up to ``km_max`` could leave 62 bits."""
    per_km = 1.0 / _RESOLUTION_KM
    while per_km > 1.0 and (nodes + 2) * (km_max + 1.0) * per_km >= 2.0**61:
        per_km /= 2.0
    return per_km
