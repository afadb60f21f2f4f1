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

__all__ = ["flag_text", "hash_columns", "hex_ids"]


def _combine_hashes(arrays: list[np.ndarray]) -> np.ndarray:
    """Row hashes of several column hashes, as :func:`pandas.util.hash_pandas_object` does.

    The algorithm (CPython's tuple hash) is copied here so that annotation ids do not
    depend on a pandas internal.
    """
    num_items = len(arrays)
    mult = np.uint64(1000003)
    out = np.zeros_like(arrays[0]) + np.uint64(0x345678)
    for i, a in enumerate(arrays):
        inverse_i = num_items - i
        out ^= a
        out *= mult
        mult += np.uint64(82520 + inverse_i + inverse_i)
    out += np.uint64(97531)
    return out


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
    return _combine_hashes(hashes)


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
    combos, codes = np.unique(bits, return_inverse=True)
    texts = np.array(
        [";".join(n for k, n in enumerate(names) if c >> k & 1) for c in combos.tolist()],
        dtype=object,
    )
    return str_series(texts, codes.reshape(-1), index)
