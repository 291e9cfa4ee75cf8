"""Record-level entry point: validate needs and volunteers, solve, explain."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from ._collector import with_collector_paused
from ._engine import assign
from ._explain import explain_pairs, explain_unmatched
from ._geo import great_circle_km
from ._model import URGENCIES, Need, Pair, Result, Settings, Stats, Unmatched, Volunteer
from ._problem import LIMITS, Problem
from ._tables import NeedTable, VolunteerTable

__all__ = ["Arrays", "Solved", "solve", "solve_columns", "to_arrays", "to_problem"]

_DEFAULT = Settings()
_T = TypeVar("_T", NeedTable, VolunteerTable)


@dataclass(frozen=True)
class Arrays:
    """Needs and volunteers as arrays (sorted by id), ready for `assign`."""

    needs: NeedTable
    volunteers: VolunteerTable
    categories: tuple[str, ...]
    need_category: NDArray[np.intp]
    need_weight: NDArray[np.int64]
    offers: NDArray[np.bool_]
    exclude: NDArray[np.intp]


def _check_number(
    kind: str, rid: object, name: str, value: object, low: float, high: float
) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{kind} {rid!r}: {name} must be a number, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{kind} {rid!r}: {name} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{kind} {rid!r}: {name} {value!r} is out of range [{low}, {high}]")


def _check_records(needs: Sequence[Need], volunteers: Sequence[Volunteer]) -> None:
    """Raise ValueError naming the first offending record."""
    high = LIMITS["records"][1]
    if len(needs) > high or len(volunteers) > high:
        raise ValueError(f"at most {high:,} needs and {high:,} volunteers")
    seen: set[str] = set()
    for n in needs:
        if not isinstance(n.id, str) or not n.id:
            raise ValueError(f"need {n.id!r}: id must be a non-empty string")
        if n.id in seen:
            raise ValueError(f"need {n.id!r}: duplicate id")
        seen.add(n.id)
        _check_number("need", n.id, "lat", n.lat, -90, 90)
        _check_number("need", n.id, "lon", n.lon, -180, 180)
        _check_number("need", n.id, "waited_hours", n.waited_hours, *LIMITS["waited_hours"])
        if n.urgency not in URGENCIES:
            raise ValueError(
                f"need {n.id!r}: urgency must be one of {URGENCIES}, got {n.urgency!r}"
            )
        if not isinstance(n.category, str) or not n.category:
            raise ValueError(f"need {n.id!r}: category must be a non-empty string")
    seen = set()
    for v in volunteers:
        if not isinstance(v.id, str) or not v.id:
            raise ValueError(f"volunteer {v.id!r}: id must be a non-empty string")
        if v.id in seen:
            raise ValueError(f"volunteer {v.id!r}: duplicate id")
        seen.add(v.id)
        _check_number("volunteer", v.id, "lat", v.lat, -90, 90)
        _check_number("volunteer", v.id, "lon", v.lon, -180, 180)
        _check_number("volunteer", v.id, "radius_km", v.radius_km, *LIMITS["radius_km"])
        _check_number("volunteer", v.id, "penalty", v.penalty, *LIMITS["penalty"])
        low, high = LIMITS["capacity"]
        if isinstance(v.capacity, bool) or not isinstance(v.capacity, int):
            raise ValueError(f"volunteer {v.id!r}: capacity must be a whole number")
        if not low <= v.capacity <= high:
            raise ValueError(
                f"volunteer {v.id!r}: capacity {v.capacity!r} is out of range [{low}, {high}]"
            )
        if isinstance(v.categories, str) or not all(isinstance(c, str) for c in v.categories):
            raise ValueError(f"volunteer {v.id!r}: categories must be a list of strings")


def to_arrays(
    needs: Sequence[Need],
    volunteers: Sequence[Volunteer],
    settings: Settings = _DEFAULT,
    *,
    checked: bool = False,
) -> Arrays:
    """Validate records and lay them out as arrays, both sides sorted by id.

    Raises
    ------
    ValueError
        Naming the first offending record (duplicate id, coordinates out of
        range, negative radius, unknown urgency, ...).

    Examples
    --------
    >>> a = to_arrays([Need("r1", 0, 0, "rides")], [Volunteer("v1", 0, 0, ("rides",), 5)])
    >>> a.categories, a.need_weight.tolist(), a.offers.tolist()
    (('rides',), [10], [[True]])
    """
    if not checked:
        _check_records(needs, volunteers)
    need_t, vol_t = NeedTable.of(needs), VolunteerTable.of(volunteers)
    need_t = _by_id(need_t)
    vol_t = _by_id(vol_t)
    # Each distinct set of categories once (a table shares equal sets: a few objects).
    sets: dict[tuple[str, ...], int] = {}
    set_of = [sets.setdefault(c, len(sets)) for c in vol_t.categories]
    categories = tuple(sorted(set(need_t.category) | {c for cs in sets for c in cs}))
    code = {c: k for k, c in enumerate(categories)}
    set_offers = np.zeros((len(sets), len(categories)), dtype=bool)
    for k, cs in enumerate(sets):
        set_offers[k, [code[c] for c in cs]] = True
    offers = set_offers[np.asarray(set_of, dtype=np.intp)].reshape(len(vol_t), len(categories))
    exclude: list[tuple[int, int]] = []
    if any(need_t.exclude):
        vol_index = {v: j for j, v in enumerate(vol_t.id)}
        exclude = [
            (i, vol_index[x]) for i, ex in enumerate(need_t.exclude) for x in ex if x in vol_index
        ]
    return Arrays(
        needs=need_t,
        volunteers=vol_t,
        categories=categories,
        need_category=np.array([code[c] for c in need_t.category], dtype=np.intp),
        need_weight=settings.weights_of(need_t.urgency, need_t.waited_hours),
        offers=offers,
        exclude=np.array(exclude, dtype=np.intp).reshape(-1, 2),
    )


def _by_id(table: _T) -> _T:
    """``table`` sorted by id (itself where it is so already)."""
    ids = table.id
    if all(a < b for a, b in pairwise(ids)):
        return table
    return table.take(sorted(range(len(ids)), key=ids.__getitem__))


def to_problem(arr: Arrays, settings: Settings = _DEFAULT) -> Problem:
    """The array-level `Problem` of records laid out by `to_arrays`."""
    needs, vols = arr.needs, arr.volunteers
    return Problem(
        needs.lat,
        needs.lon,
        arr.need_category,
        arr.need_weight,
        vols.lat,
        vols.lon,
        arr.offers,
        vols.radius_km,
        vols.capacity,
        need_vetted=needs.needs_vetted,
        vol_vetted=vols.vetted,
        vol_penalty=vols.penalty,
        exclude=arr.exclude,
        max_km=settings.max_km,
    )


@with_collector_paused
def solve(
    needs: Sequence[Need],
    volunteers: Sequence[Volunteer],
    settings: Settings = _DEFAULT,
    *,
    checked: bool = False,
) -> Result:
    """Pair needs with volunteers: most priority served, then least total cost.

    A volunteer may serve a need when it offers the category, is within its
    own ``radius_km`` and the run's ``max_km`` (great-circle, sphere of radius
    6371.009 km), is not in the need's ``exclude`` list, is vetted when the
    need requires it, and has capacity left. Among feasible assignments the
    engine maximises the total priority weight served (`Settings.weight`),
    then minimises total km plus volunteer penalties. The result is proven
    optimal over all feasible pairs by a dual certificate
    (``result.stats.proven_optimal``). Deterministic: both sides are sorted by
    id first, so ties go to the lower ids.

    Parameters
    ----------
    needs : sequence of Need
    volunteers : sequence of Volunteer
    settings : Settings
    checked : bool
        The records come from `parse_instance`, which has checked every one
        (skips checking them again).

    Returns
    -------
    Result
        ``pairs`` sorted by need id, ``unmatched`` with reasons, ``stats``.

    Raises
    ------
    ValueError
        Naming the offending record when the input is invalid.

    Examples
    --------
    >>> needs = [Need("r1", 40.68, -73.94, "groceries"),
    ...          Need("r2", 40.70, -73.96, "groceries", urgency="urgent"),
    ...          Need("r3", 40.70, -73.96, "pets")]
    >>> vols = [Volunteer("v1", 40.69, -73.95, ("groceries",), radius_km=5)]
    >>> result = solve(needs, vols)
    >>> [(p.need, p.volunteer, round(p.km, 2)) for p in result.pairs]
    [('r2', 'v1', 1.4)]
    >>> [(u.need, u.reason) for u in result.unmatched]
    [('r1', 'outprioritised'), ('r3', 'no_category')]
    >>> result.stats.served_weight, result.stats.proven_optimal
    (40, True)
    """
    return solve_columns(needs, volunteers, settings, checked=checked).result()


@dataclass(frozen=True)
class Solved:
    """`solve`'s outcome with its pairs as columns: need and volunteer ids, km, why (the
    command line writes them so; a million `Pair` objects took 1.5 s)."""

    need: list[str]
    volunteer: list[str]
    km: list[float]
    why: list[str]
    unmatched: tuple[Unmatched, ...]
    stats: Stats

    def result(self) -> Result:
        """As `solve` returns it."""
        pairs = tuple(map(Pair, self.need, self.volunteer, self.km, self.why))
        return Result(pairs=pairs, unmatched=self.unmatched, stats=self.stats)


@with_collector_paused
def solve_columns(
    needs: Sequence[Need],
    volunteers: Sequence[Volunteer],
    settings: Settings = _DEFAULT,
    *,
    checked: bool = False,
) -> Solved:
    """`solve`, its pairs as columns."""
    t0 = time.perf_counter()
    arr = to_arrays(needs, volunteers, settings, checked=checked)
    problem = to_problem(arr, settings)
    a = assign(
        problem,
        k_nearest=settings.k_nearest,
        k_nearest_needs=settings.k_nearest_needs,
        max_rounds=settings.max_rounds,
    )
    t1 = time.perf_counter()
    why = explain_pairs(arr, problem, a)
    # The km shown: numpy's atan2 great circle on geopy's 6371.009 km sphere
    # (agrees with geopy.distance.great_circle far below a millimetre, as a
    # test checks; importing geopy alone would cost ~0.4 s of start-up).
    # The problem's unit vectors are those of the records' degrees (`unit_vectors`).
    i_list, j_list = a.need.tolist(), a.volunteer.tolist()
    shown_km = great_circle_km(problem.xyz_need[a.need], problem.xyz_vol[a.volunteer]).tolist()
    pair_need = list(map(arr.needs.id.__getitem__, i_list))
    pair_vol = list(map(arr.volunteers.id.__getitem__, j_list))
    unmatched = tuple(explain_unmatched(arr, problem, a, settings))
    t2 = time.perf_counter()
    stats = Stats(
        needs=len(arr.needs),
        volunteers=len(arr.volunteers),
        matched=len(pair_need),
        total_km=float(a.km.sum()),
        total_cost=float(a.cost.sum()),
        served_weight=int(arr.need_weight[a.need].sum()),
        proven_optimal=a.proven_optimal,
        rounds=a.rounds,
        candidate_pairs=a.candidate_pairs,
        checked_pairs=a.checked_pairs,
        seconds=t2 - t0,
        candidate_seconds=a.candidate_seconds,
        solve_seconds=a.solve_seconds,
        certify_seconds=a.certify_seconds,
        explain_seconds=t2 - t1,
        path=a.path,
        cost_resolution_km=a.cost_resolution_km,
    )
    return Solved(pair_need, pair_vol, shown_km, why, unmatched, stats)
