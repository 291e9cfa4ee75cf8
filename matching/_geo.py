"""Great-circle geometry in numpy: unit vectors, chords and kilometres."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["EARTH_RADIUS_KM", "chord_to_km", "great_circle_km", "km_to_chord", "unit_vectors"]

#: Mean earth radius used by ``geopy.distance.great_circle`` (km).
EARTH_RADIUS_KM = 6371.009


def unit_vectors(lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """Points on the unit sphere, shape ``(n, 3)``, from degrees.

    Examples
    --------
    >>> unit_vectors([0.0], [90.0]).round(12)
    array([[0., 1., 0.]])
    """
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    cos_phi = np.cos(phi)
    return np.stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)], axis=-1)


def chord_to_km(chord: ArrayLike) -> NDArray[np.float64]:
    """Great-circle km from the straight-line distance between unit vectors.

    Examples
    --------
    >>> float(chord_to_km(2.0)) == float(np.pi * EARTH_RADIUS_KM)
    True
    """
    half = np.clip(np.asarray(chord, dtype=np.float64) * 0.5, 0.0, 1.0)
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(half)


def km_to_chord(km: ArrayLike) -> NDArray[np.float64]:
    """Inverse of `chord_to_km` (km beyond half the circumference give 2).

    Examples
    --------
    >>> round(float(chord_to_km(km_to_chord(25.0))), 9)
    25.0
    """
    angle = np.clip(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, 0.0, np.pi)
    return 2.0 * np.sin(angle * 0.5)


def great_circle_km(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """Great-circle km between rows of two ``(n, 3)`` unit-vector arrays.

    Uses ``atan2(|a x b|, a . b)``, accurate for tiny and antipodal distances.

    Examples
    --------
    >>> p = unit_vectors([0.0, 0.0], [0.0, 180.0])
    >>> round(float(great_circle_km(p[:1], p[1:])[0]), 3)
    20015.115
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    dot = np.einsum("...i,...i->...", a, b)
    return EARTH_RADIUS_KM * np.arctan2(cross, dot)
