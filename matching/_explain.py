"""Why each pair, and why each unmatched need — every claim checked against the final
solution over all feasible volunteers, not the candidate graph."""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ._geo import km_to_chord
from ._kdtree import cKDTree, workers
from ._model import Settings, Unmatched
from ._problem import Problem

if TYPE_CHECKING:
    from ._engine import Assignment
    from ._solve import Arrays

__all__ = ["explain_pairs", "explain_unmatched"]

# A volunteer counts as cheaper than the matched one only below this margin (km).
_CHEAPER_KM = 1e-9


def _chord(km: NDArray[np.float64] | float) -> NDArray[np.float64]:
    return np.asarray(km_to_chord(km)) * (1 + 1e-9) + 1e-12


def _load(p: Problem, a: Assignment) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    load = np.bincount(a.volunteer, minlength=p.n_vol)
    lightest = np.full(p.n_vol, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(lightest, a.volunteer, p.weight[a.need])
    return load, lightest


def explain_pairs(arr: Arrays, p: Problem, a: Assignment) -> list[str]:
    """One true sentence per pair: the cheapest feasible volunteer of all, or which cheaper
    one went elsewhere and whom it serves."""
    need_id, urgency, vol_id = arr.needs.id, arr.needs.urgency, arr.volunteers.id
    penalty = arr.volunteers.penalty
    if not len(a.need):
        return []
    load, _ = _load(p, a)
    # The heaviest need each volunteer serves (then lowest id), to name.
    holder = np.full(p.n_vol, -1, dtype=np.intp)
    by_weight = np.lexsort((-a.need, p.weight[a.need]))
    holder[a.volunteer[by_weight]] = a.need[by_weight]
    alt = np.full(len(a.need), -1, dtype=np.intp)
    alt_cost = np.full(len(a.need), np.inf)
    usable = (p.capacity > 0) & np.any(p.offers, axis=1)
    # One k-d tree per category (`feasible` drops the unvetted for needs requiring
    # vetting: a second tree of the vetted took as long again to build).
    for c in np.unique(p.category[a.need]):
        sel = np.flatnonzero(p.category[a.need] == c)
        sel = sel[a.cost[sel] > _CHEAPER_KM]
        pool = np.flatnonzero(usable & p.offers[:, c])
        if not len(sel) or not len(pool):
            continue
        tree = cKDTree(p.xyz_vol[pool])
        ball = tree.query_ball_point(
            p.xyz_need[a.need[sel]], _chord(a.cost[sel]), workers=workers(len(sel))
        )
        sizes = np.fromiter(map(len, ball), dtype=np.intp, count=len(ball))
        total = int(sizes.sum())
        if not total:
            continue
        at = np.repeat(np.arange(len(sel)), sizes)
        k = pool[np.fromiter(chain.from_iterable(ball), dtype=np.intp, count=total)]
        i = a.need[sel[at]]
        km = p.pair_km(i, k)
        cost = km + p.penalty[k]
        ok = p.feasible(i, k, km) & (cost < a.cost[sel[at]] - _CHEAPER_KM)
        at, k, cost = at[ok], k[ok], cost[ok]
        order = np.lexsort((k, cost, at))
        at, k, cost = at[order], k[order], cost[order]
        first = np.r_[True, at[1:] != at[:-1]] if len(at) else np.zeros(0, dtype=bool)
        alt[sel[at[first]]] = k[first]
        alt_cost[sel[at[first]]] = cost[first]
    # Plain lists: the loop below reads one element at a time (numpy scalars are slow).
    loads, capacity, holders, weight = (
        load.tolist(),
        p.capacity.tolist(),
        holder.tolist(),
        p.weight.tolist(),
    )
    offering = [f"closest suitable volunteer offering {c} (" for c in arr.categories]
    # Most pairs: the cheapest volunteer of all, without a penalty; one comprehension.
    lines = [
        f"{offering[c]}{x:.2f} km)"
        for c, x in zip(p.category[a.need].tolist(), a.cost.tolist(), strict=True)
    ]
    # The others one by one.
    other = np.flatnonzero((alt >= 0) | (p.penalty[a.volunteer] > 0))
    for t, cat, j, km, alt_j, k_cost in zip(
        other.tolist(),
        p.category[a.need[other]].tolist(),
        a.volunteer[other].tolist(),
        a.km[other].tolist(),
        alt[other].tolist(),
        alt_cost[other].tolist(),
        strict=True,
    ):
        if alt_j < 0:
            lines[t] = f"{offering[cat]}{km:.2f} km + penalty {float(penalty[j]):g})"
        elif loads[alt_j] < capacity[alt_j]:
            lines[t] = (
                f"{vol_id[alt_j]} is closer ({k_cost:.2f} km) and has room: this run was "
                "not proven optimal"
            )
        else:
            h = holders[alt_j]
            others = f" and {loads[alt_j] - 1} more" if loads[alt_j] > 1 else ""
            lines[t] = (
                f"{vol_id[alt_j]} is closer ({k_cost:.2f} km) but is serving {need_id[h]} "
                f"({urgency[h]}, weight {weight[h]}){others}; "
                "this pairing serves the most priority with the least total travel"
            )
    return lines


def explain_unmatched(
    arr: Arrays, p: Problem, a: Assignment, settings: Settings
) -> list[Unmatched]:
    """A reason per unmatched need, each true of the final solution.

    ``outprioritised`` is said only when every suitable volunteer in range is full and
    serves needs at least as heavy; otherwise (possible only in a run that is not proven
    optimal) the reason is ``unproven``.
    """
    need_id, vol_id = arr.needs.id, arr.volunteers.id
    matched = np.zeros(p.n_need, dtype=bool)
    matched[a.need] = True
    todo = np.flatnonzero(~matched)
    if not len(todo):
        return []
    load, lightest = _load(p, a)
    reach = p.reach()
    weights = p.weight.tolist()
    # Needs of one row (same point, category and vetting, no exclusions) have the same
    # volunteers in range: each row is looked at once, for its lowest unmatched need.
    row = a.groups.row_of_need[todo]
    order = np.lexsort((todo, row))
    todo, row = todo[order], row[order]
    head = np.r_[True, row[1:] != row[:-1]]
    rep = todo[head]
    # Row k's unmatched needs: todo_l[start[k]:start[k + 1]].
    heads = np.flatnonzero(head)
    start = np.append(heads, len(todo)).tolist()
    todo_l = todo.tolist()
    top_weight = np.maximum.reduceat(p.weight[todo], heads)
    out: list[Unmatched] = []
    for c in np.unique(p.category[rep]):
        cat = arr.categories[c]
        in_cat = np.flatnonzero(p.category[rep] == c)
        group = rep[in_cat]
        offering = np.flatnonzero(p.offers[:, c])
        if not len(offering):
            out += [
                Unmatched(need_id[i], "no_category", f"no volunteer offers {cat}")
                for k in in_cat.tolist()
                for i in todo_l[start[k] : start[k + 1]]
            ]
            continue
        tree = cKDTree(p.xyz_vol[offering])
        chord, nearest = tree.query(p.xyz_need[group], k=1, workers=workers(len(group)))
        nearest_km = 2.0 * 6371.009 * np.arcsin(np.minimum(np.asarray(chord) * 0.5, 1.0))
        # Every (need, volunteer in range) pair of the group at once, volunteers by index:
        # each volunteer's own reach around it (a ball of the widest reach around each
        # need fetched every volunteer of shorter reach in it too, to be thrown away).
        ball = cKDTree(p.xyz_need[group]).query_ball_point(
            p.xyz_vol[offering], _chord(reach[offering]), workers=workers(len(offering))
        )
        sizes = np.fromiter(map(len, ball), dtype=np.intp, count=len(ball))
        cand = np.repeat(offering, sizes)
        at = np.fromiter(chain.from_iterable(ball), dtype=np.intp, count=int(sizes.sum()))
        i = group[at]
        keep = p.pair_km(i, cand) <= reach[cand]
        at, cand, i = at[keep], cand[keep], i[keep]
        n_in = np.bincount(at, minlength=len(group))
        # Exclusions: rows with exclusions are single needs, looked up pair by pair.
        excluded = np.zeros(len(at), dtype=bool)
        if len(arr.exclude):
            keys = np.sort(arr.exclude[:, 0].astype(np.int64) * p.n_vol + arr.exclude[:, 1])
            mine = i.astype(np.int64) * p.n_vol + cand
            hit = np.minimum(np.searchsorted(keys, mine), len(keys) - 1)
            excluded = keys[hit] == mine
        unvetted = p.needs_vetted[i] & ~p.vetted[cand]
        full = p.capacity[cand] == 0
        blocked = excluded | unvetted | full
        n_excl = np.bincount(at, weights=excluded, minlength=len(group)).astype(int)
        n_unv = np.bincount(at, weights=unvetted, minlength=len(group)).astype(int)
        n_full = np.bincount(at, weights=full & ~excluded & ~unvetted, minlength=len(group))
        n_ok = n_in - np.bincount(at, weights=blocked, minlength=len(group)).astype(int)
        ok_at, ok_vol = at[~blocked], cand[~blocked]
        has_room = load[ok_vol] < p.capacity[ok_vol]
        first_room = np.full(len(group), p.n_vol, dtype=np.intp)
        np.minimum.at(first_room, ok_at[has_room], ok_vol[has_room])
        first_room[first_room == p.n_vol] = -1
        weakest = np.full(len(group), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(weakest, ok_at, lightest[ok_vol])
        # The lightest-serving volunteer (lowest index) is named only where a need
        # outweighs it and none has room: never in a proven run.
        lightest_vol = np.full(len(group), p.n_vol, dtype=np.intp)
        named = (first_room < 0) & (weakest < top_weight[in_cat])
        pick = named[ok_at] & (lightest[ok_vol] == weakest[ok_at])
        np.minimum.at(lightest_vol, ok_at[pick], ok_vol[pick])
        # Plain lists: the loop below reads one element at a time (numpy scalars are slow).
        n_in_l, n_ok_l, n_excl_l, n_unv_l = (
            n_in.tolist(),
            n_ok.tolist(),
            n_excl.tolist(),
            n_unv.tolist(),
        )
        n_full_l, near_l, near_km_l = (
            n_full.astype(int).tolist(),
            nearest.tolist(),
            nearest_km.tolist(),
        )
        room_l, weak_l, light_l = first_room.tolist(), weakest.tolist(), lightest_vol.tolist()
        for g, k in enumerate(in_cat.tolist()):
            same = todo_l[start[k] : start[k + 1]]
            if not n_in_l[g]:
                j = int(offering[near_l[g]])
                text = (
                    f"no volunteer offering {cat} within range; the nearest, "
                    f"{vol_id[j]}, is {near_km_l[g]:.1f} km away "
                    f"(travels {min(p.radius[j], settings.max_km):g} km)"
                )
                out += [Unmatched(need_id[x], "out_of_range", text) for x in same]
                continue
            if not n_ok_l[g]:
                text = (
                    f"{n_in_l[g]} volunteer(s) offering {cat} within range, but "
                    f"{n_excl_l[g]} declined it before, {n_unv_l[g]} "
                    f"are not vetted and {n_full_l[g]} "
                    "are at capacity"
                )
                out += [Unmatched(need_id[x], "excluded_unvetted_or_full", text) for x in same]
                continue
            room, weak = room_l[g], weak_l[g]
            for x in same:
                if room >= 0 or weak < weights[x]:
                    why = "has room" if room >= 0 else "serves a lighter need"
                    who = vol_id[room] if room >= 0 else vol_id[light_l[g]]
                    out.append(
                        Unmatched(
                            need_id[x],
                            "unproven",
                            f"{who} could serve it ({why}); this run was not proven optimal",
                        )
                    )
                    continue
                out.append(
                    Unmatched(
                        need_id[x],
                        "outprioritised",
                        f"all {n_ok_l[g]} suitable volunteer(s) offering {cat} within "
                        f"range are full, serving needs of equal or higher priority (weight "
                        f"{weak} or more; this need weighs {weights[x]})",
                    )
                )
    return sorted(out, key=lambda u: u.need)
