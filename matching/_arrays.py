"""Array types of the engine, with their dtypes spelled out.

The dtype is part of why the engine is exact: scores are integers below 2**24, exact
in float32 products, and packed sort keys need all 64 bits. An array of the wrong
dtype would still run and quietly round, so every signature says which one it takes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

Float32Array = NDArray[np.float32]
Int32Array = NDArray[np.int32]
Int64Array = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
IndexArray = NDArray[np.intp]
"""Positions into other arrays, in the integer type numpy's own index functions return."""

SignedArray = NDArray[np.signedinteger[Any]]
"""Signed integers of any width, for functions that widen their input themselves."""
