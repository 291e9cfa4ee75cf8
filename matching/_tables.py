"""Needs and volunteers as columns: a million records without a million objects.

`NeedTable` and `VolunteerTable` are sequences of `Need` and `Volunteer` (an item is
made when read), held as one list or array per field. Country 1M: the records took
660 MB as objects (each float, id and tuple an object of its own), about 230 MB so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from ._model import Need, Volunteer

__all__ = ["NeedTable", "VolunteerTable"]

_Float = NDArray[np.float64]


def _floats(values: Any) -> _Float:
    return np.ascontiguousarray(values, dtype=np.float64).reshape(-1)


def _joined(columns: Sequence[Any]) -> Any:
    """One column of several tables' (lists joined as lists, arrays as arrays)."""
    if isinstance(columns[0], list):
        return [x for c in columns for x in c]
    return np.concatenate(columns)


def _shared(values: Sequence[Any]) -> list[Any]:
    """``values`` with equal ones one object (a category, a set of categories)."""
    pool: dict[Any, Any] = {}
    return [pool.setdefault(v, v) for v in values]


#: The columns in the order the tables' constructors take them (the records' fields).
_NEED_COLUMNS = Need.__dataclass_fields__.keys()
_VOLUNTEER_COLUMNS = Volunteer.__dataclass_fields__.keys()


class NeedTable(Sequence[Need]):
    """Needs, one column per field of `Need` (``id``, ``category``, ``urgency`` and
    ``exclude`` lists; ``lat``, ``lon``, ``waited_hours``, ``needs_vetted`` arrays).

    >>> t = NeedTable.of([Need("r1", 40.7, -73.9, "groceries", waited_hours=2.0)])
    >>> len(t), t[0] == Need("r1", 40.7, -73.9, "groceries", waited_hours=2.0), t.id
    (1, True, ['r1'])
    """

    __slots__ = (
        "category",
        "exclude",
        "id",
        "lat",
        "lon",
        "needs_vetted",
        "urgency",
        "waited_hours",
    )

    def __init__(
        self,
        id: list[str],
        lat: Any,
        lon: Any,
        category: list[str],
        urgency: list[str],
        waited_hours: Any,
        exclude: list[tuple[str, ...]],
        needs_vetted: Any,
    ) -> None:
        self.id = id
        self.lat = _floats(lat)
        self.lon = _floats(lon)
        self.category = category
        self.urgency = urgency
        self.waited_hours = _floats(waited_hours)
        self.exclude = exclude
        self.needs_vetted = np.asarray(needs_vetted, dtype=bool).reshape(-1)
        n = len(id)
        if (
            not all(
                len(x) == n
                for x in (self.lat, self.lon, category, urgency, self.waited_hours, exclude)
            )
            or len(self.needs_vetted) != n
        ):
            raise ValueError("NeedTable: columns of different lengths")

    @classmethod
    def of(cls, needs: Sequence[Need]) -> NeedTable:
        """``needs`` as a table (itself if it is one)."""
        if isinstance(needs, NeedTable):
            return needs
        return cls(
            [n.id for n in needs],
            [n.lat for n in needs],
            [n.lon for n in needs],
            _shared([n.category for n in needs]),
            _shared([n.urgency for n in needs]),
            [n.waited_hours for n in needs],
            [tuple(n.exclude) for n in needs],
            [n.needs_vetted for n in needs],
        )

    @classmethod
    def concat(cls, parts: Sequence[NeedTable]) -> NeedTable:
        """The needs of ``parts`` (at least one), in order."""
        return cls(*(_joined([getattr(t, f) for t in parts]) for f in _NEED_COLUMNS))

    def take(self, order: Sequence[int]) -> NeedTable:
        """The needs at positions ``order``, in that order."""
        at = np.asarray(order, dtype=np.intp)
        return NeedTable(
            [self.id[k] for k in order],
            self.lat[at],
            self.lon[at],
            [self.category[k] for k in order],
            [self.urgency[k] for k in order],
            self.waited_hours[at],
            [self.exclude[k] for k in order],
            self.needs_vetted[at],
        )

    def __len__(self) -> int:
        return len(self.id)

    @overload
    def __getitem__(self, k: int) -> Need: ...
    @overload
    def __getitem__(self, k: slice) -> list[Need]: ...
    def __getitem__(self, k: int | slice) -> Need | list[Need]:
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        return Need(
            self.id[k],
            float(self.lat[k]),
            float(self.lon[k]),
            self.category[k],
            self.urgency[k],
            float(self.waited_hours[k]),
            self.exclude[k],
            bool(self.needs_vetted[k]),
        )

    def __iter__(self) -> Iterator[Need]:
        return (self[k] for k in range(len(self)))

    def __repr__(self) -> str:
        return f"<NeedTable of {len(self)} needs>"


class VolunteerTable(Sequence[Volunteer]):
    """Volunteers, one column per field of `Volunteer` (``id`` and ``categories``
    lists; ``lat``, ``lon``, ``radius_km``, ``capacity``, ``vetted``, ``penalty``
    arrays).

    >>> t = VolunteerTable.of([Volunteer("v1", 40.7, -73.9, ("rides",), 5.0, capacity=2)])
    >>> t[0].capacity, t.categories
    (2, [('rides',)])
    """

    __slots__ = ("capacity", "categories", "id", "lat", "lon", "penalty", "radius_km", "vetted")

    def __init__(
        self,
        id: list[str],
        lat: Any,
        lon: Any,
        categories: list[tuple[str, ...]],
        radius_km: Any,
        capacity: Any,
        vetted: Any,
        penalty: Any,
    ) -> None:
        self.id = id
        self.lat = _floats(lat)
        self.lon = _floats(lon)
        self.categories = categories
        self.radius_km = _floats(radius_km)
        self.capacity = np.asarray(capacity, dtype=np.int64).reshape(-1)
        self.vetted = np.asarray(vetted, dtype=bool).reshape(-1)
        self.penalty = _floats(penalty)
        n = len(id)
        if not all(
            len(x) == n
            for x in (
                self.lat,
                self.lon,
                categories,
                self.radius_km,
                self.capacity,
                self.vetted,
                self.penalty,
            )
        ):
            raise ValueError("VolunteerTable: columns of different lengths")

    @classmethod
    def of(cls, volunteers: Sequence[Volunteer]) -> VolunteerTable:
        """``volunteers`` as a table (itself if it is one)."""
        if isinstance(volunteers, VolunteerTable):
            return volunteers
        return cls(
            [v.id for v in volunteers],
            [v.lat for v in volunteers],
            [v.lon for v in volunteers],
            _shared([tuple(v.categories) for v in volunteers]),
            [v.radius_km for v in volunteers],
            [v.capacity for v in volunteers],
            [v.vetted for v in volunteers],
            [v.penalty for v in volunteers],
        )

    @classmethod
    def concat(cls, parts: Sequence[VolunteerTable]) -> VolunteerTable:
        """The volunteers of ``parts`` (at least one), in order."""
        return cls(*(_joined([getattr(t, f) for t in parts]) for f in _VOLUNTEER_COLUMNS))

    def take(self, order: Sequence[int]) -> VolunteerTable:
        """The volunteers at positions ``order``, in that order."""
        at = np.asarray(order, dtype=np.intp)
        return VolunteerTable(
            [self.id[k] for k in order],
            self.lat[at],
            self.lon[at],
            [self.categories[k] for k in order],
            self.radius_km[at],
            self.capacity[at],
            self.vetted[at],
            self.penalty[at],
        )

    def __len__(self) -> int:
        return len(self.id)

    @overload
    def __getitem__(self, k: int) -> Volunteer: ...
    @overload
    def __getitem__(self, k: slice) -> list[Volunteer]: ...
    def __getitem__(self, k: int | slice) -> Volunteer | list[Volunteer]:
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        return Volunteer(
            self.id[k],
            float(self.lat[k]),
            float(self.lon[k]),
            self.categories[k],
            float(self.radius_km[k]),
            int(self.capacity[k]),
            bool(self.vetted[k]),
            float(self.penalty[k]),
        )

    def __iter__(self) -> Iterator[Volunteer]:
        return (self[k] for k in range(len(self)))

    def __repr__(self) -> str:
        return f"<VolunteerTable of {len(self)} volunteers>"
