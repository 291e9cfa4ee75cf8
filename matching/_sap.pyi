import numpy as np
from numpy.typing import NDArray

def assign_rows(
    indptr: NDArray[np.int64],
    indices: NDArray[np.intc],
    cost: NDArray[np.float64],
    capacity: NDArray[np.intc],
) -> tuple[NDArray[np.intp], NDArray[np.float64]]: ...
