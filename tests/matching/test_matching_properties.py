"""Property tests: on degenerate instances made on purpose (everyone on one point, a few
points, equal distances, equal or extreme weights, capacities far above demand, scarce or
abundant sides, one category) the engine equals an exact reference on the full feasible
graph, proves it, and says only true things about it."""

from __future__ import annotations

import contextlib
import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import Problem, assign, dense_assign
from matching import _solvers as solvers
from matching._flow_py import solve_transport as python_solver

from .reference import feasible_pairs, reference

# The compiled solver, and its plain-Python twin used without a C compiler.
SOLVERS = ["compiled", "python"]


def using(solver: str):
    if solver == "compiled":
        if not solvers.COMPILED:
            pytest.skip("matching/_flow.pyx is not compiled")
        return contextlib.nullcontext()
    return mock.patch.object(solvers, "solve_transport", python_solver)


# Points within ~3 km of (40, -74): anywhere, or snapped to a handful of places so
# that many people share a point and many distances are exactly equal.
BASE = (40.0, -74.0)
SYMMETRIC = [(0.0, 0.0), (0.01, 0.0), (-0.01, 0.0), (0.0, 0.013), (0.0, -0.013)]


@st.composite
def instances(draw, max_needs=8, max_vols=6):
    shape = draw(st.sampled_from(["one_point", "few_points", "symmetric", "spread"]))
    sides = draw(st.sampled_from(["balanced", "scarce", "abundant"]))
    n_max, m_max = max_needs, max_vols
    if sides == "scarce":
        m_max = max(1, max_vols // 3)
    elif sides == "abundant":
        n_max = max(1, max_needs // 3)
    n = draw(st.integers(0, n_max))
    m = draw(st.integers(0, m_max))
    if shape == "one_point":
        places = [(0.0, 0.0)]
    elif shape == "few_points":
        places = draw(st.lists(st.sampled_from(SYMMETRIC), min_size=1, max_size=3))
    elif shape == "symmetric":
        places = SYMMETRIC
    else:
        places = None

    def point():
        if places is None:
            return (draw(st.floats(-0.03, 0.03)), draw(st.floats(-0.03, 0.03)))
        return draw(st.sampled_from(places))

    need_pts = [point() for _ in range(n)]
    vol_pts = [point() for _ in range(m)]
    n_cat = draw(st.sampled_from([1, 1, 2]))
    weights = draw(
        st.sampled_from(
            [
                [10],
                [10, 20, 40],
                [1, 2, 3, 5, 8, 13, 21, 34, 55],
                [1, 1_000_000],
                [999_999, 1_000_000],
            ]
        )
    )
    capacity = draw(st.sampled_from([[1], [0, 1, 2, 3], [1000], [0, 1000]]))
    penalty = draw(st.sampled_from([[0.0], [0.0, 0.7, 3.0], [0.0, 10_000.0]]))
    radius = draw(st.sampled_from([[0.0], [0.5, 2.0, 4.0, 8.0], [20_100.0]]))
    pairs = [(i, j) for i in range(n) for j in range(m)]
    return Problem(
        need_lat=[BASE[0] + a for a, _ in need_pts],
        need_lon=[BASE[1] + b for _, b in need_pts],
        need_category=[draw(st.integers(0, n_cat - 1)) for _ in range(n)],
        need_weight=[draw(st.sampled_from(weights)) for _ in range(n)],
        vol_lat=[BASE[0] + a for a, _ in vol_pts],
        vol_lon=[BASE[1] + b for _, b in vol_pts],
        vol_offers=np.array(
            [[draw(st.booleans()) or n_cat == 1 for _ in range(n_cat)] for _ in range(m)],
            dtype=bool,
        ).reshape(m, n_cat),
        vol_radius_km=[draw(st.sampled_from(radius)) for _ in range(m)],
        vol_capacity=[draw(st.sampled_from(capacity)) for _ in range(m)],
        need_vetted=[draw(st.booleans()) for _ in range(n)],
        vol_vetted=[draw(st.booleans()) for _ in range(m)],
        vol_penalty=[draw(st.sampled_from(penalty)) for _ in range(m)],
        exclude=draw(st.lists(st.sampled_from(pairs), max_size=3)) if pairs else None,
        max_km=draw(st.sampled_from([3.0, 25.0, 20_100.0])),
    )


def objective(p: Problem, need, vol) -> tuple[int, float]:
    return int(p.weight[need].sum()), float(p.pair_km(need, vol).sum() + p.penalty[vol].sum())


def check_feasible(p: Problem, need, vol) -> None:
    assert len(set(need.tolist())) == len(need)
    assert np.all(p.feasible(need, vol, p.pair_km(need, vol)))
    load = np.bincount(vol, minlength=p.n_vol)
    assert np.all(load <= p.capacity)


PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.timeout(300)
@pytest.mark.parametrize("solver", SOLVERS)
@PROPS
@given(p=instances(), knobs=st.sampled_from([(8, 4, 16), (1, 0, 16), (1, 0, 1)]))
def test_engine_equals_the_exact_reference_and_proves_it(solver, p, knobs):
    with using(solver):
        a = assign(p, k_nearest=knobs[0], k_nearest_needs=knobs[1], max_rounds=knobs[2])
    check_feasible(p, a.need, a.volunteer)
    assert a.proven_optimal
    assert a.path in ("candidate_graph", "full_graph")
    weight, cost = objective(p, a.need, a.volunteer)
    ref_weight, ref_cost = reference(p)
    assert weight == ref_weight
    assert cost == pytest.approx(float(ref_cost), abs=1e-6)
    assert float(a.cost.sum()) == pytest.approx(cost, abs=1e-9)


@pytest.mark.timeout(300)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=instances(max_needs=30, max_vols=20))
def test_larger_degenerate_instances_agree_with_dense_assignment(p):
    # Dense LSA (floating point, one column per place) as a second, independent optimum,
    # where the big-M stays small enough to be exact to 1e-6 (no 10,000 km penalties).
    if p.penalty.max(initial=0.0) > 100 or p.weight.max(initial=1) > 100:
        return
    a = assign(p)
    assert a.proven_optimal
    ref_need, ref_vol = dense_assign(p)
    w, c = objective(p, a.need, a.volunteer)
    rw, rc = objective(p, ref_need, ref_vol)
    assert w == rw
    assert c == pytest.approx(rc, abs=1e-6)


@pytest.mark.timeout(120)
@settings(max_examples=80, deadline=None)
@given(p=instances())
def test_compiled_and_python_solvers_give_the_same_pairs(p):
    if not solvers.COMPILED:
        pytest.skip("matching/_flow.pyx is not compiled")
    a = assign(p)
    with using("python"):
        b = assign(p)
    assert a.need.tolist() == b.need.tolist()
    assert a.volunteer.tolist() == b.volunteer.tolist()


@pytest.mark.timeout(120)
@settings(max_examples=80, deadline=None)
@given(p=instances(), data=st.data())
def test_same_instance_in_any_order_gives_the_same_objective(p, data):
    # Records in another order are other indices: the optimum's value is the same.
    perm_n = data.draw(st.permutations(range(p.n_need)))
    perm_m = data.draw(st.permutations(range(p.n_vol)))
    inv_m = np.argsort(perm_m) if p.n_vol else np.zeros(0, dtype=int)
    excl = [
        (int(np.argsort(perm_n)[i]), int(inv_m[j]))
        for i, j in zip(*divmod(p.exclude_keys, max(p.n_vol, 1)), strict=True)
    ]
    q = Problem(
        p.lat_lon_need[perm_n, 0],
        p.lat_lon_need[perm_n, 1],
        p.category[perm_n],
        p.weight[perm_n],
        p.lat_lon_vol[perm_m, 0],
        p.lat_lon_vol[perm_m, 1],
        p.offers[perm_m] if p.n_vol else p.offers,
        p.radius[perm_m],
        p.capacity[perm_m],
        need_vetted=p.needs_vetted[perm_n],
        vol_vetted=p.vetted[perm_m],
        vol_penalty=p.penalty[perm_m],
        exclude=excl or None,
        max_km=p.max_km,
    )
    a, b = assign(p), assign(q)
    assert objective(p, a.need, a.volunteer)[0] == objective(q, b.need, b.volunteer)[0]
    assert objective(p, a.need, a.volunteer)[1] == pytest.approx(
        objective(q, b.need, b.volunteer)[1], abs=1e-6
    )


@pytest.mark.timeout(120)
@settings(max_examples=100, deadline=None)
@given(p=instances())
def test_unserved_needs_have_no_suitable_volunteer_with_room_or_a_lighter_load(p):
    a = assign(p)
    served = np.zeros(p.n_need, dtype=bool)
    served[a.need] = True
    load = np.bincount(a.volunteer, minlength=p.n_vol)
    lightest = np.full(p.n_vol, math.inf)
    np.minimum.at(lightest, a.volunteer, p.weight[a.need])
    for i, j, _ in feasible_pairs(p):
        if not served[i]:
            assert load[j] >= p.capacity[j]
            assert lightest[j] >= p.weight[i]
