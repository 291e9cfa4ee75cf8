import numpy as np
from numpy.typing import NDArray

def assign_rows(
    n_col: int,
    indptr: NDArray[np.int64],
    indices: NDArray[np.intc],
    cost: NDArray[np.float64],
) -> tuple[NDArray[np.intp], NDArray[np.float64]]: ...
