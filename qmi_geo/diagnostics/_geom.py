"""Vectorised geometric helpers shared by the indicator modules.

Every helper takes a ``zones`` GeoDataFrame (the quarter, its IRIS, or many communes at once)
and a layer, finds the intersecting pairs with the layer's spatial index, and aggregates a
measure per zone. The result is a :class:`pandas.Series` aligned to ``zones.index``, so one
call serves a single quarter as well as the 131 communes of the Métropole.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo.errors import LayerError

__all__ = [
    "check_crs",
    "dissolve_parts",
    "intersection_measure",
    "pairs",
    "zone_area",
]


def check_crs(zones: gpd.GeoDataFrame, layer: gpd.GeoDataFrame | gpd.GeoSeries, kind: str) -> None:
    """Raise if ``layer`` is not in the CRS of ``zones`` or if ``zones`` is not projected.

    Parameters
    ----------
    zones, layer
        The zones and the layer to compare.
    kind
        Name of the layer kind, used in the message.

    Raises
    ------
    LayerError
        When the CRSs differ or the zones are in geographic coordinates.
    """
    if zones.crs is None or not zones.crs.is_projected:
        raise LayerError(
            f"Le périmètre doit être en coordonnées projetées (EPSG:2154), reçu : {zones.crs}. "
            "Reprojetez-le avec to_crs(2154)."
        )
    if layer.crs != zones.crs:
        raise LayerError(
            f"La couche « {kind} » est en {layer.crs}, le périmètre en {zones.crs} : "
            "reprojetez la couche en EPSG:2154 avant de calculer les indicateurs."
        )


def pairs(
    zones: gpd.GeoDataFrame, layer: gpd.GeoDataFrame | gpd.GeoSeries
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the (zone, feature) pairs that intersect, from the layer's spatial index.

    Returns
    -------
    tuple of numpy.ndarray
        Zone positions and layer positions (integer positions, not labels).
    """
    if len(zones) == 0 or len(layer) == 0:
        empty = np.array([], dtype=np.intp)
        return empty, empty
    zi, li = layer.sindex.query(zones.geometry.values, predicate="intersects")
    return zi, li


def intersection_measure(
    zones: gpd.GeoDataFrame,
    layer: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    measure: str = "area",
    weights: np.ndarray | pd.Series | None = None,
) -> pd.Series:
    """Sum per zone of the area (or length) of the layer's parts inside the zone.

    Parameters
    ----------
    zones
        Zones (polygons) in a projected CRS.
    layer
        Polygons (``measure="area"``) or lines (``measure="length"``) in the same CRS.
    measure
        ``"area"`` (m²) or ``"length"`` (m).
    weights
        Optional weight per layer feature (aligned by position); the measure of each part is
        multiplied by its feature's weight. NaN weights count as 0.

    Returns
    -------
    pandas.Series
        One float per zone, aligned to ``zones.index``; 0 where nothing intersects.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> zones = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=2154)
    >>> qpv = gpd.GeoDataFrame(geometry=[box(0, 0, 500, 1000)], crs=2154)
    >>> float(intersection_measure(zones, qpv).iloc[0])
    500000.0
    """
    zi, li = pairs(zones, layer)
    out = np.zeros(len(zones), dtype=float)
    if len(zi):
        parts = shapely.intersection(zones.geometry.values[zi], layer.geometry.values[li])
        values = shapely.area(parts) if measure == "area" else shapely.length(parts)
        if weights is not None:
            w = np.nan_to_num(np.asarray(weights, dtype=float)[li], nan=0.0)
            values = values * w
        np.add.at(out, zi, values)
    return pd.Series(out, index=zones.index, dtype=float)


def zone_area(zones: gpd.GeoDataFrame) -> pd.Series:
    """Area of each zone in m², aligned to ``zones.index``."""
    return pd.Series(zones.geometry.area.to_numpy(dtype=float), index=zones.index)


def dissolve_parts(layer: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoSeries:
    """Union of a layer's geometries, exploded into non-overlapping parts.

    Overlapping features (two QPV sharing an edge strip, duplicated nuisance cells) would be
    counted twice by a plain sum of intersection areas; their union is not.
    """
    if len(layer) == 0:
        return gpd.GeoSeries([], crs=layer.crs)
    merged = _union_of(np.asarray(layer.geometry.values))
    return gpd.GeoSeries([merged], crs=layer.crs).explode(ignore_index=True)


#: inside :func:`unions_shared`: the unions computed, by the identity of their geometries
_UNIONS: list[dict[tuple[int, ...], tuple[np.ndarray, shapely.Geometry]]] = []


@contextlib.contextmanager
def unions_shared() -> Iterator[None]:
    """Within this block, :func:`dissolve_parts` unites the same geometries only once.

    A table dissolves the same layer for several indicators (the QPV for their share of
    each zone and for the population living in them). Shapely geometries never change, so
    the same objects (kept alive by the block's cache) have the same union; the block
    (one indicator table) bounds what is kept, and nothing is reused from one table to
    the next.
    """
    _UNIONS.append({})
    try:
        yield
    finally:
        _UNIONS.pop()


def _union_of(geoms: np.ndarray) -> shapely.Geometry:
    """``shapely.union_all(geoms)``, once per block of :func:`unions_shared`."""
    if not _UNIONS:
        return shapely.union_all(geoms)
    cache = _UNIONS[-1]
    key = tuple(map(id, geoms))
    hit = cache.get(key)
    if hit is not None:
        return hit[1]
    merged = shapely.union_all(geoms)
    cache[key] = (geoms, merged)
    return merged
