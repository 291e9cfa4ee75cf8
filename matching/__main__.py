"""Entry point for ``python -m matching``."""

import os
import sys

from .cli import main


def _no_hugepage_advice() -> None:
    """This process's numpy arrays without numpy's transparent-huge-page advice, unless
    ``NUMPY_MADVISE_HUGEPAGE`` says otherwise. Where the kernel's THP ``defrag`` is
    ``madvise`` (its default), a page fault in an advised array may first compact
    memory: country 1M, four runs each, system time 11.6-12.8 -> 9.5-10.8 s, wall
    62-66 -> 57-60 s. Only this process (the engine in the app leaves numpy as it is)."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    import numpy as np

    core = getattr(np, "_core", None) or getattr(np, "core", None)  # numpy 2, numpy 1
    advise = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if advise is not None:
        advise(False)


_no_hugepage_advice()
sys.exit(main())
