"""Turn Lambert-93 GeoDataFrames into compact WGS84 GeoJSON for the web page.

Display only: polygons are simplified in metres *before* reprojection, coordinates are rounded
to 6 decimals (≈ 0.1 m) and properties are cut to the columns a popup shows. Nothing here
changes the analysis data.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo.maps._escape import escape_text

__all__ = ["json_value", "to_wgs84", "web_features"]

PRECISION = 6


def json_value(value: Any) -> Any:
    """Return a JSON-friendly version of a cell value (NaN/NaT to ``None``).

    Examples
    --------
    >>> json_value(float("nan")), json_value(np.int64(3)), json_value(dt.date(2024, 5, 2))
    (None, 3, '2024-05-02')
    """
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, (dt.datetime, dt.date)):
        try:
            return value.isoformat()
        except ValueError:  # NaT
            return None
    try:
        if value is pd.NaT or (not isinstance(value, (str, bytes)) and pd.isna(value)):
            return None
    except (TypeError, ValueError):
        pass
    return value if isinstance(value, (str, int)) else str(value)


def to_wgs84(gdf: gpd.GeoDataFrame, *, simplify_m: float | None = None) -> gpd.GeoDataFrame:
    """Simplify (in metres) then reproject to EPSG:4326 with coordinates rounded to 6 decimals.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        A layer with a CRS (Lambert-93 in the pipeline).
    simplify_m : float, optional
        Douglas-Peucker tolerance in metres, applied to lines and polygons only.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy in EPSG:4326, empty geometries dropped.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(652000.123, 6862000.456)], crs=2154)
    >>> x, y = to_wgs84(g).geometry.iloc[0].coords[0]
    >>> len(repr(x).split(".")[1]) <= 6
    True
    """
    if gdf.crs is None:
        raise ValueError("layer has no CRS; cannot reproject it for the web map")
    out = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)].copy()
    geoms = out.geometry.values
    if simplify_m:
        if out.crs is not None and not out.crs.is_projected:
            out = out.to_crs(2154)
            geoms = out.geometry.values
        kinds = shapely.get_type_id(geoms)
        linear = kinds >= 1  # everything but points
        simplified = np.asarray(geoms, dtype=object).copy()
        simplified[linear] = shapely.simplify(
            np.asarray(geoms)[linear], simplify_m, preserve_topology=True
        )
        out = out.set_geometry(gpd.GeoSeries(simplified, index=out.index, crs=out.crs))
    out = out.to_crs(4326)
    rounded = shapely.transform(np.asarray(out.geometry.values), lambda c: np.round(c, PRECISION))
    return out.set_geometry(gpd.GeoSeries(rounded, index=out.index, crs=4326))


def web_features(
    gdf: gpd.GeoDataFrame,
    columns: Iterable[str] = (),
    *,
    simplify_m: float | None = None,
    escape: bool = True,
) -> dict[str, Any]:
    """Return a GeoJSON FeatureCollection (EPSG:4326) of ``gdf`` for the page.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer.
    columns : iterable of str
        Properties to keep (missing ones are skipped).
    simplify_m : float, optional
        Display simplification tolerance in metres.
    escape : bool
        HTML-escape string properties (for popups that folium fills with ``innerHTML``).

    Returns
    -------
    dict
        A FeatureCollection.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame({"nom": ["<b>x</b>"]}, geometry=[Point(652000, 6862000)], crs=2154)
    >>> web_features(g, ["nom"])["features"][0]["properties"]
    {'nom': '&lt;b&gt;x&lt;/b&gt;'}
    """
    geometry = gdf.geometry.name
    keep = [c for c in columns if c in gdf.columns and c != geometry]
    # only the properties shown are copied and reprojected with the geometries
    wgs = to_wgs84(gdf[[*dict.fromkeys(keep), geometry]], simplify_m=simplify_m)
    features = []
    geo = shapely.to_geojson(np.asarray(wgs.geometry.values))
    records = wgs[keep].to_dict("records") if keep else [{} for _ in range(len(wgs))]
    for i, (geom_text, rec) in enumerate(zip(geo, records, strict=True)):
        props = {}
        for key, value in rec.items():
            v = json_value(value)
            props[key] = escape_text(v) if escape and isinstance(v, str) else v
        features.append(
            {"type": "Feature", "id": i, "geometry": json.loads(geom_text), "properties": props}
        )
    return {"type": "FeatureCollection", "features": features}
