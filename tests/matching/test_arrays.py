"""The engine's sort-based `distinct` gives what np.unique gives, ties and empties included."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from matching._arrays import distinct, distinct_first

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
