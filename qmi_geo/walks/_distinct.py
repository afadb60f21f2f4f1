"""Work once per distinct value of a column, then spread the result back to every row.

Walk files repeat the same few themes, valences, intensities, authors and dates over
thousands of rows: matching or parsing each distinct text once and taking the results by
the rows' codes (:func:`pandas.factorize`) keeps a 100,000-row import fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["STR_DTYPE", "Distinct", "TextColumn", "distinct", "str_series", "text_of"]

# The dtype pandas gives to text columns (pyarrow-backed, NaN for missing values).
STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)


def text_of(values: pd.Series) -> pd.Series:
    """Values as stripped strings, empty for missing ones.

    Examples
    --------
    >>> text_of(pd.Series([" a ", None, 2.5])).tolist()
    ['a', '', '2.5']
    """
    if values.dtype.kind in "fiu":
        text = values.map(
            lambda v: "" if v != v else (f"{v:g}" if isinstance(v, float) else str(v))
        )
        return text.astype(str)
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        return values.fillna("").str.strip()
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


@dataclass
class Distinct:
    """The distinct values of a column as stripped text, and each row's code into them.

    ``text[codes]`` is :func:`text_of` of the column, row by row.
    """

    codes: np.ndarray  # int, one per row
    text: np.ndarray  # object array of str, one per distinct value
    index: pd.Index

    def __len__(self) -> int:
        return len(self.codes)

    def apply(self, func: Callable[[str], Any]) -> np.ndarray:
        """``func`` of every row's text, computed once per distinct text (object array)."""
        out = np.empty(len(self.text), dtype=object)
        out[:] = [func(t) for t in self.text]
        return out[self.codes]

    def rows(self, values: np.ndarray | None = None) -> np.ndarray:
        """Per-row values of a per-distinct-value array (default: the text)."""
        return (self.text if values is None else values)[self.codes]

    def series(self) -> pd.Series:
        """The rows' text as a pandas ``str`` Series (built with pyarrow, no Python loop)."""
        return str_series(self.text, self.codes, self.index)


def distinct(values: pd.Series) -> Distinct:
    """Factorize a column; missing values become the empty text.

    Examples
    --------
    >>> d = distinct(pd.Series(["a ", "b", None, "a "]))
    >>> d.text.tolist(), d.codes.tolist()
    (['a', 'b', ''], [0, 1, 2, 0])
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = text_of(pd.Series(uniques)).to_numpy(dtype=object)
    codes = np.asarray(codes, dtype=np.intp)
    missing = codes < 0
    if missing.any():
        text = np.append(text, "")
        codes = np.where(missing, len(text) - 1, codes)
    return Distinct(codes, text, values.index)


def str_series(texts: np.ndarray, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """A ``str`` Series whose row ``i`` is ``texts[codes[i]]``."""
    if len(texts) == 1:  # one text (the file's name, an absent column): no take
        return pd.Series(
            pd.arrays.ArrowStringArray(_repeated(str(texts[0]), len(codes)), dtype=STR_DTYPE),
            index=index,
        )
    table = pa.array(list(texts), type=pa.large_string())
    taken = table.take(pa.array(codes))  # the codes' own integer type, without a copy
    return pd.Series(pd.arrays.ArrowStringArray(taken, dtype=STR_DTYPE), index=index)


def _repeated(text: str, n: int) -> pa.LargeStringArray:
    """``n`` times the same text, built from its buffers (no per-row copy).

    Examples
    --------
    >>> _repeated("é", 3).to_pylist(), _repeated("", 2).to_pylist()
    (['é', 'é', 'é'], ['', ''])
    """
    data = text.encode("utf-8")
    offsets = np.arange(n + 1, dtype=np.int64) * len(data)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data * n))


@dataclass
class TextColumn:
    """A text column waiting to be built: its distinct texts and each row's code into them.

    The importer keeps its text columns so until the end, and builds them (pyarrow takes,
    which run without the GIL) while the geometries are made.

    Examples
    --------
    >>> a = TextColumn(np.array(["x", "y"], dtype=object), np.array([1, 0, 1]))
    >>> b = TextColumn.constant("z", 2)
    >>> both = TextColumn.concat([a, b])
    >>> both.series(pd.RangeIndex(5)).tolist(), both.at(3), both.rows(np.array([0, 4])).tolist()
    (['y', 'x', 'y', 'z', 'z'], 'z', ['y', 'z'])
    """

    texts: np.ndarray  # object array of str
    codes: np.ndarray  # int, one per row (int32: half the memory while it waits)

    def __post_init__(self) -> None:
        if self.codes.dtype != np.int32 and len(self.texts) < 2**31:
            self.codes = self.codes.astype(np.int32)

    @classmethod
    def constant(cls, text: str, n: int) -> TextColumn:
        """``n`` rows of the same text (codes allocated lazily by the system: all zeros)."""
        return cls(np.array([text], dtype=object), np.zeros(n, dtype=np.int32))

    def __len__(self) -> int:
        return len(self.codes)

    def rows(self, which: np.ndarray) -> np.ndarray:
        """The texts of some rows (a boolean mask or positions)."""
        return self.texts[self.codes[which]]

    def at(self, i: int) -> str:
        return str(self.texts[self.codes[i]])

    def series(self, index: pd.Index) -> pd.Series:
        return str_series(self.texts, self.codes, index)

    @staticmethod
    def concat(columns: list[TextColumn]) -> TextColumn:
        """The columns end to end."""
        if len(columns) == 1:
            return columns[0]
        texts = [c.texts for c in columns]
        if all(len(t) == 1 and t[0] == texts[0][0] for t in texts):
            return TextColumn.constant(str(texts[0][0]), sum(len(c) for c in columns))
        starts = np.cumsum([0] + [len(t) for t in texts[:-1]])
        return TextColumn(
            np.concatenate(texts),
            np.concatenate(
                [c.codes.astype(np.int64) + k for c, k in zip(columns, starts, strict=True)]
            ),
        )
