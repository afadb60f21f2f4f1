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
    """A layer's polygons as parts that do not overlap, covering what their union covers.

    Overlapping features (two QPV sharing an edge strip, duplicated nuisance cells) would be
    counted twice by a plain sum of intersection areas; their union is not. Only the
    features whose interiors meet (and invalid ones) are united: a part that merely touches
    its neighbours, or stands alone, is kept as it is, which measures the same and spares
    uniting a whole region-wide layer when a few of its features overlap.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> layer = gpd.GeoSeries([box(0, 0, 2, 2), box(1, 1, 3, 3), box(3, 0, 4, 1)], crs=2154)
    >>> parts = dissolve_parts(layer)
    >>> len(parts), float(parts.area.sum())
    (2, 8.0)
    """
    if len(layer) == 0:
        return gpd.GeoSeries([], crs=layer.crs)
    return gpd.GeoSeries(_parts_of(np.asarray(layer.geometry.values)), crs=layer.crs)


#: inside :func:`unions_shared`: the parts computed, by the identity of their geometries
_UNIONS: list[dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]]] = []


@contextlib.contextmanager
def unions_shared() -> Iterator[None]:
    """Within this block, :func:`dissolve_parts` dissolves the same geometries only once.

    A table dissolves the same layer for several indicators (the QPV for their share of
    each zone and for the population living in them). Shapely geometries never change, so
    the same objects (kept alive by the block's cache) have the same parts; the block
    (one indicator table) bounds what is kept, and nothing is reused from one table to
    the next.
    """
    _UNIONS.append({})
    try:
        yield
    finally:
        _UNIONS.pop()


def _parts_of(geoms: np.ndarray) -> np.ndarray:
    """:func:`_disjoint_parts` of ``geoms``, once per block of :func:`unions_shared`."""
    if not _UNIONS:
        return _disjoint_parts(geoms)
    cache = _UNIONS[-1]
    key = tuple(map(id, geoms))
    hit = cache.get(key)
    if hit is not None:
        return hit[1]
    parts = _disjoint_parts(geoms)
    cache[key] = (geoms, parts)
    return parts


def _disjoint_parts(geoms: np.ndarray) -> np.ndarray:
    """Single parts of ``geoms``, those whose interiors meet (or that are invalid) united.

    Connected groups of parts with overlapping interiors (intersecting, not only touching)
    are each replaced by the parts of their union; invalid parts go through a union too,
    as they did when the whole layer was united (which kept only the polygons).
    """
    parts = shapely.get_parts(geoms)
    parts = parts[~shapely.is_empty(parts)]
    n = len(parts)
    if n == 0:
        return parts
    valid = shapely.is_valid(parts)
    a, b = shapely.STRtree(parts).query(parts, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    meet = ~(valid[a] & valid[b])  # an invalid part's neighbours go with it
    both = ~meet
    meet[both] = ~shapely.touches(parts[a[both]], parts[b[both]])
    a, b = a[meet], b[meet]
    root = np.arange(n)

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = int(root[i])
        return i

    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        ri, rj = find(i), find(j)
        if ri != rj:
            root[max(ri, rj)] = min(ri, rj)
    group = np.array([find(i) for i in range(n)]) if len(a) else root
    united = np.zeros(n, dtype=bool)
    united[a] = united[b] = True
    united |= ~valid
    out = [parts[~united]]
    for g in np.unique(group[united]):
        members = parts[group == g]
        # GEOS hands a lone geometry back as it is: an invalid one is united with itself
        merged = (
            shapely.union_all(members) if len(members) > 1 else shapely.union(*members, *members)
        )
        pieces = shapely.get_parts(merged)
        out.append(pieces[shapely.get_type_id(pieces) == 3])  # the polygons (no spike left)
    return np.concatenate(out)
