"""Check walk coordinates (in France? swapped?) and project them to Lambert-93.

All checks are vectorised over the rows of a file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer

from qmi_geo.walks._threads import in_halves

__all__ = ["FRANCE_LAMBERT93", "FRANCE_LONLAT", "IDF_LONLAT", "Located", "locate"]

# (xmin, ymin, xmax, ymax)
FRANCE_LONLAT = (-5.5, 41.0, 10.0, 51.5)
IDF_LONLAT = (1.4, 48.1, 3.6, 49.3)
FRANCE_LAMBERT93 = (90_000.0, 6_000_000.0, 1_250_000.0, 7_150_000.0)
IDF_LAMBERT93 = (580_000.0, 6_770_000.0, 740_000.0, 6_900_000.0)

_TO_L93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)


def _inside(x: np.ndarray, y: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    return (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])


@dataclass
class Located:
    """Result of :func:`locate`."""

    x: np.ndarray  # Lambert-93 easting (NaN where rejected)
    y: np.ndarray  # Lambert-93 northing
    shapes: np.ndarray | None  # lines/zones in Lambert-93 (None for points)
    swapped: np.ndarray  # bool: coordinates were swapped and put back in order
    problem: np.ndarray  # object: "" or the French reason of rejection
    rejected: np.ndarray | None = None  # bool: where ``problem`` is not ""


def _swap_shapes(shapes: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = shapes.copy()
    todo = mask & ~shapely.is_missing(shapes)
    if todo.any():
        out[todo] = shapely.transform(shapes[todo], lambda c: c[:, ::-1])
    return out


def locate(
    x: np.ndarray, y: np.ndarray, *, crs: str | None, shapes: np.ndarray | None = None
) -> Located:
    """Validate coordinates and project them to Lambert-93.

    Parameters
    ----------
    x, y : numpy.ndarray
        Longitude/latitude or easting/northing as read (NaN when missing).
    crs : str or None
        ``"EPSG:4326"``, ``"EPSG:2154"``, or None to tell each row's system from its ranges.
    shapes : numpy.ndarray, optional
        Lines/zones for the rows that are not points, in the same system as ``x``/``y``.

    Returns
    -------
    Located
        A row is swapped when, read as given, it is not in Île-de-France but it is once
        swapped. A row that is in France neither as WGS84 longitude/latitude nor as
        Lambert-93, or in France outside Île-de-France's bounding box
        (:data:`IDF_LONLAT`, :data:`IDF_LAMBERT93`), gets a rejection reason.

    Examples
    --------
    >>> loc = locate(np.array([48.93, 2.49, -30.0]), np.array([2.49, 48.93, 45.0]), crs=None)
    >>> loc.swapped.tolist(), [p != "" for p in loc.problem]
    ([True, False, False], [False, False, True])
    >>> round(float(loc.x[1])), round(float(loc.y[1]))
    (662632, 6870123)
    """
    x = np.asarray(x, dtype="float64").copy()
    y = np.asarray(y, dtype="float64").copy()
    n = len(x)
    known = ~(np.isnan(x) | np.isnan(y))
    allow_ll = crs in (None, "EPSG:4326")
    allow_l93 = crs in (None, "EPSG:2154")
    zeros = np.zeros(n, dtype=bool)
    swapped = zeros.copy()
    if allow_ll:
        swapped |= ~_inside(x, y, IDF_LONLAT) & _inside(y, x, IDF_LONLAT)
    if allow_l93:
        swapped |= ~_inside(x, y, IDF_LAMBERT93) & _inside(y, x, IDF_LAMBERT93)
    swapped &= known
    x, y = np.where(swapped, y, x), np.where(swapped, x, y)
    is_ll = known & (_inside(x, y, FRANCE_LONLAT) if allow_ll else zeros)
    is_l93 = known & ~is_ll & (_inside(x, y, FRANCE_LAMBERT93) if allow_l93 else zeros)
    problem = np.full(n, "", dtype=object)
    outside = known & ~is_ll & ~is_l93
    if outside.any():
        problem[outside] = [
            f"coordonnées hors de France ({a:.6g} ; {b:.6g}) : corrigez la position "
            "(degrés décimaux en WGS84, ou X/Y en Lambert-93)"
            for a, b in zip(x[outside], y[outside], strict=True)
        ]
    # in France but not in Île-de-France (its bounding box): typed for another place
    away = (is_ll & ~_inside(x, y, IDF_LONLAT)) | (is_l93 & ~_inside(x, y, IDF_LAMBERT93))
    if away.any():
        problem[away] = [
            f"coordonnées hors d'Île-de-France ({a:.6g} ; {b:.6g}) : corrigez la position, "
            "ou importez ce fichier pour la commune où il a été saisi"
            for a, b in zip(x[away], y[away], strict=True)
        ]
        is_ll, is_l93 = is_ll & ~away, is_l93 & ~away
    ex, ey = np.full(n, np.nan), np.full(n, np.nan)
    if is_ll.any():
        ex[is_ll], ey[is_ll] = in_halves(_TO_L93.transform, x[is_ll], y[is_ll])
    ex[is_l93], ey[is_l93] = x[is_l93], y[is_l93]
    out_shapes = None
    if shapes is not None:
        out_shapes = _swap_shapes(np.asarray(shapes, dtype=object), swapped)
        lines = ~shapely.is_missing(out_shapes) & is_ll
        if lines.any():
            out_shapes[lines] = shapely.transform(
                out_shapes[lines], lambda c: np.column_stack(_TO_L93.transform(c[:, 0], c[:, 1]))
            )
        out_shapes[~(is_ll | is_l93)] = None
    return Located(ex, ey, out_shapes, swapped, problem, outside | away)
