"""Stable annotation ids and the ``signalements`` text, vectorised.

Ids are hashes of an annotation's content (:func:`pandas.util.hash_pandas_object` of the
content columns, then of the walk id): the same row imported again gets the same id.
Text columns are hashed once per distinct value, which gives the same values as hashing
every row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from qmi_geo.walks._distinct import STR_DTYPE, str_series

__all__ = [
    "combine_hashes",
    "finish_row_hashes",
    "flag_text",
    "hash_columns",
    "hex_ids",
    "start_row_hashes",
    "text_hashes",
    "value_hashes",
]


def combine_hashes(arrays: list[np.ndarray]) -> np.ndarray:
    """Row hashes of several column hashes, as :func:`pandas.util.hash_pandas_object` does.

    The algorithm (CPython's tuple hash) is copied here so that annotation ids do not
    depend on a pandas internal.
    """
    return finish_row_hashes(start_row_hashes(arrays, len(arrays)), [], len(arrays))


def _multiplier(done: int, num_items: int) -> np.uint64:
    """The tuple hash's multiplier after ``done`` of ``num_items`` columns."""
    mult = np.uint64(1000003)
    for i in range(done):
        inverse_i = num_items - i
        mult += np.uint64(82520 + inverse_i + inverse_i)
    return mult


def start_row_hashes(arrays: list[np.ndarray], num_items: int) -> np.ndarray:
    """The row hash of the first columns of ``num_items``, before the others are folded in.

    :func:`finish_row_hashes` with the remaining columns' hashes gives the same values as
    hashing all the columns at once; so a file's rows can be hashed as the file is read
    even when a later column (the shapes' WKB) is added only if another file has shapes.

    Examples
    --------
    >>> a, b, c = (np.arange(3, dtype=np.uint64) * np.uint64(k) for k in (7, 11, 13))
    >>> part = start_row_hashes([a, b], 3)
    >>> bool((finish_row_hashes(part, [c], 3) == combine_hashes([a, b, c])).all())
    True
    """
    n = len(arrays[0]) if arrays else 0
    out = np.full(n, 0x345678, dtype=np.uint64)
    for i, a in enumerate(arrays):
        out ^= a
        out *= _multiplier(i, num_items)
    return out


def finish_row_hashes(partial: np.ndarray, arrays: list[np.ndarray], num_items: int) -> np.ndarray:
    """Fold the last columns' hashes into :func:`start_row_hashes`' result (a new array)."""
    out = partial.copy()
    done = num_items - len(arrays)
    for i, a in enumerate(arrays, start=done):
        out ^= a
        out *= _multiplier(i, num_items)
    out += np.uint64(97531)
    return out


def text_hashes(texts: np.ndarray) -> np.ndarray:
    """The hash of each text, as :func:`hash_columns` hashes the values of a ``str`` column.

    Examples
    --------
    >>> col = pd.Series(["x", "y", "x"], dtype="str")
    >>> expected = pd.util.hash_pandas_object(col, index=False).to_numpy()
    >>> bool((text_hashes(np.array(["x", "y"], dtype=object))[[0, 1, 0]] == expected).all())
    True
    """
    return pd.util.hash_pandas_object(pd.Series(texts, dtype=STR_DTYPE), index=False).to_numpy()


def value_hashes(values: pd.Series | np.ndarray | pd.api.extensions.ExtensionArray) -> np.ndarray:
    """The hash of each value of a numeric, date or nullable-integer column."""
    return pd.util.hash_pandas_object(pd.Series(values, copy=False), index=False).to_numpy()


def hash_columns(columns: dict[str, pd.Series]) -> np.ndarray:
    """``hash_pandas_object(DataFrame(columns), index=False)``, text hashed once per value.

    Examples
    --------
    >>> cols = {"a": pd.Series(["x", "y", "x"], dtype="str"), "b": pd.Series([1.0, 2.0, 3.0])}
    >>> expected = pd.util.hash_pandas_object(pd.DataFrame(cols), index=False).to_numpy()
    >>> bool((hash_columns(cols) == expected).all())
    True
    """
    hashes = []
    for values in columns.values():
        if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
            codes, uniques = pd.factorize(values, use_na_sentinel=False)
            once = pd.util.hash_pandas_object(
                pd.Series(uniques, dtype=values.dtype), index=False
            ).to_numpy()
            hashes.append(once[codes])
        else:
            hashes.append(pd.util.hash_pandas_object(values, index=False).to_numpy())
    return combine_hashes(hashes)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def hex_ids(values: np.ndarray, index: pd.Index, prefix: str = "A-") -> pd.Series:
    """``prefix + "{:016x}".format(v)`` for every uint64, without a Python loop.

    Examples
    --------
    >>> hex_ids(np.array([255, 2**64 - 1], dtype=np.uint64), pd.RangeIndex(2)).tolist()
    ['A-00000000000000ff', 'A-ffffffffffffffff']
    """
    n, head = len(values), prefix.encode()
    width = len(head) + 16
    raw = np.ascontiguousarray(values, dtype=">u8").view(np.uint8).reshape(n, 8)
    chars = np.empty((n, width), dtype=np.uint8)
    chars[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    chars[:, len(head) :: 2] = _HEX[raw >> 4]
    chars[:, len(head) + 1 :: 2] = _HEX[raw & 15]
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes())
    )
    return pd.Series(pd.arrays.ArrowStringArray(array, dtype=STR_DTYPE), index=index)


def flag_text(flags: dict[str, np.ndarray], index: pd.Index) -> pd.Series:
    """``;``-joined names of the flags set on each row (built once per combination)."""
    bits = np.zeros(len(index), dtype=np.int64)
    names = list(flags)
    for k, name in enumerate(names):
        bits |= flags[name].astype(np.int64) << k
    # the combinations present, numbered in increasing order (a lookup table, not a sort)
    present = np.flatnonzero(np.bincount(bits, minlength=1)) if len(bits) else bits
    number = np.zeros(int(present[-1]) + 1 if len(present) else 1, dtype=np.intp)
    number[present] = np.arange(len(present))
    texts = np.array(
        [";".join(n for k, n in enumerate(names) if c >> k & 1) for c in present.tolist()],
        dtype=object,
    )
    return str_series(texts, number[bits], index)
