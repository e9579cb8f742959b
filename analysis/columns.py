"""Fast tests on text columns: pyarrow compute on the column's own buffers instead of Python loops.

pandas' ``isin`` on arrow-backed strings walks the values in Python (seconds per million rows), and
``astype(str)`` copies; these helpers keep a 5-million-row run within the benchmark's budget. A categorical
column (``load_run`` reads the few-valued text columns so, ``CATEGORICAL_COLUMNS``) is tested on its handful of
categories and the answer spread over its codes: one byte a row, never a string.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def _by_category(series: pd.Series, test: Callable[[pa.Array], pa.Array]) -> np.ndarray | None:
    """``test`` applied to the categories and spread over the codes (a missing value is False); None when the
    column is not categorical."""
    if not isinstance(series.dtype, pd.CategoricalDtype):
        return None
    categories = pa.array(series.cat.categories.astype(object), type=pa.large_string())
    answer = np.append(_mask(test(categories)) if len(categories) else np.zeros(0, dtype=bool), False)
    codes = series.cat.codes.to_numpy()
    return answer[np.where(codes >= 0, codes, answer.size - 1)]


def text_test(
    series: pd.Series, test: Callable[[pa.Array | pa.ChunkedArray], pa.Array | pa.ChunkedArray]
) -> np.ndarray:
    """``test`` (a pyarrow compute on a text array, giving booleans) per value, as numpy; nulls are False."""
    if len(series) == 0:
        return np.zeros(0, dtype=bool)
    fast = _by_category(series, test)
    return fast if fast is not None else _mask(test(as_arrow(series)))


def as_arrow(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    array = pa.array(series, from_pandas=True)
    return array.cast(pa.large_string()) if pa.types.is_dictionary(array.type) else array


def _mask(result: pa.Array | pa.ChunkedArray) -> np.ndarray:
    filled = pc.fill_null(result, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def text_map(
    series: pd.Series, compute: Callable[[pa.Array | pa.ChunkedArray], np.ndarray], missing: int
) -> np.ndarray:
    """``compute`` (a pyarrow text array → one integer per value) per row, as int64 numpy; a categorical column is
    computed on its categories and spread over the codes (a missing value gets ``compute`` of a null, so both paths
    agree; ``missing`` is used when the column has no categories)."""
    if not isinstance(series.dtype, pd.CategoricalDtype):
        return np.asarray(compute(as_arrow(series)), dtype="int64")
    values = pa.array([*series.cat.categories.astype(object), None], type=pa.large_string())
    answer = np.asarray(compute(values), dtype="int64") if len(values) > 1 else np.array([missing], dtype="int64")
    codes = series.cat.codes.to_numpy()
    return answer[np.where(codes >= 0, codes, answer.size - 1)]


def text_is(series: pd.Series, value: str) -> np.ndarray:
    """``series == value`` as a numpy bool array; nulls are False."""
    return text_test(series, lambda array: pc.equal(array, pa.scalar(value, type=array.type)))


def text_in(series: pd.Series, values: Iterable[str] | pd.Series) -> np.ndarray:
    """``series.isin(values)`` as a numpy bool array; nulls are False."""
    if len(series) == 0:
        return np.zeros(0, dtype=bool)
    value_set = as_arrow(values) if isinstance(values, pd.Series) else pa.array(list(values), type=pa.string())
    if isinstance(value_set, pa.ChunkedArray):
        value_set = value_set.combine_chunks()
    return text_test(series, lambda array: pc.is_in(array, value_set=value_set.cast(array.type)))


def text_present(series: pd.Series) -> np.ndarray:
    """Not null and not empty."""
    return text_test(series, lambda array: pc.greater(pc.utf8_length(array), 0))
