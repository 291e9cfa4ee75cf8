"""The engine's k-d tree import (scipy's own class, without the rest of scipy.spatial), and
the ball queries made with it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching._candidates import ball_pairs, chord_bound
from matching._geo import unit_vectors
from matching._kdtree import cKDTree


def test_the_engine_loads_scipys_tree_when_first_used_and_scipy_spatial_still_works():
    # Loaded without scipy.spatial's package, scipy.sparse or scipy's array API layer
    # (numpy.f2py): each still imports whole, and works, when something asks for it.
    code = (
        "import sys\n"
        "import matching\n"
        "assert 'scipy.spatial' not in sys.modules, 'scipy.spatial was imported'\n"
        "assert 'scipy.special' not in sys.modules, 'scipy.special was imported'\n"
        "assert 'scipy' not in sys.modules, 'scipy was imported before a tree was needed'\n"
        "from matching._kdtree import cKDTree, tree_class\n"
        "found = cKDTree([[0.0, 0.0], [1.0, 1.0]]).query([0.9, 0.9])[1]\n"
        "assert 'scipy.spatial' not in sys.modules, 'scipy.spatial was imported'\n"
        "assert 'scipy.sparse' not in sys.modules, 'scipy.sparse was imported'\n"
        "assert 'numpy.f2py' not in sys.modules, 'numpy.f2py was imported'\n"
        "near = cKDTree([[0.0, 0.0], [1.0, 1.0]]).sparse_distance_matrix(\n"
        "    cKDTree([[0.0, 0.1]]), 0.5, output_type='ndarray')\n"
        "assert near['i'].tolist() == [0] and near['j'].tolist() == [0], near\n"
        "import scipy.spatial\n"
        "assert scipy.spatial.cKDTree is tree_class()\n"
        "assert scipy.spatial.distance.euclidean([0, 0], [3, 4]) == 5.0\n"
        "import scipy.sparse\n"
        "dok = tree_class()([[0.0, 0.0]]).sparse_distance_matrix(tree_class()([[0.0, 0.3]]), 1.0)\n"
        "assert isinstance(dok, scipy.sparse.dok_matrix) and dok[0, 0] == 0.3, dok\n"
        "import scipy._lib._util\n"
        "assert hasattr(scipy._lib._util, 'check_random_state')\n"
        "print(found)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


def test_where_a_stand_in_cannot_be_made_scipy_is_imported_whole_and_works():
    # A scipy laid out otherwise (here: no scipy._lib._util to stand in for): the tree
    # comes from the ordinary import, and no bare stand-in is left in its place.
    code = (
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'scipy._lib._util' "
        "else real(name, *a)\n"
        "from matching._kdtree import cKDTree, tree_class\n"
        "found = cKDTree([[0.0, 0.0], [1.0, 1.0]]).query([0.9, 0.9])[1]\n"
        "importlib.util.find_spec = real\n"
        "import scipy.spatial, scipy.sparse\n"
        "assert scipy.spatial.cKDTree is tree_class()\n"
        "assert scipy.spatial.distance.euclidean([0, 0], [3, 4]) == 5.0\n"
        "assert hasattr(scipy.sparse, 'dok_matrix')\n"
        "print(found)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


@settings(max_examples=60, deadline=None)
@given(
    spread=st.integers(20, 300),
    crowd=st.integers(0, 150),
    rows_in_crowd=st.integers(0, 40),
    km=st.sampled_from([0.0, 0.05, 0.3, 2.0, 40.0]),
    seed=st.integers(0, 2**32 - 1),
)
def test_ball_pairs_are_every_pair_within_reach(spread, crowd, rows_in_crowd, km, seed):
    # Mostly small balls (the nearest-first path) with a crowd of classes on one point
    # (balls holding more than the nearest asked for) and rows on that point, on it
    # exactly and on the ball's edge: the pairs are exactly those a brute force finds.
    rng = np.random.default_rng(seed)
    here = unit_vectors([40.68], [-73.94])
    pts = unit_vectors(
        40.68 + rng.uniform(-0.5, 0.5, spread), -73.94 + rng.uniform(-0.5, 0.5, spread)
    )
    classes = np.concatenate([pts, np.repeat(here, crowd, axis=0)])
    rows_xyz = np.concatenate(
        [
            unit_vectors(40.68 + rng.uniform(-0.5, 0.5, 200), -73.94 + rng.uniform(-0.5, 0.5, 200)),
            np.repeat(here, rows_in_crowd, axis=0),
            classes[: min(5, len(classes))],
        ]
    )
    pool = np.arange(len(classes)) * 3 + 1  # class numbers, not tree positions
    rows = np.arange(len(rows_xyz))[::-1].copy()
    tree = cKDTree(classes)
    got = set()
    for r, q, chord in ball_pairs(tree, pool, rows_xyz, rows, km):
        assert np.allclose(chord, np.linalg.norm(rows_xyz[r] - classes[(q - 1) // 3], axis=1))
        got |= set(zip(r.tolist(), q.tolist(), strict=True))
    bound = chord_bound(km)
    dist = np.linalg.norm(rows_xyz[:, None, :] - classes[None, :, :], axis=2)
    ri, ci = np.nonzero(dist <= bound * (1 - 1e-12))
    want = set(zip(ri.tolist(), pool[ci].tolist(), strict=True))
    assert want <= got
    far = [(r, q) for r, q in got - want if dist[r, (q - 1) // 3] > bound * (1 + 1e-12)]
    assert not far
