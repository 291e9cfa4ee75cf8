"""The engine's k-d tree import: scipy's own class, without the rest of scipy.spatial."""

from __future__ import annotations

import subprocess
import sys


def test_the_engine_loads_scipys_tree_when_first_used_and_scipy_spatial_still_works():
    code = (
        "import sys\n"
        "import matching\n"
        "assert 'scipy.spatial' not in sys.modules, 'scipy.spatial was imported'\n"
        "assert 'scipy.special' not in sys.modules, 'scipy.special was imported'\n"
        "assert 'scipy' not in sys.modules, 'scipy was imported before a tree was needed'\n"
        "from matching._kdtree import cKDTree, tree_class\n"
        "found = cKDTree([[0.0, 0.0], [1.0, 1.0]]).query([0.9, 0.9])[1]\n"
        "assert 'scipy.spatial' not in sys.modules, 'scipy.spatial was imported'\n"
        "import scipy.spatial\n"
        "assert scipy.spatial.cKDTree is tree_class()\n"
        "assert scipy.spatial.distance.euclidean([0, 0], [3, 4]) == 5.0\n"
        "print(found)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
