"""The compiled shortest-augmenting-path solver against scipy's, and its dual prices."""

from __future__ import annotations

import os

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from matching import _engine as engine

if engine._sap_assign_rows is None and os.environ.get("CI") != "true":
    pytest.skip("matching/_sap.pyx is not compiled (no C compiler?)", allow_module_level=True)

from matching._sap import assign_rows


def test_the_compiled_solver_is_built():
    # `make test` compiles matching/_sap.pyx (CI has a compiler); without it the engine
    # falls back to scipy's LAPJVsp, correct but about ten times slower at city scale.
    assert engine._sap_assign_rows is assign_rows


def solve(graph: sp.csr_array, capacity=None):
    graph = graph.tocsr()
    if capacity is None:
        capacity = np.ones(graph.shape[1], dtype=np.intc)
    return assign_rows(
        graph.indptr.astype(np.int64),
        graph.indices.astype(np.intc),
        graph.data,
        np.asarray(capacity, dtype=np.intc),
    )


@st.composite
def graphs(draw):
    """Random sparse costs, every row with a column of its own (as the engine's slack)."""
    n_row = draw(st.integers(1, 9))
    n_shared = draw(st.integers(0, 7))
    cells = draw(
        st.lists(
            st.tuples(
                st.integers(0, n_row - 1),
                st.integers(0, max(n_shared - 1, 0)),
                st.sampled_from([1.0, 2.0, 2.5, 3.0, 7.25]),
            ),
            max_size=30 if n_shared else 0,
        )
    )
    cells = {(r, q): c for r, q, c in cells}
    rows = [r for r, _ in cells] + list(range(n_row))
    cols = [q for _, q in cells] + [n_shared + r for r in range(n_row)]
    data = list(cells.values()) + [draw(st.sampled_from([4.0, 9.0, 50.0])) for _ in range(n_row)]
    return sp.csr_array((data, (rows, cols)), shape=(n_row, n_shared + n_row))


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_same_optimum_as_scipy_and_prices_that_prove_it(graph):
    col_of_row, price = solve(graph)
    n_row, n_col = graph.shape
    assert len(set(col_of_row.tolist())) == n_row  # each column used at most once
    dense = graph.toarray()
    assert np.all(dense[np.arange(n_row), col_of_row] > 0)  # only real arcs
    _, reference = min_weight_full_bipartite_matching(graph)
    best = dense[np.arange(n_row), reference].sum()
    assert dense[np.arange(n_row), col_of_row].sum() == pytest.approx(best, abs=1e-9)
    # Dual feasibility and complementary slackness: the certificate.
    u = dense[np.arange(n_row), col_of_row] - price[col_of_row]
    coo = graph.tocoo()
    assert np.all(coo.data - u[coo.row] - price[coo.col] >= -1e-9)
    assert np.all(price <= 1e-12)
    free = np.setdiff1d(np.arange(n_col), col_of_row)
    assert np.all(price[free] == 0)


def test_prefers_the_cheaper_total_over_each_row_greedily():
    # Row 0 alone would take column 0 (1 < 2); together the optimum crosses.
    graph = sp.csr_array(np.array([[1.0, 2.0, 100.0, 0.0], [1.5, 9.0, 0.0, 100.0]]))
    col_of_row, _ = solve(graph)
    assert col_of_row.tolist() == [1, 0]


def test_a_row_with_nowhere_to_go_is_an_error_not_a_wrong_answer():
    graph = sp.csr_array((np.array([1.0]), (np.array([0]), np.array([0]))), shape=(2, 1))
    with pytest.raises(ValueError, match="row 1 cannot be assigned"):
        solve(graph)


def test_same_input_gives_the_same_assignment():
    rng = np.random.default_rng(5)
    dense = np.where(rng.random((60, 80)) < 0.2, rng.integers(1, 4, (60, 80)).astype(float), 0)
    graph = sp.hstack([sp.csr_array(dense), sp.diags_array(np.full(60, 10.0))]).tocsr()
    first, _ = solve(graph)
    for _ in range(3):
        assert solve(graph)[0].tolist() == first.tolist()


@settings(max_examples=150, deadline=None)
@given(graphs(), st.lists(st.integers(0, 3), min_size=8, max_size=8))
def test_capacities_give_the_optimum_of_one_column_per_place(graph, caps):
    n_row, n_col = graph.shape
    n_shared = n_col - n_row
    capacity = np.array(caps[:n_shared] + [1] * n_row, dtype=np.intc)
    col_of_row, price = solve(graph, capacity)
    load = np.bincount(col_of_row, minlength=n_col)
    assert np.all(load <= capacity)
    dense = graph.toarray()
    assert np.all(dense[np.arange(n_row), col_of_row] > 0)
    # The same problem with a column per place, solved by scipy.
    owner = np.repeat(np.arange(n_col), capacity)
    _, reference = min_weight_full_bipartite_matching(sp.csr_array(dense[:, owner]))
    best = dense[:, owner][np.arange(n_row), reference].sum()
    assert dense[np.arange(n_row), col_of_row].sum() == pytest.approx(best, abs=1e-9)
    # Prices prove it: reduced costs >= 0, prices <= 0, and 0 where there is room.
    u = dense[np.arange(n_row), col_of_row] - price[col_of_row]
    coo = graph.tocoo()
    assert np.all(coo.data - u[coo.row] - price[coo.col] >= -1e-9)
    assert np.all(price <= 1e-12)
    assert np.all(price[load < capacity] == 0)
