import numpy as np
from numpy.typing import NDArray

def solve_transport(
    row_supply: NDArray[np.int64],
    row_order: NDArray[np.int64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.integer],
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
def relabel(
    row_perm: NDArray[np.int64],
    col_new: NDArray[np.int64],
    arc_row: NDArray[np.int32],
    arc_col: NDArray[np.int32],
    cost: NDArray[np.int64],
    slack_ptr: NDArray[np.int64],
    slack_weight: NDArray[np.int64],
    n_cls: int,
) -> tuple[
    NDArray[np.int64],
    NDArray[np.int32],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int32],
]: ...
def duals_prove(
    indptr: NDArray[np.int64],
    indices: NDArray[np.integer],
    w: NDArray[np.int64],
    c: NDArray[np.int64],
    flow: NDArray[np.int64],
    aw: NDArray[np.int64],
    ac: NDArray[np.int64],
    bw: NDArray[np.int64],
    bc: NDArray[np.int64],
    col_cap: NDArray[np.int64],
) -> bool: ...
