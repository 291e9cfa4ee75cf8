"""Property tests: the engine equals a dense and a brute-force optimum; the certificate bites."""

from __future__ import annotations

import contextlib
import itertools
import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import _engine as engine
from matching import assign, dense_assign, unit_vectors
from matching._engine import (
    _CategoryIndex,
    _pair_km,
    _solve_candidates,
    _solve_sap,
    _validate,
    _violations,
)
from matching._geo import chord_to_km

CATS = 2


@st.composite
def instances(draw, max_needs=7, max_vols=5):
    n = draw(st.integers(0, max_needs))
    m = draw(st.integers(0, max_vols))
    # Points in a ~6 km box; a few snapped to a grid so exact ties happen.
    coord = st.one_of(st.floats(-0.03, 0.03, allow_nan=False), st.sampled_from([-0.01, 0.0, 0.01]))
    data = {
        "need_lat": [40.0 + draw(coord) for _ in range(n)],
        "need_lon": [-74.0 + draw(coord) for _ in range(n)],
        "need_category": [draw(st.integers(0, CATS - 1)) for _ in range(n)],
        "need_weight": [draw(st.sampled_from([10, 20, 40, 13])) for _ in range(n)],
        "vol_lat": [40.0 + draw(coord) for _ in range(m)],
        "vol_lon": [-74.0 + draw(coord) for _ in range(m)],
        "vol_offers": [[draw(st.booleans()) for _ in range(CATS)] for _ in range(m)]
        or np.zeros((0, CATS), dtype=bool),
        "vol_radius_km": [draw(st.sampled_from([0.5, 2.0, 4.0, 8.0])) for _ in range(m)],
        "vol_capacity": [draw(st.integers(0, 3)) for _ in range(m)],
        "need_vetted": [draw(st.booleans()) for _ in range(n)],
        "vol_vetted": [draw(st.booleans()) for _ in range(m)],
        "vol_penalty": [draw(st.sampled_from([0.0, 0.0, 0.7, 3.0])) for _ in range(m)],
        "max_km": draw(st.sampled_from([3.0, 25.0])),
    }
    pairs = [(i, j) for i in range(n) for j in range(m)]
    data["exclude"] = draw(st.lists(st.sampled_from(pairs), max_size=3)) if pairs else []
    return data


def feasible_cost(d, i, j):
    """Cost of pair (i, j), or None when it may not be matched."""
    if not d["vol_offers"][j][d["need_category"][i]] or d["vol_capacity"][j] == 0:
        return None
    if d["need_vetted"][i] and not d["vol_vetted"][j]:
        return None
    if (i, j) in {tuple(p) for p in d["exclude"]}:
        return None
    a = unit_vectors([d["need_lat"][i]], [d["need_lon"][i]])
    b = unit_vectors([d["vol_lat"][j]], [d["vol_lon"][j]])
    km = float(chord_to_km(np.linalg.norm(a - b)))
    if km > min(d["vol_radius_km"][j], d["max_km"]):
        return None
    return km + d["vol_penalty"][j]


def objective(d, need, vol):
    weight = sum(d["need_weight"][i] for i in need)
    cost = sum(feasible_cost(d, i, j) for i, j in zip(need, vol, strict=True))
    return weight, cost


def check_feasible(d, need, vol):
    assert len(set(need)) == len(need)
    for i, j in zip(need, vol, strict=True):
        assert feasible_cost(d, i, j) is not None
    load = np.bincount(np.asarray(vol, dtype=int), minlength=len(d["vol_lat"]))
    assert np.all(load <= np.asarray(d["vol_capacity"], dtype=int))


def brute_force(d):
    """Best (weight, -cost) over every assignment, by exhaustive search."""
    n, m = len(d["need_lat"]), len(d["vol_lat"])
    options = [
        [None] + [j for j in range(m) if feasible_cost(d, i, j) is not None] for i in range(n)
    ]
    best = (0, 0.0)
    for choice in itertools.product(*options):
        used = [j for j in choice if j is not None]
        if any(used.count(j) > d["vol_capacity"][j] for j in set(used)):
            continue
        need = [i for i, j in enumerate(choice) if j is not None]
        w, c = objective(d, need, used)
        if w > best[0] or (w == best[0] and c < best[1]):
            best = (w, c)
    return best


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The compiled solver, and scipy's LAPJVsp that the engine falls back to without it.
SOLVERS = ["compiled", "scipy"]


def using(solver: str):
    if solver == "compiled":
        return contextlib.nullcontext()
    return mock.patch.object(engine, "_sap_assign_rows", None)


@pytest.mark.parametrize("solver", SOLVERS)
@FAST
@given(d=instances(), knobs=st.sampled_from([(8, 4), (1, 0), (2, 1)]))
def test_engine_matches_dense_reference(solver, d, knobs):
    with using(solver):
        a = assign(**d, k_nearest=knobs[0], k_nearest_needs=knobs[1])
    need, vol = a.need.tolist(), a.volunteer.tolist()
    check_feasible(d, need, vol)
    assert a.proven_optimal
    ref_need, ref_vol = dense_assign(**d)
    check_feasible(d, ref_need.tolist(), ref_vol.tolist())
    w, c = objective(d, need, vol)
    rw, rc = objective(d, ref_need.tolist(), ref_vol.tolist())
    assert w == rw
    assert c == pytest.approx(rc, abs=1e-6)
    assert float(a.cost.sum()) == pytest.approx(c, abs=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
@settings(max_examples=40, deadline=None)
@given(d=instances(max_needs=5, max_vols=3))
def test_engine_matches_brute_force(solver, d):
    with using(solver):
        a = assign(**d, k_nearest=1, k_nearest_needs=0)
    w, c = objective(d, a.need.tolist(), a.volunteer.tolist())
    bw, bc = brute_force(d)
    assert w == bw
    assert c == pytest.approx(bc, abs=1e-6)


def line_instance():
    """Needs and volunteers where a need's nearest volunteer is not its partner."""
    # On the equator, 0.01 degree of longitude is ~1.112 km.
    return {
        "need_lat": [0.0, 0.0],
        "need_lon": [0.0, 0.02],
        "need_category": [0, 0],
        "need_weight": [10, 10],
        "vol_lat": [0.0, 0.0],
        "vol_lon": [0.01, 0.06],
        "vol_offers": [[True], [True]],
        "vol_radius_km": [5.0, 5.0],
    }


@pytest.mark.parametrize("solve_round", [_solve_sap, _solve_candidates])
def test_certificate_rejects_a_deliberately_pruned_answer(solve_round):
    d = line_instance()
    problem = _validate(
        **{
            **d,
            "vol_capacity": None,
            "need_vetted": None,
            "vol_vetted": None,
            "vol_penalty": None,
            "exclude": None,
            "max_km": 25.0,
        }
    )
    index = _CategoryIndex(problem)
    # Prune the candidate graph to each need's nearest volunteer only: both
    # needs want v0, so one is left out although v1 could serve it.
    need = np.array([0, 1])
    vol = np.array([0, 0])
    cost = _pair_km(problem, need, vol)
    big = 1.0 + 2 * 5.0
    sol = solve_round(problem, need, vol, cost, big)
    assert sol.duals_ok  # optimal on the pruned graph...
    assert (sol.match >= 0).sum() == 1
    bad_need, bad_vol, checked = _violations(problem, index, sol, 1e-9, big)
    assert checked > 0
    assert (1, 1) in set(zip(bad_need.tolist(), bad_vol.tolist(), strict=True))


def test_certificate_accepts_the_full_answer_and_proof_loop_repairs_pruning(monkeypatch):
    d = line_instance()
    # Without the up-front widening for unservable needs, k = 1 leaves one need out.
    monkeypatch.setattr(engine, "_unservable", lambda p, n, v: np.zeros(p.n_need, dtype=bool))
    pruned = assign(**d, k_nearest=1, k_nearest_needs=0, max_rounds=1)
    assert not pruned.proven_optimal
    assert len(pruned.need) == 1
    repaired = assign(**d, k_nearest=1, k_nearest_needs=0)
    assert repaired.proven_optimal and repaired.rounds == 2
    assert repaired.need.tolist() == [0, 1] and repaired.volunteer.tolist() == [0, 1]
    assert float(repaired.km.sum()) == pytest.approx(1.112 + 4.448, abs=2e-3)


def test_weights_dominate_any_distance():
    # One volunteer; a heavier need 24 km away beats a lighter one next door.
    d = {
        "need_lat": [0.0, 0.0],
        "need_lon": [0.0, 0.2158],
        "need_category": [0, 0],
        "need_weight": [10, 11],
        "vol_lat": [0.0],
        "vol_lon": [0.0],
        "vol_offers": [[True]],
        "vol_radius_km": [25.0],
    }
    a = assign(**d)
    assert a.need.tolist() == [1]
    assert math.isclose(float(a.km[0]), 24.0, rel_tol=1e-3)


def test_needs_left_out_by_the_first_graph_get_wider_candidate_lists():
    # With k = 1 both needs want v0; the one a maximum matching leaves out
    # gets more candidates before the first solve, so one round suffices.
    a = assign(**line_instance(), k_nearest=1, k_nearest_needs=0, max_rounds=1)
    assert a.proven_optimal and a.rounds == 1
    assert a.need.tolist() == [0, 1] and a.volunteer.tolist() == [0, 1]
