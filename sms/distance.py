"""Distances as people read them in a text: rounded ("under 1 km", "about 3 km"), in miles
where the region uses them. The words come from the message catalogue."""

from __future__ import annotations

__all__ = ["KM_PER_MILE", "MILE_REGIONS", "radius", "rounded", "uses_miles"]

KM_PER_MILE = 1.609344
# Regions whose people think in miles (ISO 3166 alpha-2, as PHONE_REGION is written).
MILE_REGIONS = frozenset({"US", "GB", "LR", "MM", "PR", "GU", "VI", "AS", "MP"})


def uses_miles(region: str) -> bool:
    """Whether distances are told in miles in ``region`` (the network's PHONE_REGION).

    >>> uses_miles("US"), uses_miles("MX")
    (True, False)
    """
    return region.upper() in MILE_REGIONS


def rounded(km: float, region: str) -> tuple[str, int, str]:
    """How to tell ``km`` to a person: ``("under", 1, unit)`` below one unit, else
    ``("about", n, unit)`` with n a whole number (to the nearest 5 from 20 on); ``unit``
    is "km", "mile" or "miles". Never "0.0" and never more digits than a person needs.

    >>> rounded(0.04, "MX"), rounded(2.6, "MX"), rounded(3.219, "US"), rounded(23, "MX")
    (('under', 1, 'km'), ('about', 3, 'km'), ('about', 2, 'miles'), ('about', 25, 'km'))
    >>> rounded(1.7, "US")
    ('about', 1, 'mile')
    """
    if km < 0:
        raise ValueError("a distance is never negative")
    miles = uses_miles(region)
    value = km / KM_PER_MILE if miles else km
    if value < 1:
        return "under", 1, "mile" if miles else "km"
    n = int(value + 0.5)
    if n >= 20:
        n = 5 * int(value / 5 + 0.5)
    unit = ("mile" if n == 1 else "miles") if miles else "km"
    return "about", n, unit


def radius(km: float, region: str) -> tuple[str, str]:
    """A volunteer's radius as they would have said it: ("3", "km"), ("2", "miles");
    one decimal at most, none when whole.

    >>> radius(3.219, "US"), radius(5.0, "MX"), radius(2.5, "MX"), radius(1.609344, "US")
    (('2', 'miles'), ('5', 'km'), ('2.5', 'km'), ('1', 'mile'))
    """
    miles = uses_miles(region)
    value = round(km / KM_PER_MILE if miles else km, 1)
    text = f"{value:g}"
    unit = ("mile" if value == 1 else "miles") if miles else "km"
    return text, unit
