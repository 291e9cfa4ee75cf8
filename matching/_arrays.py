"""Array helpers the engine needs faster than NumPy gives them."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["blocks", "distinct", "distinct_first"]


def distinct(values: ArrayLike) -> NDArray:
    """The sorted distinct values of an integer array, as ``np.unique(values)``.

    NumPy 2.3 and later find them with a hash table when no counts, indices or inverse
    are asked for; on millions of distinct keys that is 50-90 times slower than sorting
    (6.0 s against 0.07 s for 5 million, 0.6 s against 0.01 s for 1 million).

    >>> distinct([3, 1, 3, 2]).tolist()
    [1, 2, 3]
    """
    s = np.sort(np.asarray(values).ravel())
    if len(s) < 2:
        return s
    return s[np.concatenate([[True], s[1:] != s[:-1]])]


def distinct_first(values: ArrayLike) -> tuple[NDArray, NDArray[np.intp]]:
    """``np.unique(values, return_index=True)``: the sorted distinct values and the index
    of each one's first occurrence (a stable sort, about 2.5 times faster).

    >>> keys, first = distinct_first([3, 1, 3, 2])
    >>> keys.tolist(), first.tolist()
    ([1, 2, 3], [1, 3, 0])
    """
    a = np.asarray(values).ravel()
    order = np.argsort(a, kind="stable")
    s = a[order]
    if len(s) < 2:
        return s, order
    head = np.concatenate([[True], s[1:] != s[:-1]])
    return s[head], order[head]


def blocks(starts: ArrayLike, lengths: ArrayLike) -> NDArray[np.int64]:
    """The indices ``starts[i], ..., starts[i] + lengths[i] - 1`` for each i, in order.

    >>> blocks([5, 0], [2, 3]).tolist()
    [5, 6, 0, 1, 2]
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    before = np.cumsum(lengths) - lengths
    return np.repeat(starts - before, lengths) + np.arange(total, dtype=np.int64)
