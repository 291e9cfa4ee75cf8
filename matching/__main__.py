"""Entry point for ``python -m matching``."""

import os
import sys


def _one_blas_thread() -> None:
    """numpy's OpenBLAS started on one thread, unless ``OPENBLAS_NUM_THREADS`` is set: the
    engine does no matrix products, and starting a thread per core (which spin a while)
    cost ~0.1 s CPU of every run on two cores (10 needs: 0.23 -> 0.13 s CPU, 0.16 ->
    0.13 s wall). Only this process, and only where numpy is not loaded yet."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


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


_one_blas_thread()
_no_hugepage_advice()

from .cli import main  # noqa: E402  (numpy is imported after the two settings above)

sys.exit(main())
