"""A layer dissolved for several indicators of one table is united once, and only there."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import box

from qmi_geo.diagnostics import _geom
from qmi_geo.diagnostics._geom import _union_of, dissolve_parts, unions_shared


def test_same_geometries_are_united_once_inside_a_table_only() -> None:
    layer = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 2), box(1, 1, 3, 3), box(5, 5, 6, 6)])
    geoms = np.asarray(layer.geometry.values)
    same_objects = np.asarray(layer[["geometry"]].copy().geometry.values)
    copies = np.array([shapely.from_wkb(shapely.to_wkb(g)) for g in geoms])
    assert _union_of(geoms) is not _union_of(geoms)  # no cache outside a table
    with unions_shared():
        first = _union_of(geoms)
        assert _union_of(geoms) is first
        assert _union_of(same_objects) is first  # another frame, the same geometries
        assert _union_of(copies) is not first  # equal but other objects: united again
        assert shapely.equals(_union_of(copies), first)
        plain = dissolve_parts(layer)
    assert not _geom._UNIONS  # nothing kept after the block
    assert len(plain) == 2 and plain.area.sum() == 8.0  # the overlap counted once
    assert shapely.equals(dissolve_parts(layer), plain).all()
