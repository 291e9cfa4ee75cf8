"""The cases issue #11 found wrong: everyone on one point, a handful of ZIP centroids,
supply far from demand, and extreme but syntactically valid values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from matching import LIMITS, Need, Problem, Settings, Volunteer, assign, parse_instance, solve

ORIGIN = (40.68, -73.94)


def crowd(n, m, points, seed=0, radius=(2.0, 15.0), capacity=1):
    """n needs and m volunteers on the given (lat, lon) points, urgencies and waits mixed."""
    rng = np.random.default_rng(seed)
    urgency = rng.choice(["normal", "soon", "urgent"], n, p=[0.7, 0.2, 0.1])
    waited = rng.uniform(0, 72, n).round(1)
    at_n = rng.integers(0, len(points), n)
    at_v = rng.integers(0, len(points), m)
    needs = [
        Need(f"r{i}", *points[at_n[i]], "groceries", str(urgency[i]), float(waited[i]))
        for i in range(n)
    ]
    vols = [
        Volunteer(
            f"v{j}",
            *points[at_v[j]],
            ("groceries",),
            round(float(rng.uniform(*radius)), 1),
            capacity,
        )
        for j in range(m)
    ]
    return needs, vols


def heaviest_possible(needs, slots):
    settings = Settings()
    weights = sorted((settings.weight(n.urgency, n.waited_hours) for n in needs), reverse=True)
    return sum(weights[:slots])


@pytest.mark.timeout(60)
def test_a_shelter_of_1000_needs_and_500_volunteers_on_one_point_serves_500_proven():
    needs, vols = crowd(1000, 500, [ORIGIN])
    result = solve(needs, vols)
    assert result.stats.matched == 500
    assert result.stats.proven_optimal
    assert result.stats.served_weight == heaviest_possible(needs, 500)
    assert result.stats.total_km == 0.0
    # Every unmatched need is truly outprioritised: all 500 volunteers are full.
    assert {u.reason for u in result.unmatched} == {"outprioritised"}


@pytest.mark.timeout(120)
def test_one_zip_of_5000_needs_and_2500_volunteers_serves_the_heaviest_2500():
    needs, vols = crowd(5000, 2500, [ORIGIN], seed=1)
    result = solve(needs, vols)
    assert result.stats.proven_optimal
    assert result.stats.matched == 2500
    assert result.stats.served_weight == heaviest_possible(needs, 2500)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("n_zips", [2, 5, 30])
def test_a_few_zip_centroids_are_proven_optimal(n_zips):
    rng = np.random.default_rng(n_zips)
    points = [
        (ORIGIN[0] + float(a), ORIGIN[1] + float(b))
        for a, b in rng.uniform(-0.08, 0.08, (n_zips, 2))
    ]
    needs, vols = crowd(3000, 2000, points, seed=n_zips)
    result = solve(needs, vols)
    assert result.stats.proven_optimal
    assert result.stats.path == "candidate_graph"
    assert all(u.reason != "unproven" for u in result.unmatched)


@pytest.mark.timeout(120)
def test_supply_15_km_from_demand_is_proven_optimal():
    rng = np.random.default_rng(3)
    needs = [
        Need(f"r{i}", ORIGIN[0] + rng.normal(0, 0.02), ORIGIN[1] + rng.normal(0, 0.02), "x")
        for i in range(400)
    ]
    east = 15 / (111.32 * np.cos(np.radians(ORIGIN[0])))
    vols = [
        Volunteer(
            f"v{j}",
            ORIGIN[0] + rng.normal(0, 0.02),
            ORIGIN[1] + east + rng.normal(0, 0.02),
            ("x",),
            float(rng.uniform(12, 20)),
        )
        for j in range(400)
    ]
    result = solve(needs, vols)
    assert result.stats.proven_optimal
    assert all(u.reason != "unproven" for u in result.unmatched)


def line():
    """Two needs whose nearest volunteer is the same one (~1.1 km apart on the equator)."""
    return Problem(
        [0.0, 0.0],
        [0.0, 0.02],
        [0, 0],
        [10, 10],
        [0.0, 0.0],
        [0.01, 0.06],
        [[True], [True]],
        [5.0, 5.0],
    )


def test_the_full_feasible_graph_is_solved_when_the_rounds_run_out():
    # With one nearest volunteer each, the first graph serves one need; one round only.
    few = assign(line(), k_nearest=1, k_nearest_needs=0, max_rounds=1)
    assert few.path == "full_graph" and few.proven_optimal and few.rounds == 2
    assert few.need.tolist() == [0, 1] and few.volunteer.tolist() == [0, 1]
    many = assign(line(), k_nearest=1, k_nearest_needs=0)
    assert many.path == "candidate_graph" and many.proven_optimal and many.rounds == 2
    assert float(many.km.sum()) == pytest.approx(1.112 + 4.448, abs=2e-3)


def test_a_graph_too_large_to_solve_whole_is_reported_unproven_never_silently():
    a = assign(line(), k_nearest=1, k_nearest_needs=0, max_rounds=1, max_full_pairs=0)
    assert a.path == "unproven" and not a.proven_optimal
    r = solve(
        [Need("r1", 0.0, 0.0, "x"), Need("r2", 0.0, 0.02, "x")],
        [Volunteer("v1", 0.0, 0.01, ("x",), 5.0), Volunteer("v2", 0.0, 0.06, ("x",), 5.0)],
        Settings(k_nearest=1, k_nearest_needs=0, max_rounds=1),
    )
    assert r.stats.path == "full_graph" and r.stats.proven_optimal


# --- extreme values: refused with the record and the field named, or solved -----------


def instance(need=None, vol=None, settings=None):
    doc = {
        "needs": [{"id": "r1", "lat": 40.7, "lon": -73.9, "category": "x"} | (need or {})],
        "volunteers": [
            {"id": "v1", "lat": 40.7, "lon": -73.9, "categories": ["x"], "radius_km": 5}
            | (vol or {})
        ],
    }
    if settings:
        doc["settings"] = settings
    return doc


@pytest.mark.parametrize(
    ("need", "vol", "settings", "message"),
    [
        (None, {"capacity": 2**31}, None, "volunteer #0 (id 'v1'): capacity 2147483648 is out"),
        (None, {"capacity": 2**32}, None, "volunteer #0 (id 'v1'): capacity 4294967296 is out"),
        (None, {"capacity": 10**9}, None, "volunteer #0 (id 'v1'): capacity 1000000000 is out"),
        (None, {"capacity": 10**400}, None, "volunteer #0 (id 'v1'): capacity"),
        (None, {"capacity": -1}, None, "volunteer #0 (id 'v1'): capacity -1 is out"),
        ({"waited_hours": 1e308}, None, None, "need #0 (id 'r1'): waited_hours 1e+308 is out"),
        ({"waited_hours": 1e7}, None, None, "need #0 (id 'r1'): waited_hours"),
        (None, {"penalty": 1e307}, None, "volunteer #0 (id 'v1'): penalty 1e+307 is out"),
        (None, {"penalty": 10_001}, None, "volunteer #0 (id 'v1'): penalty"),
        (None, {"radius_km": 1e300}, None, "volunteer #0 (id 'v1'): radius_km"),
        (None, {"radius_km": 30_000}, None, "volunteer #0 (id 'v1'): radius_km"),
        (None, None, {"max_km": 1e300}, "settings: max_km"),
        (None, None, {"max_km": 0}, "settings: max_km"),
        (None, None, {"wait_points_per_day": 1e300}, "settings: wait_points_per_day"),
        (None, None, {"max_wait_points": 10**12}, "settings: max_wait_points"),
        (
            None,
            None,
            {"urgency_points": {"normal": 1, "soon": 2, "urgent": 10**9}},
            "settings: urgency_points",
        ),
        (None, None, {"k_nearest": 10**6}, "settings: k_nearest"),
        (None, None, {"max_rounds": 10**6}, "settings: max_rounds"),
    ],
)
def test_extreme_values_are_refused_naming_record_and_field(need, vol, settings, message):
    with pytest.raises(ValueError) as err:
        parse_instance(instance(need, vol, settings))
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(
    ("need", "vol", "settings", "served"),
    [
        (None, {"capacity": 1000}, None, 1),
        (None, {"capacity": 0}, None, 0),
        ({"waited_hours": 1e6}, None, None, 1),
        (None, {"penalty": 10_000}, None, 1),
        (None, {"radius_km": 20_100}, {"max_km": 20_100}, 1),
        (None, {"radius_km": 0}, None, 1),  # the same point: 0 km is within a 0 km radius
        (None, None, {"urgency_points": {"normal": 1, "soon": 2, "urgent": 100_000}}, 1),
    ],
)
def test_extreme_values_at_the_limits_are_solved(need, vol, settings, served):
    needs, vols, s = parse_instance(instance(need, vol, settings))
    result = solve(needs, vols, s)
    assert result.stats.matched == served
    assert result.stats.proven_optimal


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vol_capacity": [2**31]}, r"vol_capacity\[0\] = 2147483648 is out of range \[0, 1000\]"),
        ({"vol_capacity": [1.5]}, r"vol_capacity\[0\] = 1.5 must be a whole number"),
        ({"need_weight": [0]}, r"need_weight\[0\] = 0 is out of range"),
        ({"need_weight": [10**7]}, r"need_weight\[0\] = 10000000 is out of range"),
        ({"vol_penalty": [np.nan]}, r"vol_penalty\[0\] = nan is out of range"),
        ({"vol_radius_km": [np.inf]}, r"vol_radius_km\[0\] = inf is out of range"),
        ({"max_km": 1e300}, r"max_km = 1e\+300 is out of range"),
        ({"exclude": [[0, 5]]}, r"exclude\[0\] = \[0, 5\] is not a"),
    ],
)
def test_problem_arrays_out_of_range_are_refused_naming_the_index(kwargs, message):
    args = {
        "need_lat": [0.0],
        "need_lon": [0.0],
        "need_category": [0],
        "need_weight": [10],
        "vol_lat": [0.0],
        "vol_lon": [0.0],
        "vol_offers": [[True]],
        "vol_radius_km": [5.0],
    } | kwargs
    with pytest.raises(ValueError, match=message):
        Problem(**args)


def test_large_penalties_and_weights_are_exact_to_a_micrometre():
    # Weights near the limit and a 10,000 km penalty: the float big-M of old lost
    # 0.027 km here; the exact integer objective does not.
    p = Problem(
        [0.0, 0.0, 0.0],
        [0.0, 0.01, 0.02],
        [0, 0, 0],
        [1_000_000, 999_999, 1_000_000],
        [0.0, 0.0],
        [0.005, 0.015],
        [[True], [True]],
        [25.0, 25.0],
        [1, 1],
        vol_penalty=[10_000.0, 0.0],
    )
    a = assign(p)
    assert a.proven_optimal
    # Both heavy needs are served (2,000,000); r0 and r2 are equally heavy, so the
    # cheaper total wins: r2 to v1 (0.556 km), r0 to v0 (0.556 + 10,000).
    assert int(p.weight[a.need].sum()) == 2_000_000
    best = (
        min(
            p.pair_km(np.array([0, 2]), np.array([0, 1])).sum(),
            p.pair_km(np.array([0, 2]), np.array([1, 0])).sum(),
        )
        + 10_000.0
    )
    assert float(a.cost.sum()) == pytest.approx(float(best), abs=1e-6)


def test_limits_are_documented_in_the_schema():
    schema = json.loads(
        (Path(__file__).parents[2] / "matching" / "instance.schema.json").read_text()
    )
    vol = schema["properties"]["volunteers"]["items"]["properties"]
    assert vol["capacity"]["maximum"] == LIMITS["capacity"][1]
    assert vol["radius_km"]["maximum"] == LIMITS["radius_km"][1]
    assert vol["penalty"]["maximum"] == LIMITS["penalty"][1]
    need = schema["properties"]["needs"]["items"]["properties"]
    assert need["waited_hours"]["maximum"] == LIMITS["waited_hours"][1]


@pytest.mark.timeout(60)
def test_the_cli_refuses_a_capacity_of_2_to_the_31_with_exit_status_1(tmp_path):
    path = tmp_path / "inst.json"
    path.write_text(json.dumps(instance(None, {"capacity": 2**31})))
    done = subprocess.run(
        [sys.executable, "-m", "matching", "solve", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "volunteer #0 (id 'v1'): capacity 2147483648 is out of range [0, 1000]" in done.stderr


def test_volunteers_who_take_many_needs_are_offered_more_widely_at_first(monkeypatch):
    """The bench's metro with one volunteer per 20 needs, capacity 10-50: the first graph
    gives each need twice the nearest volunteers (else many needs' nearest are priced out
    and the proof takes another round). The same pairs either way; capacities of 1-3
    keep the plain count."""
    import matching._engine as engine
    from matching import generate_instance, to_arrays, to_problem

    def problem(capacity):
        inst = generate_instance(2000, 100, "metro", 5)
        for v, c in zip(inst["volunteers"], capacity, strict=True):
            v["capacity"] = int(c)
        needs, vols, settings = parse_instance(inst)
        return to_problem(to_arrays(needs, vols, settings, checked=True), settings)

    p = problem(np.random.default_rng(5).integers(10, 51, 100))
    assert engine._capacity_factor(p) == 2
    assert engine._capacity_factor(problem(np.random.default_rng(5).integers(1, 4, 100))) == 1
    wide = assign(p)
    monkeypatch.setattr(engine, "_capacity_factor", lambda problem: 1)
    plain = assign(p)
    assert wide.proven_optimal and plain.proven_optimal
    assert wide.need.tolist() == plain.need.tolist()
    assert wide.volunteer.tolist() == plain.volunteer.tolist()
    assert wide.rounds < plain.rounds
