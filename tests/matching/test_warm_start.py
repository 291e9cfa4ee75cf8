"""Certificate rounds from the third on start from the last solution (`solve_graph`'s
``warm``): on instances that take several rounds, the answer is the exact optimum of the
full feasible graph, proven, and the same with the compiled solver and its twin."""

from __future__ import annotations

import dataclasses
from unittest import mock

import numpy as np
import pytest

from matching import _engine as engine
from matching import _solvers as solvers
from matching._engine import assign
from matching._flow_py import solve_transport as python_solver
from matching._generate import generate_instance
from matching._groups import group
from matching._instance import parse_instance
from matching._solve import to_arrays, to_problem
from matching._solvers import solve_graph


def scarce_city(n: int, seed: int):
    """A metro with a third as many volunteers as needs: rows displace one another
    across rounds, so rows move and columns are refilled in the warm starts."""
    needs, vols, settings = parse_instance(generate_instance(n, n // 3, "metro", seed=seed))
    return to_problem(to_arrays(needs, vols, settings, checked=True), settings)


def solves(problem):
    """Each `solve_graph` call of `assign` (few candidates: several warm rounds), as
    (args, kwargs, solution)."""
    seen = []
    real = engine.solve_graph

    def spy(*args, handed=None, **kwargs):
        if handed is None:
            out = real(*args, **kwargs)
        else:  # recorded as warm= and warm_at=; solved as handed over (the list emptied)
            kwargs = {**kwargs, "warm": handed[0], "warm_at": handed[1]}
            out = real(*args, handed=handed)
            assert handed == []
        seen.append((args, kwargs, out))
        return out

    with mock.patch.object(engine, "solve_graph", spy):
        assign(problem, k_nearest=2, k_nearest_needs=0)
    return seen


def totals(problem, a):
    return int(problem.weight[a.need].sum()), int(np.rint(a.cost * 1e6).sum())


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("n", "seed"), [(300, 1), (600, 1), (1000, 3), (2000, 3)])
def test_warm_started_rounds_reach_the_optimum_of_the_full_graph(n, seed):
    problem = scarce_city(n, seed)
    a = assign(problem, k_nearest=2, k_nearest_needs=0)
    assert a.rounds >= 3 and a.path == "candidate_graph" and a.proven_optimal
    assert a.solution.warm and a.solution.stats["warm_rows"] > 0
    # The reference: every feasible pair, solved from nothing after one round.
    exact = assign(problem, k_nearest=2, k_nearest_needs=0, max_rounds=1, max_full_pairs=10**9)
    assert exact.path == "full_graph" and not exact.solution.warm
    assert totals(problem, a) == totals(problem, exact)


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("n", "seed"), [(300, 1), (600, 1), (1000, 3)])
def test_the_compiled_solver_and_its_twin_warm_start_alike(n, seed):
    if not solvers.COMPILED:
        pytest.skip("matching/_flow.pyx is not compiled")
    problem = scarce_city(n, seed)
    a = assign(problem, k_nearest=2, k_nearest_needs=0)
    with mock.patch.object(solvers, "solve_transport", python_solver):
        b = assign(problem, k_nearest=2, k_nearest_needs=0)
    assert a.rounds == b.rounds and a.solution.warm and b.solution.warm
    assert a.need.tolist() == b.need.tolist()
    assert a.volunteer.tolist() == b.volunteer.tolist()


def test_a_warm_start_costlier_than_a_cold_one_is_abandoned_for_it():
    # Past half the work of the last cold solve the warm start gives up, and the round
    # is solved from nothing: the same optimum, not warm.
    problem = scarce_city(600, 1)
    g = group(problem)
    seen = solves(problem)
    args, kwargs, warm = next(x for x in seen if x[2].warm and x[2].stats["warm_rows"] > 0)
    assert kwargs["warm"] is not None and kwargs["warm_at"] is not None
    assert solve_graph(*args, **kwargs).warm  # as it was: warm
    cheap = dataclasses.replace(kwargs["warm"], cold_work=1)
    again = solve_graph(*args, warm=cheap, warm_at=kwargs["warm_at"])
    assert again.duals_ok and not again.warm
    assert again.flow.tolist() == solve_graph(*args).flow.tolist()
    assert int((again.cost * again.flow).sum()) == int((warm.cost * warm.flow).sum())
    assert int(again.slack_flow @ g.slack_weight) == int(warm.slack_flow @ g.slack_weight)


def test_rounds_start_from_the_last_solution_slimmed_and_lose_nothing():
    """The solution a round starts from is held without its arcs and costs (`slim`):
    given where its arcs went, the warm start is the one the whole solution gives; not
    given, it cannot be placed, and the round is solved from nothing, as optimal."""
    problem = scarce_city(600, 1)
    seen = solves(problem)
    warm_rounds = [k for k, x in enumerate(seen) if x[1]["warm"] is not None]
    assert warm_rounds and all(len(seen[k][1]["warm"].arcs) == 0 for k in warm_rounds)
    k = next(k for k in warm_rounds if seen[k][2].warm)  # not abandoned for a cold solve
    args, kwargs, got = seen[k]
    whole = seen[k - 1][2]  # the same solution, not slimmed
    from_whole = solve_graph(*args, warm=whole, warm_at=kwargs["warm_at"])
    assert got.warm and from_whole.warm
    assert got.flow.tolist() == from_whole.flow.tolist()
    assert got.alpha_c.tolist() == from_whole.alpha_c.tolist()
    lost = solve_graph(*args, warm=kwargs["warm"])  # where its arcs went: not known
    assert not lost.warm and lost.duals_ok
    cost = lambda s: int((s.flow * s.cost).sum())  # noqa: E731
    assert cost(lost) == cost(got)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("n", "seed", "k"), [(300, 1, 2), (1000, 3, 2), (2000, 3, 1), (2000, 0, 4)]
)
def test_a_check_of_only_the_prices_that_rose_finds_what_a_whole_check_finds(n, seed, k):
    # After a warm start only pairs whose row or class price rose (or whose row was left
    # open) can violate; the pairs returned are exactly those of a whole check.
    problem = scarce_city(n, seed)
    real = engine.violations
    compared = []

    def both(g, index, sol, per_km, grow, since):
        arcs, n_checked, done = real(g, index, sol, per_km, grow, since)
        whole, n_whole, whole_done = real(g, index, sol, per_km, grow, None)
        assert arcs.row.tolist() == whole.row.tolist()
        assert arcs.col.tolist() == whole.col.tolist()
        # Rows left open by the part-check are a superset of the whole check's.
        assert not np.any(whole_done.open_rows & ~done.open_rows)
        compared.append((sol.warm and since is not None, n_checked, n_whole))
        return arcs, n_checked, done

    with mock.patch.object(engine, "violations", both):
        a = assign(problem, k_nearest=k, k_nearest_needs=0)
    assert a.proven_optimal
    partial = [x for x in compared if x[0]]
    assert partial, "no round was checked in part"
    assert sum(x[1] for x in partial) < sum(x[2] for x in partial)


def test_the_z_order_key_interleaves_the_bits_of_the_three_axes():
    rng = np.random.default_rng(4)
    xyz = np.concatenate([rng.normal(size=(500, 3)), np.zeros((3, 3)), np.ones((2, 3))])
    low, high = xyz.min(axis=0), xyz.max(axis=0)
    q = ((xyz - low) / (high - low) * 1023.0).astype(np.int64)
    expected = np.zeros(len(xyz), dtype=np.int64)
    for bit in range(10):
        for axis in range(3):
            expected |= ((q[:, axis] >> bit) & 1) << (3 * bit + axis)
    assert solvers._morton(xyz).tolist() == expected.tolist()
    assert solvers._morton(np.zeros((4, 3))).tolist() == [0] * 4  # one point: all equal
