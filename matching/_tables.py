"""Needs and volunteers as columns: a million records without a million objects.

`NeedTable` and `VolunteerTable` are sequences of `Need` and `Volunteer` (an item is
made when read), held as one list or array per field. Country 1M: the records took
660 MB as objects (each float, id and tuple an object of its own), about 230 MB so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields
from typing import Any, ClassVar, TypeVar, overload

import numpy as np

from ._model import Need, Volunteer

__all__ = ["NeedTable", "VolunteerTable"]

_R = TypeVar("_R", Need, Volunteer)
_T = TypeVar("_T", bound="_Table[Any]")


def _joined(columns: Sequence[Any]) -> Any:
    """One column of several tables' (lists joined as lists, arrays as arrays)."""
    if isinstance(columns[0], list):
        return [x for c in columns for x in c]
    return np.concatenate(columns)


def _shared(values: Sequence[Any]) -> list[Any]:
    """``values`` with equal ones one object (a category, a set of categories)."""
    pool: dict[Any, Any] = {}
    return [pool.setdefault(v, v) for v in values]


class _Table(Sequence[_R]):
    """Records of type ``_record`` as columns named after its fields: a list where
    ``_arrays`` gives no dtype, else an array of that dtype."""

    __slots__ = ()
    _record: ClassVar[type]
    _arrays: ClassVar[dict[str, type]]
    #: Fields whose values are tuples (of strings), and fields whose equal values are
    #: held as one object, when made `of` records.
    _tuples: ClassVar[frozenset[str]] = frozenset()
    _pooled: ClassVar[frozenset[str]] = frozenset()
    id: list[str]

    def __init__(self, *columns: Any) -> None:
        names = self._fields()
        if len(columns) != len(names):
            raise TypeError(f"{type(self).__name__}: {len(names)} columns, got {len(columns)}")
        for name, values in zip(names, columns, strict=True):
            dtype = self._arrays.get(name)
            if dtype is not None:
                values = np.ascontiguousarray(values, dtype=dtype).reshape(-1)
            setattr(self, name, values)
        if any(len(getattr(self, name)) != len(columns[0]) for name in names):
            raise ValueError(f"{type(self).__name__}: columns of different lengths")

    @classmethod
    def _fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls._record))

    @classmethod
    def of(cls: type[_T], records: Sequence[Any]) -> _T:
        """``records`` as a table (itself if it is one)."""
        if isinstance(records, cls):
            return records
        columns = []
        for name in cls._fields():
            values = [getattr(r, name) for r in records]
            if name in cls._tuples:
                values = [tuple(v) for v in values]
            columns.append(_shared(values) if name in cls._pooled else values)
        return cls(*columns)

    @classmethod
    def concat(cls: type[_T], parts: Sequence[_T]) -> _T:
        """The records of ``parts`` (at least one), in order."""
        return cls(*(_joined([getattr(t, name) for t in parts]) for name in cls._fields()))

    def take(self: _T, order: Sequence[int]) -> _T:
        """The records at positions ``order``, in that order."""
        at = np.asarray(order, dtype=np.intp)
        return type(self)(
            *(
                [c[k] for k in order] if isinstance(c, list) else c[at]
                for c in (getattr(self, name) for name in self._fields())
            )
        )

    def __len__(self) -> int:
        return len(self.id)

    @overload
    def __getitem__(self, k: int) -> _R: ...
    @overload
    def __getitem__(self, k: slice) -> list[_R]: ...
    def __getitem__(self, k: int | slice) -> _R | list[_R]:
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        # Array items as Python floats, ints and bools (``.item()``), as records hold them.
        return self._record(
            *(
                c[k].item() if isinstance(c, np.ndarray) else c[k]
                for c in (getattr(self, name) for name in self._fields())
            )
        )

    def __iter__(self) -> Iterator[_R]:
        return (self[k] for k in range(len(self)))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {len(self)}>"


class NeedTable(_Table[Need]):
    """Needs, one column per field of `Need` (``id``, ``category``, ``urgency`` and
    ``exclude`` lists; ``lat``, ``lon``, ``waited_hours``, ``needs_vetted`` arrays).

    >>> t = NeedTable.of([Need("r1", 40.7, -73.9, "groceries", waited_hours=2.0)])
    >>> len(t), t[0] == Need("r1", 40.7, -73.9, "groceries", waited_hours=2.0), t.id
    (1, True, ['r1'])
    """

    __slots__ = tuple(Need.__dataclass_fields__)
    _record = Need
    _arrays: ClassVar[dict[str, type]] = {
        "lat": np.float64,
        "lon": np.float64,
        "waited_hours": np.float64,
        "needs_vetted": np.bool_,
    }
    _tuples = frozenset({"exclude"})
    _pooled = frozenset({"category", "urgency"})
    id: list[str]
    lat: Any
    lon: Any
    category: list[str]
    urgency: list[str]
    waited_hours: Any
    exclude: list[tuple[str, ...]]
    needs_vetted: Any


class VolunteerTable(_Table[Volunteer]):
    """Volunteers, one column per field of `Volunteer` (``id`` and ``categories``
    lists; ``lat``, ``lon``, ``radius_km``, ``capacity``, ``vetted``, ``penalty``
    arrays).

    >>> t = VolunteerTable.of([Volunteer("v1", 40.7, -73.9, ("rides",), 5.0, capacity=2)])
    >>> t[0].capacity, t.categories
    (2, [('rides',)])
    """

    __slots__ = tuple(Volunteer.__dataclass_fields__)
    _record = Volunteer
    _arrays: ClassVar[dict[str, type]] = {
        "lat": np.float64,
        "lon": np.float64,
        "radius_km": np.float64,
        "capacity": np.int64,
        "vetted": np.bool_,
        "penalty": np.float64,
    }
    _tuples = frozenset({"categories"})
    _pooled = frozenset({"categories"})
    id: list[str]
    lat: Any
    lon: Any
    categories: list[tuple[str, ...]]
    radius_km: Any
    capacity: Any
    vetted: Any
    penalty: Any
