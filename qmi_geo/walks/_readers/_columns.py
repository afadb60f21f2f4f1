"""Find the coordinate columns of a table, whatever the field tool called them.

Recognised, in this order of preference:

1. latitude / longitude columns (``lat``, ``latitude``, ``lon``, ``lng``, ``long``,
   ``longitude``, Kobo's ``_<field>_latitude`` / ``_<field>_longitude``, ODK Central's
   ``<field>-Latitude`` / ``<field>-Longitude``);
2. one column holding both, latitude first: a Kobo/ODK geopoint
   (``"48.93 2.49 0 5"``: latitude, longitude, altitude, accuracy), Kobo's
   ``_geolocation`` (``[48.93, 2.49]``) or a pasted ``"48.93, 2.49"``;
3. a WKT column (``wkt``, ``geometry``, ``geom``...);
4. X / Y columns (Lambert-93 or longitude / latitude, told apart by their ranges).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from qmi_geo.walks._readers._raw import (
    CoordinateText,
    arrow_strings,
    blank_mask,
    blank_where,
    parse_numbers,
    take_rows,
)
from qmi_geo.walks._themes import normalise_text
from qmi_geo.walks._threads import PARALLEL_ROWS

__all__ = ["CoordinateColumns", "column_key", "extract_coordinates", "find_coordinates"]

_LAT = {"lat", "latitude", "lat wgs84", "latitude wgs84", "gps latitude", "y wgs84", "lat dd"}
_LON = {
    "lon",
    "lng",
    "long",
    "longitude",
    "lon wgs84",
    "longitude wgs84",
    "gps longitude",
    "x wgs84",
    "lon dd",
    "lng dd",
}
_X = {
    "x",
    "coord x",
    "coordonnee x",
    "coordonnees x",
    "x l93",
    "x lambert93",
    "x lambert 93",
    "lambert x",
    "lambert93 x",
    "easting",
    "xcoord",
    "x coord",
    "est",
}
_Y = {
    "y",
    "coord y",
    "coordonnee y",
    "coordonnees y",
    "y l93",
    "y lambert93",
    "y lambert 93",
    "lambert y",
    "lambert93 y",
    "northing",
    "ycoord",
    "y coord",
    "nord",
}
_WKT = {"wkt", "geometry", "geometrie", "geom", "the geom", "wkt geom", "geometry wkt", "shape"}
_PAIR_NAMES = (
    "geolocation",
    "geopoint",
    "localisation",
    "position",
    "gps",
    "coordonnees",
    "coordinates",
    "location",
    "point",
    "lieu",
    "emplacement",
    "coords",
)

#: Reason of a row without coordinates (also used by the geographic readers).
EMPTY_COORDINATES = "coordonnées vides : renseignez latitude et longitude ou une colonne WKT"

_NUM = r"[-+]?\d+(?:[.,]\d+)?"
_GEOPOINT = re.compile(rf"^\s*({_NUM})\s+({_NUM})(?:\s+{_NUM}){{0,2}}\s*$")
_PAIR = re.compile(r"^\s*\[?\s*([-+]?\d+\.\d+)\s*[,;]\s*([-+]?\d+\.\d+)\s*\]?\s*$")
_WKT_START = re.compile(r"^\s*(SRID=\d+;\s*)?(MULTI)?(POINT|LINESTRING|POLYGON)", re.I)


def column_key(name: object) -> str:
    """Normalised key of a column name: last Kobo group segment, no accents, lower case.

    Examples
    --------
    >>> column_key("groupe_lieu/Thème")
    'theme'
    >>> column_key("_position_latitude")
    'position latitude'
    """
    return normalise_text(str(name).rsplit("/", 1)[-1])


@dataclass(frozen=True)
class CoordinateColumns:
    """How the coordinates of a table are stored."""

    kind: str  # "latlon", "pair", "wkt", "xy"
    columns: tuple[str, ...]
    description: str


def _sample(values: pd.Series, n: int = 200) -> pd.Series:
    for size in (4 * n, len(values)):  # the head of the column is nearly always enough
        text = values.head(size).dropna().astype(str).str.strip()
        text = text[text != ""]
        if len(text) >= n or size >= len(values):
            break
    return text.head(n)


def _share(values: pd.Series, pattern: re.Pattern[str]) -> float:
    sample = _sample(values)
    if sample.empty:
        return 0.0
    return float(sample.str.match(pattern).mean())


def find_coordinates(table: pd.DataFrame) -> CoordinateColumns | None:
    """Find which columns of ``table`` hold the coordinates.

    Returns
    -------
    CoordinateColumns or None
        None when no column looks like coordinates.
    """
    keys = {col: column_key(col) for col in table.columns}
    lat = [c for c, k in keys.items() if k in _LAT or k.endswith((" latitude", " lat"))]
    lon = [c for c, k in keys.items() if k in _LON or k.endswith((" longitude", " lon", " lng"))]
    if lat and lon:
        return CoordinateColumns(
            "latlon", (lat[0], lon[0]), f"latitude « {lat[0]} », longitude « {lon[0]} »"
        )
    named = [c for c, k in keys.items() if any(p in k.split() for p in _PAIR_NAMES)]
    xs = [c for c, k in keys.items() if k in _X]
    ys = [c for c, k in keys.items() if k in _Y]
    others = [c for c in table.columns if c not in named and c not in xs and c not in ys]

    def pair_in(columns: list[str]) -> CoordinateColumns | None:
        for col in columns:
            if table[col].dtype.kind in "fiubM":
                continue
            if _share(table[col], _GEOPOINT) >= 0.5 or _share(table[col], _PAIR) >= 0.5:
                return CoordinateColumns(
                    "pair", (col,), f"point GPS « {col} » (latitude puis longitude)"
                )
        return None

    def wkt_in(columns: list[str], *, by_name: bool) -> CoordinateColumns | None:
        for col in columns:
            if (by_name and keys[col] in _WKT) or (
                not by_name
                and table[col].dtype.kind not in "fiubM"
                and _share(table[col], _WKT_START) >= 0.5
            ):
                return CoordinateColumns("wkt", (col,), f"géométrie WKT « {col} »")
        return None

    found = pair_in(named) or wkt_in(list(table.columns), by_name=True)
    if found is not None:
        return found
    if xs and ys:
        return CoordinateColumns("xy", (xs[0], ys[0]), f"X « {xs[0]} », Y « {ys[0]} »")
    return pair_in(others) or wkt_in(others, by_name=False)


def extract_coordinates(
    table: pd.DataFrame, found: CoordinateColumns
) -> tuple[np.ndarray, np.ndarray, CoordinateText, pd.Series, np.ndarray | None]:
    """Read x (longitude or easting) and y (latitude or northing) from the found columns.

    Returns
    -------
    x, y : numpy.ndarray
        Floats, NaN where missing or unreadable.
    text : pandas.Series or callable
        The coordinates as written (for two columns, a function of row numbers that
        writes them: only the rejected rows' are ever needed).
    problem : pandas.Series
        Empty string, or why the coordinates of a row cannot be read (French).
    shapes : numpy.ndarray or None
        Non-point WKT geometries (None elsewhere), only for a WKT column.
    """
    n = len(table)
    problem = np.full(n, "", dtype=object)
    shapes: np.ndarray | None = None
    if found.kind in ("latlon", "xy"):
        first, second = (table[c] for c in found.columns)
        if n >= PARALLEL_ROWS:  # pyarrow's kernels run without the GIL: one column each
            with ThreadPoolExecutor(1) as pool:
                other = pool.submit(parse_numbers, second)
                a, bad_a = parse_numbers(first)
                b, bad_b = other.result()
        else:
            a, bad_a = parse_numbers(first)
            b, bad_b = parse_numbers(second)
        if found.kind == "latlon":
            y, x = a, b
        else:
            x, y = a, b

        # as written, for the rejects file: built only for the rows rejected
        def as_written(rows: np.ndarray) -> np.ndarray:
            pair = take_rows(table[list(found.columns)], rows)
            return _joined(pair.iloc[:, 0], pair.iloc[:, 1]).to_numpy(dtype=object)

        text: CoordinateText = as_written
        empty = blank_mask(first) | blank_mask(second)
        problem[bad_a | bad_b] = (
            "coordonnées illisibles (pas des nombres) : écrivez des degrés décimaux (48,9322) "
            "ou en degrés, minutes, secondes (48°55'56\"N)"
        )
        problem[empty] = EMPTY_COORDINATES
    elif found.kind == "pair":
        col = table[found.columns[0]]
        text = _as_text(col)
        parts = text.str.extract(_GEOPOINT)
        pair = text.str.extract(_PAIR)
        lat_t = parts[0].fillna(pair[0])
        lon_t = parts[1].fillna(pair[1])
        y, _ = parse_numbers(lat_t)
        x, _ = parse_numbers(lon_t)
        empty = blank_mask(col)
        problem[np.isnan(x) | np.isnan(y)] = (
            "coordonnées illisibles (attendu « latitude longitude ») : écrivez par exemple "
            "« 48.9322 2.4955 »"
        )
        problem[empty] = EMPTY_COORDINATES
    else:
        col = table[found.columns[0]]
        text = _as_text(col)
        cleaned = text.str.replace(r"^\s*SRID=\d+;\s*", "", regex=True)
        geoms = shapely.from_wkt(
            cleaned.where(cleaned.str.strip() != "", None).to_numpy(), on_invalid="ignore"
        )
        empty = blank_mask(col)
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        problem[missing] = "géométrie WKT illisible : écrivez par exemple POINT (2.4955 48.9322)"
        problem[empty] = EMPTY_COORDINATES
        geoms = shapely.force_2d(geoms)
        is_point = shapely.get_type_id(geoms) == 0
        rep = shapely.point_on_surface(geoms)
        x, y = shapely.get_x(rep), shapely.get_y(rep)
        x = np.where(missing, np.nan, x)
        y = np.where(missing, np.nan, y)
        shapes = blank_where(is_point | missing, geoms)
    problem_s = pd.Series(problem, index=table.index, dtype=object)  # str values
    return np.asarray(x, float), np.asarray(y, float), text, problem_s, shapes


def _as_text(values: pd.Series) -> pd.Series:
    if arrow_strings(values) is not None:
        return values.fillna("")
    return values.astype(object).where(values.notna(), "").astype(str)


def _joined(first: pd.Series, second: pd.Series) -> pd.Series:
    """« first ; second » as written, for the rejects file."""
    a, b = arrow_strings(first), arrow_strings(second)
    if a is not None and b is not None:
        b = b.cast(a.type)
        joined = pc.binary_join_element_wise(
            pc.fill_null(a, ""), pc.fill_null(b, ""), pa.scalar(" ; ", a.type)
        )
        dtype = pd.StringDtype("pyarrow", na_value=np.nan)
        return pd.Series(pd.arrays.ArrowStringArray(joined, dtype=dtype), index=first.index)
    return _as_text(first) + " ; " + _as_text(second)
