import numpy as np
from numpy.typing import NDArray

def solve_transport(
    row_supply: NDArray[np.int64],
    row_order: NDArray[np.int64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    arc_w: NDArray[np.int64],
    arc_c: NDArray[np.int64],
    col_cap: NDArray[np.int64],
    col_tie: NDArray[np.int64],
    warm: tuple[
        NDArray[np.int64],
        NDArray[np.int64],
        NDArray[np.int64],
        NDArray[np.int64],
        NDArray[np.int64],
    ]
    | None = None,
    work_limit: int = -1,
) -> tuple[
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int64],
    dict[str, int],
]: ...
