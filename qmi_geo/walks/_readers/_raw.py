"""The raw content of one walk file, as every reader returns it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "CoordinateText",
    "RawWalk",
    "arrow_strings",
    "blank_mask",
    "blank_where",
    "parse_numbers",
]


#: Coordinates as written: one text per row, or a function of row numbers giving theirs.
CoordinateText: TypeAlias = "pd.Series | Callable[[np.ndarray], np.ndarray]"


@dataclass
class RawWalk:
    """What a walk file holds, before validation.

    Attributes
    ----------
    path : pathlib.Path
        The file read.
    format : str
        ``"csv"``, ``"xlsx"``, ``"geojson"``, ``"kml"``, ``"gpx"``, ``"gpkg"``...
    table : pandas.DataFrame
        The attribute columns as read (one row per record, positional index).
    lines : numpy.ndarray
        For each row, its number in the source as a user sees it (spreadsheet row, header
        being row 1; feature, placemark or waypoint number for geographic formats).
    x, y : numpy.ndarray
        Longitude / latitude, or easting / northing (float, NaN when missing). For lines
        and zones, a point on the shape (used for the checks).
    crs : str or None
        ``"EPSG:4326"``, ``"EPSG:2154"`` or ``None`` when the file does not say (then
        guessed per row from the coordinate ranges).
    coord_text : pandas.Series or callable
        The coordinates as written in the file, for the rejects file; or a function that
        writes them for the given row numbers (see :meth:`coordinates_as_written`).
    coord_problem : pandas.Series
        Empty string, or the French reason why the coordinates of a row cannot be read.
    shapes : numpy.ndarray or None
        Shapely geometries for rows that are lines or zones (None for points), in ``crs``.
    route : geopandas.GeoDataFrame or None
        The walk's track(s) (LineStrings), if the file has any.
    title_columns : list of str
        Columns holding a title (``name`` in uMap, KML, GPX) or a layer/folder name, tried
        in order as the theme when there is no theme column.
    messages : list of str
        French notes about how the file was read (encoding, separator, columns used).
    """

    path: Path
    format: str
    table: pd.DataFrame
    lines: np.ndarray
    x: np.ndarray
    y: np.ndarray
    crs: str | None
    coord_text: CoordinateText
    coord_problem: pd.Series
    shapes: np.ndarray | None = None
    route: gpd.GeoDataFrame | None = None
    title_columns: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.table)

    def coordinates_as_written(self, rows: np.ndarray) -> np.ndarray:
        """The coordinates of the given rows (positions) as written in the file."""
        if callable(self.coord_text):
            return self.coord_text(rows)
        return self.coord_text.to_numpy(dtype=object)[rows]


def parse_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    r"""Parse numbers written the French or the English way.

    Spaces (thousands separators, also non-breaking) are removed and a decimal comma
    becomes a point. Degrees with a degree sign are read too, as GPS apps and
    Wikipedia write them: degrees-minutes-seconds (``48°47'24"N``, ``2°13'5"E``),
    degrees and decimal minutes (``48°47,4'N``) and decimal degrees (``48.7800°``);
    S, W and the French O (ouest) make the value negative.

    Parameters
    ----------
    values : pandas.Series
        Numbers or strings.

    Returns
    -------
    numbers : numpy.ndarray
        Floats, NaN where empty or unreadable.
    unreadable : numpy.ndarray
        Boolean, True where something was written but is not a number.

    Examples
    --------
    >>> n, bad = parse_numbers(pd.Series(["48,9312", " 658 123,5 ", "", "abc", 2.5]))
    >>> n.tolist()[:2], bad.tolist()
    ([48.9312, 658123.5], [False, False, False, True, False])
    >>> n, bad = parse_numbers(pd.Series(["48°47'24\"N", "48.7800°", "2°13'5\"O", "1°2'3\"W"]))
    >>> [round(float(v), 6) for v in n], bad.tolist()
    ([48.79, 48.78, -2.218056, -1.034167], [False, False, False, False])
    """
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
        return numbers, np.zeros(len(values), dtype=bool)
    arrow = arrow_strings(values)
    if arrow is not None:  # fast path: every value is empty or a plain number
        given = pc.fill_null(pc.not_equal(arrow, ""), False)
        dotted = pc.replace_substring(arrow, ",", ".")
        try:
            parsed = pc.cast(pc.if_else(given, dotted, None), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # spaces, words...: the general path below says which rows
        else:
            numbers = parsed.to_numpy(zero_copy_only=False).astype("float64", copy=False)
            return numbers, np.zeros(len(values), dtype=bool)
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        text = values.fillna("")
    else:
        text = values.astype(object).where(values.notna(), "").astype(str).astype("str")
    if text.str.contains(r"[\s\u00a0\u202f]", regex=True).any():
        text = text.str.replace(r"[\s\u00a0\u202f]", "", regex=True)
    text = text.str.replace(",", ".", regex=False)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", copy=True)
    unreadable = (text != "").to_numpy() & np.isnan(numbers)
    if unreadable.any():
        todo = np.flatnonzero(unreadable)
        degrees = _degrees(text.iloc[todo])
        ok = ~np.isnan(degrees)
        numbers[todo[ok]] = degrees[ok]
        unreadable[todo[ok]] = False
    return numbers, unreadable


# 48°47'24"N, 48°47,4'N, 48.78°, N48°47'24", 2°13'5"O (spaces already removed, "," -> ".")
_DEGREES = re.compile(
    r"^(?P<h1>[NSEWO])?(?P<sign>[-+])?(?P<d>\d+(?:\.\d+)?)(?:°|º|deg)"
    r"(?:(?P<m>\d+(?:\.\d+)?)(?:'|′|’|min))?"
    r"(?:(?P<s>\d+(?:\.\d+)?)(?:\"|″|”|''|’’|sec))?"
    r"(?P<h2>[NSEWO])?$",
    re.IGNORECASE,
)


def _degrees(text: pd.Series) -> np.ndarray:
    """Decimal degrees of texts written with a degree sign; NaN where not such a text."""
    parts = text.astype(str).str.extract(_DEGREES)
    d = pd.to_numeric(parts["d"], errors="coerce").to_numpy(dtype="float64")
    m = pd.to_numeric(parts["m"], errors="coerce").fillna(0).to_numpy(dtype="float64")
    sec = pd.to_numeric(parts["s"], errors="coerce").fillna(0).to_numpy(dtype="float64")
    value = d + m / 60 + sec / 3600
    hemisphere = parts["h1"].fillna(parts["h2"]).fillna("").str.upper().to_numpy(dtype=object)
    negative = np.isin(hemisphere, ["S", "W", "O"]) | (parts["sign"] == "-").to_numpy()
    valid = (m < 60) & (sec < 60) & ~(parts["h1"].notna() & parts["h2"].notna()).to_numpy()
    return np.where(valid, np.where(negative, -value, value), np.nan)


def arrow_strings(values: pd.Series) -> pa.ChunkedArray | None:
    """The pyarrow array behind a pyarrow-backed string Series (zero copy), else None."""
    array = values.array
    if isinstance(array, pd.arrays.ArrowStringArray):
        out = array.__arrow_array__()
        return out if isinstance(out, pa.ChunkedArray) else pa.chunked_array([out])
    return None


def blank_mask(values: pd.Series) -> np.ndarray:
    """Boolean array, True where a value is missing or only spaces.

    Examples
    --------
    >>> blank_mask(pd.Series(["a", " ", None, ""], dtype="str")).tolist()
    [False, True, True, True]
    >>> blank_mask(pd.Series([1.0, None, " x "], dtype=object)).tolist()
    [False, True, False]
    """
    arrow = arrow_strings(values)
    if arrow is not None:
        # empty, or only white space (as utf8_trim_whitespace sees it, without new strings)
        blank = pc.fill_null(
            pc.or_(pc.equal(pc.binary_length(arrow), 0), pc.utf8_is_space(arrow)), True
        )
        return blank.to_numpy(zero_copy_only=False).astype(bool, copy=False)
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    return (text == "").to_numpy(dtype=bool)


def blank_where(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Copy of an object array with None where ``mask`` is True."""
    out = np.asarray(values, dtype=object).copy()
    out[np.asarray(mask, dtype=bool)] = None
    return out


def take_rows(table: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """``table.iloc[rows]`` for a few rows of a large table read by pyarrow.

    A pyarrow-backed column is a chunked array, which ``iloc`` first joins into one
    array (a copy of the whole column); here each chunk gives its own rows.

    Examples
    --------
    >>> import pyarrow as pa
    >>> arrow = pa.chunked_array([["a", "b"], ["c"], ["d", "e"]], type=pa.large_string())
    >>> dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    >>> t = pd.DataFrame({"s": pd.arrays.ArrowStringArray(arrow, dtype=dtype), "n": range(5)})
    >>> got = take_rows(t, np.array([1, 2, 4]))
    >>> got["s"].tolist(), got["n"].tolist(), got.index.tolist(), got.dtypes.equals(t.dtypes)
    (['b', 'c', 'e'], [1, 2, 4], [1, 2, 4], True)
    """
    rows = np.asarray(rows, dtype=np.int64)
    columns = {}
    for name in table.columns:
        arrow = arrow_strings(table[name])
        if arrow is None or arrow.num_chunks < 2 or not np.all(np.diff(rows) > 0):
            columns[name] = table[name].iloc[rows]
            continue
        ends = np.cumsum([len(c) for c in arrow.chunks])
        which = np.searchsorted(ends, rows, side="right")
        parts = []
        for k in np.unique(which).tolist():
            local = rows[which == k] - (ends[k] - len(arrow.chunk(k)))
            parts.append(arrow.chunk(k).take(pa.array(local)))
        taken = pa.chunked_array(parts, type=arrow.type)
        columns[name] = pd.Series(
            pd.arrays.ArrowStringArray(taken, dtype=table[name].dtype), index=table.index[rows]
        )
    return pd.DataFrame(columns, index=table.index[rows], columns=table.columns)
