"""Record-level entry point: validate needs and volunteers, solve, explain."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._engine import Assignment, assign
from ._geo import chord_to_km, great_circle_km, km_to_chord, unit_vectors
from ._kdtree import cKDTree
from ._model import URGENCIES, Need, Pair, Result, Settings, Stats, Unmatched, Volunteer

__all__ = ["Arrays", "solve", "to_arrays"]

_DEFAULT = Settings()


@dataclass(frozen=True)
class Arrays:
    """Needs and volunteers as arrays (sorted by id), ready for `assign`."""

    needs: tuple[Need, ...]
    volunteers: tuple[Volunteer, ...]
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
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{kind} {rid!r}: {name} {value!r} is out of range [{low}, {high}]")


def _check_records(needs: Sequence[Need], volunteers: Sequence[Volunteer]) -> None:
    """Raise ValueError naming the first offending record."""
    seen: set[str] = set()
    for n in needs:
        if not isinstance(n.id, str) or not n.id:
            raise ValueError(f"need {n.id!r}: id must be a non-empty string")
        if n.id in seen:
            raise ValueError(f"need {n.id!r}: duplicate id")
        seen.add(n.id)
        _check_number("need", n.id, "lat", n.lat, -90, 90)
        _check_number("need", n.id, "lon", n.lon, -180, 180)
        _check_number("need", n.id, "waited_hours", n.waited_hours, 0, math.inf)
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
        _check_number("volunteer", v.id, "radius_km", v.radius_km, 0, math.inf)
        _check_number("volunteer", v.id, "penalty", v.penalty, 0, math.inf)
        if isinstance(v.capacity, bool) or not isinstance(v.capacity, int) or v.capacity < 0:
            raise ValueError(f"volunteer {v.id!r}: capacity must be an integer >= 0")
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
    needs_sorted = tuple(sorted(needs, key=lambda n: n.id))
    vols_sorted = tuple(sorted(volunteers, key=lambda v: v.id))
    categories = tuple(
        sorted({n.category for n in needs_sorted} | {c for v in vols_sorted for c in v.categories})
    )
    code = {c: k for k, c in enumerate(categories)}
    offers = np.zeros((len(vols_sorted), len(categories)), dtype=bool)
    rows = [j for j, v in enumerate(vols_sorted) for _ in v.categories]
    cols = [code[c] for v in vols_sorted for c in v.categories]
    offers[rows, cols] = True
    vol_index = {v.id: j for j, v in enumerate(vols_sorted)}
    exclude = [
        (i, vol_index[x]) for i, n in enumerate(needs_sorted) for x in n.exclude if x in vol_index
    ]
    return Arrays(
        needs=needs_sorted,
        volunteers=vols_sorted,
        categories=categories,
        need_category=np.array([code[n.category] for n in needs_sorted], dtype=np.intp),
        need_weight=np.array(
            [settings.weight(n.urgency, n.waited_hours) for n in needs_sorted], dtype=np.int64
        ),
        offers=offers,
        exclude=np.array(exclude, dtype=np.intp).reshape(-1, 2),
    )


def _solve_arrays(arr: Arrays, settings: Settings) -> Assignment:
    vols = arr.volunteers
    return assign(
        [n.lat for n in arr.needs],
        [n.lon for n in arr.needs],
        arr.need_category,
        arr.need_weight,
        [v.lat for v in vols],
        [v.lon for v in vols],
        arr.offers,
        [v.radius_km for v in vols],
        [v.capacity for v in vols],
        need_vetted=[n.needs_vetted for n in arr.needs],
        vol_vetted=[v.vetted for v in vols],
        vol_penalty=[v.penalty for v in vols],
        exclude=arr.exclude,
        max_km=settings.max_km,
        k_nearest=settings.k_nearest,
        k_nearest_needs=settings.k_nearest_needs,
        max_rounds=settings.max_rounds,
    )


def _why(arr: Arrays, a: Assignment) -> list[str]:
    """One sentence per pair: closest suitable, or why the closer one went elsewhere."""
    needs, vols = arr.needs, arr.volunteers
    n_need = len(needs)
    if not len(a.need):
        return []
    match = np.full(n_need, -1, dtype=np.intp)
    match[a.need] = a.volunteer
    # Cheapest candidate other than the match, per need.
    cn, cv, cc = a.candidate_need, a.candidate_volunteer, a.candidate_cost
    other = cv != match[cn]
    cn, cv, cc = cn[other], cv[other], cc[other]
    order = np.lexsort((cv, cc, cn))
    cn, cv, cc = cn[order], cv[order], cc[order]
    first = np.r_[True, cn[1:] != cn[:-1]] if len(cn) else np.zeros(0, dtype=bool)
    alt = np.full(n_need, -1, dtype=np.intp)
    alt_cost = np.full(n_need, np.inf)
    alt[cn[first]] = cv[first]
    alt_cost[cn[first]] = cc[first]
    # One served need per volunteer (the heaviest, then lowest id) to name.
    by_weight = np.lexsort((a.need, -arr.need_weight[a.need]))
    holder = np.full(len(vols), -1, dtype=np.intp)
    holder[a.volunteer[by_weight[::-1]]] = a.need[by_weight[::-1]]
    load = np.bincount(a.volunteer, minlength=len(vols))
    lines = []
    for i, j, cost in zip(a.need.tolist(), a.volunteer.tolist(), a.cost.tolist(), strict=True):
        cat = needs[i].category
        k = int(alt[i])
        if k < 0 or alt_cost[i] >= cost:
            extra = f" + penalty {vols[j].penalty:g}" if vols[j].penalty else ""
            lines.append(f"closest suitable volunteer offering {cat} ({cost:.2f} km{extra})")
            continue
        h = int(holder[k])
        others = f" and {load[k] - 1} more" if load[k] > 1 else ""
        lines.append(
            f"{vols[k].id} is closer ({alt_cost[i]:.2f} km) but is serving {needs[h].id} "
            f"({needs[h].urgency}, weight {arr.need_weight[h]}){others}; "
            "this pairing serves the most priority with the least total travel"
        )
    return lines


def _explain_unmatched(arr: Arrays, a: Assignment, settings: Settings) -> list[Unmatched]:
    needs, vols = arr.needs, arr.volunteers
    matched = np.zeros(len(needs), dtype=bool)
    matched[a.need] = True
    todo = np.flatnonzero(~matched)
    if not len(todo):
        return []
    lat = np.array([[v.lat, v.lon] for v in vols], dtype=np.float64).reshape(-1, 2)
    xyz_v = unit_vectors(lat[:, 0], lat[:, 1]).reshape(-1, 3)
    radius = np.array([v.radius_km for v in vols], dtype=np.float64)
    reach = np.minimum(radius, settings.max_km)
    capacity = np.array([v.capacity for v in vols], dtype=np.int64)
    vetted = np.array([v.vetted for v in vols], dtype=bool)
    by_need = np.argsort(arr.exclude[:, 0], kind="stable")
    excl_vol = arr.exclude[by_need, 1]
    excl_at = np.searchsorted(arr.exclude[by_need, 0], np.arange(len(needs) + 1))
    out: list[Unmatched] = []
    for c in np.unique(arr.need_category[todo]):
        cat = arr.categories[c]
        group = todo[arr.need_category[todo] == c]
        members = np.flatnonzero(arr.offers[:, c])
        if not len(members):
            out += [
                Unmatched(needs[i].id, "no_category", f"no volunteer offers {cat}") for i in group
            ]
            continue
        xyz_n = unit_vectors([needs[i].lat for i in group], [needs[i].lon for i in group])
        tree = cKDTree(xyz_v[members])
        chord, nearest = tree.query(xyz_n.reshape(-1, 3), k=1)
        nearest_km = chord_to_km(chord)
        ball = tree.query_ball_point(
            xyz_n.reshape(-1, 3), float(km_to_chord(reach[members].max())) * (1 + 1e-9) + 1e-12
        )
        for g, i in enumerate(group.tolist()):
            cand = members[np.asarray(ball[g], dtype=np.intp)]
            km = chord_to_km(np.linalg.norm(xyz_v[cand] - xyz_n.reshape(-1, 3)[g], axis=1))
            cand = cand[km <= reach[cand]]
            need = needs[i]
            if not len(cand):
                j = members[nearest[g]]
                out.append(
                    Unmatched(
                        need.id,
                        "out_of_range",
                        f"no volunteer offering {cat} within range; the nearest, "
                        f"{vols[j].id}, is {nearest_km[g]:.1f} km away "
                        f"(travels {min(radius[j], settings.max_km):g} km)",
                    )
                )
                continue
            excluded = np.isin(cand, excl_vol[excl_at[i] : excl_at[i + 1]])
            unvetted = ~vetted[cand] if need.needs_vetted else np.zeros(len(cand), dtype=bool)
            full = capacity[cand] == 0
            if np.all(excluded | unvetted | full):
                out.append(
                    Unmatched(
                        need.id,
                        "excluded_unvetted_or_full",
                        f"{len(cand)} volunteer(s) offering {cat} within range, but "
                        f"{int(excluded.sum())} declined it before, {int(unvetted.sum())} "
                        f"are not vetted and {int((full & ~excluded & ~unvetted).sum())} "
                        "are at capacity",
                    )
                )
                continue
            free = int((~(excluded | unvetted | full)).sum())
            out.append(
                Unmatched(
                    need.id,
                    "outprioritised",
                    f"all {free} suitable volunteer(s) offering {cat} within range are "
                    f"serving needs of equal or higher priority (this need weighs "
                    f"{arr.need_weight[i]})",
                )
            )
    return sorted(out, key=lambda u: u.need)


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
    t0 = time.perf_counter()
    arr = to_arrays(needs, volunteers, settings, checked=checked)
    a = _solve_arrays(arr, settings)
    t1 = time.perf_counter()
    why = _why(arr, a)
    # The km shown: numpy's atan2 great circle on geopy's 6371.009 km sphere
    # (agrees with geopy.distance.great_circle far below a millimetre, as a
    # test checks; importing geopy alone would cost ~0.4 s of start-up).
    i_list, j_list = a.need.tolist(), a.volunteer.tolist()
    shown_km = great_circle_km(
        unit_vectors([arr.needs[i].lat for i in i_list], [arr.needs[i].lon for i in i_list]),
        unit_vectors(
            [arr.volunteers[j].lat for j in j_list], [arr.volunteers[j].lon for j in j_list]
        ),
    ).tolist()
    pairs = tuple(
        Pair(arr.needs[i].id, arr.volunteers[j].id, km, w)
        for i, j, km, w in zip(i_list, j_list, shown_km, why, strict=True)
    )
    unmatched = tuple(_explain_unmatched(arr, a, settings))
    t2 = time.perf_counter()
    stats = Stats(
        needs=len(arr.needs),
        volunteers=len(arr.volunteers),
        matched=len(pairs),
        total_km=float(a.km.sum()),
        total_cost=float(a.cost.sum()),
        served_weight=int(arr.need_weight[a.need].sum()),
        proven_optimal=a.proven_optimal,
        rounds=a.rounds,
        candidate_pairs=len(a.candidate_need),
        checked_pairs=a.checked_pairs,
        seconds=t2 - t0,
        candidate_seconds=a.candidate_seconds,
        solve_seconds=a.solve_seconds,
        certify_seconds=a.certify_seconds,
        explain_seconds=t2 - t1,
    )
    return Result(pairs=pairs, unmatched=unmatched, stats=stats)
