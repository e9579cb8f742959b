"""Fast tests on text columns: pyarrow compute on the column's own buffers instead of Python loops.

pandas' ``isin`` on arrow-backed strings walks the values in Python (seconds per million rows), and
``astype(str)`` copies; these helpers keep a 5-million-row run within the benchmark's budget.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def as_arrow(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    array = pa.array(series, from_pandas=True)
    return array.cast(pa.large_string()) if pa.types.is_dictionary(array.type) else array


def _mask(result: pa.Array | pa.ChunkedArray) -> np.ndarray:
    filled = pc.fill_null(result, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def text_is(series: pd.Series, value: str) -> np.ndarray:
    """``series == value`` as a numpy bool array; nulls are False."""
    if len(series) == 0:
        return np.zeros(0, dtype=bool)
    array = as_arrow(series)
    return _mask(pc.equal(array, pa.scalar(value, type=array.type)))


def text_in(series: pd.Series, values: Iterable[str] | pd.Series) -> np.ndarray:
    """``series.isin(values)`` as a numpy bool array; nulls are False."""
    if len(series) == 0:
        return np.zeros(0, dtype=bool)
    array = as_arrow(series)
    value_set = as_arrow(values) if isinstance(values, pd.Series) else pa.array(list(values), type=pa.string())
    if value_set.type != array.type:
        value_set = value_set.cast(array.type)
    if isinstance(value_set, pa.ChunkedArray):
        value_set = value_set.combine_chunks()
    return _mask(pc.is_in(array, value_set=value_set))


def text_present(series: pd.Series) -> np.ndarray:
    """Not null and not empty."""
    if len(series) == 0:
        return np.zeros(0, dtype=bool)
    array = as_arrow(series)
    return _mask(pc.greater(pc.utf8_length(array), 0))
