"""The engine's sort-based `distinct` gives what np.unique gives, ties and empties included."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matching import Need, Settings
from matching._arrays import distinct, distinct_first
from matching._candidates import Arcs, merge, merge_into

keys = st.lists(st.one_of(st.integers(0, 3), st.integers(-(2**62), 2**62)), max_size=60)


@given(values=keys)
def test_distinct_is_np_unique(values):
    a = np.asarray(values, dtype=np.int64)
    assert distinct(a).tolist() == np.unique(a).tolist()


@given(values=keys)
def test_distinct_first_is_np_unique_with_first_indices(values):
    a = np.asarray(values, dtype=np.int64)
    got, first = distinct_first(a)
    want, want_first = np.unique(a, return_index=True)
    assert got.tolist() == want.tolist()
    assert first.tolist() == want_first.tolist()


@given(
    waited=st.lists(
        st.one_of(
            st.sampled_from([0.0, 1e-300, 2.4, 24.0, 143.99999999999997, 1_000_000.0]),
            st.floats(0.0, 1_000_000.0),
            st.integers(0, 1_000_000),
        ),
        max_size=30,
    ),
    per_day=st.one_of(st.sampled_from([0, 10, 0.1, 7.3, 100_000]), st.floats(0.0, 100_000.0)),
    most=st.integers(0, 100_000),
)
def test_settings_weights_is_settings_weight_of_each_need(waited, per_day, most):
    # One numpy pass must give every need exactly the weight Settings.weight gives it,
    # also where the wait lands on a whole point or the cap.
    s = Settings(wait_points_per_day=per_day, max_wait_points=most)
    urgency = ["normal", "soon", "urgent"]
    needs = [Need(f"r{k}", 0.0, 0.0, "x", urgency[k % 3], w) for k, w in enumerate(waited)]
    assert s.weights(needs).tolist() == [s.weight(n.urgency, n.waited_hours) for n in needs]


pair_sets = st.sets(st.tuples(st.integers(0, 6), st.integers(0, 4)), max_size=25)


@given(old=pair_sets, new=pair_sets)
def test_merge_into_is_merge_and_says_where_the_old_arcs_went(old, new):
    # Overlapping, disjoint, empty and identical sets: the same union as merge (the old
    # arc's km kept where both have a pair), and each old arc found where it is said.
    g = SimpleNamespace(n_classes=5)

    def arcs(pairs, km):
        rows = np.array(sorted(pairs), dtype=np.int32).reshape(-1, 2)
        return Arcs(rows[:, 0].copy(), rows[:, 1].copy(), np.full(len(rows), km))

    a, b = arcs(old, 1.0), arcs(new, 2.0)
    merged, at = merge_into(g, a, b)
    want = merge(g, a, b)
    assert merged.row.tolist() == want.row.tolist() and merged.col.tolist() == want.col.tolist()
    assert merged.km.tolist() == want.km.tolist()
    assert merged.row[at].tolist() == a.row.tolist() and merged.col[at].tolist() == a.col.tolist()
