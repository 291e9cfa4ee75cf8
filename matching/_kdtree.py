"""scipy's cKDTree, imported without the rest of `scipy.spatial`.

`scipy.spatial`'s package import also loads its distance functions, rotations,
convex hulls and, through them, `scipy.special` (which parses docstrings at
import): about 0.2 s of a whole `python -m matching solve` run, which only
needs the k-d tree. Its compiled module is loaded under a bare package object
that is removed again at once, so a later ``import scipy.spatial`` runs the
package as usual and hands out this same class. Should that ever fail (a
scipy that lays its modules out differently), the ordinary import is used.

It is loaded on first use, not at ``import matching``: the app imports the engine in
every process (each web worker, each `mutualaid` command), and most never match (0.26 s
each).
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from typing import TYPE_CHECKING, Any

__all__ = ["cKDTree", "workers"]

#: Query points from which a k-d tree query runs on every core: scipy starts threads for
#: each call (about 0.3 ms), more than a query of fewer points gains from them.
THREADED_FROM = 4096


def workers(n_points: int) -> int:
    """scipy's ``workers`` for a query of ``n_points`` points (-1: one thread per core,
    about half the time on two cores from a few thousand points; 1 below). The answer
    does not depend on it."""
    return -1 if n_points >= THREADED_FROM else 1


@functools.cache
def tree_class() -> type:
    """scipy's cKDTree class, imported the first time it is asked for."""
    # What the compiled module imports beyond numpy is met by bare stand-ins too: its
    # ``import scipy.sparse`` (for sparse outputs, never asked for here; a later use
    # imports the real one) and ``from scipy._lib._util import copy_if_needed`` (numpy's
    # "copy only if needed": None from numpy 2, False before). The real ones import
    # scipy's array API layer, which imports numpy.testing and numpy.f2py: ~0.1 s of
    # every ``python -m matching solve``.
    if "scipy.spatial" not in sys.modules:
        import numpy as np

        stand_ins = {
            "scipy.spatial": {},
            "scipy.sparse": {},
            "scipy._lib._util": {
                "copy_if_needed": None if int(np.__version__.split(".")[0]) >= 2 else False
            },
        }
        placed: list[str] = []
        try:
            for name, attrs in stand_ins.items():
                if name in sys.modules:
                    continue
                spec = importlib.util.find_spec(name)
                if spec is None:
                    raise ImportError(name)
                module = importlib.util.module_from_spec(spec)
                vars(module).update(attrs)
                sys.modules[name] = module
                placed.append(name)
            from scipy.spatial._ckdtree import cKDTree as tree

            return tree
        except Exception:
            sys.modules.pop("scipy.spatial._ckdtree", None)
        finally:  # never leave a stand-in behind, whatever failed
            for name in placed:
                del sys.modules[name]
    from scipy.spatial import cKDTree as tree

    return tree


if TYPE_CHECKING:
    from scipy.spatial import cKDTree
else:

    def cKDTree(*args: Any, **kwargs: Any) -> Any:  # scipy's name
        return tree_class()(*args, **kwargs)
