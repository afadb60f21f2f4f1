"""Dissolved layers: parts that do not overlap, computed once per table and only there."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from qmi_geo.diagnostics import _geom
from qmi_geo.diagnostics._geom import _parts_of, dissolve_parts, unions_shared


def test_same_geometries_are_dissolved_once_inside_a_table_only() -> None:
    layer = gpd.GeoDataFrame(geometry=[box(0, 0, 2, 2), box(1, 1, 3, 3), box(5, 5, 6, 6)])
    geoms = np.asarray(layer.geometry.values)
    same_objects = np.asarray(layer[["geometry"]].copy().geometry.values)
    copies = np.array([shapely.from_wkb(shapely.to_wkb(g)) for g in geoms])
    assert _parts_of(geoms) is not _parts_of(geoms)  # no cache outside a table
    with unions_shared():
        first = _parts_of(geoms)
        assert _parts_of(geoms) is first
        assert _parts_of(same_objects) is first  # another frame, the same geometries
        assert _parts_of(copies) is not first  # equal but other objects: dissolved again
        assert shapely.equals(shapely.union_all(_parts_of(copies)), shapely.union_all(first))
        plain = dissolve_parts(layer)
    assert not _geom._UNIONS  # nothing kept after the block
    assert len(plain) == 2 and plain.area.sum() == 8.0  # the overlap counted once
    assert shapely.equals(dissolve_parts(layer), plain).all()


#: a square with a spike out and back along one edge: invalid, and GEOS unites it
SPIKE = Polygon([(20, 0), (22, 0), (22, 1), (23, 1), (22, 1), (22, 2), (20, 2)])


@pytest.mark.parametrize(
    "geoms",
    [
        # overlapping chain (a–b, b–c overlap; a, c do not), a part touching it, a lone one
        [box(0, 0, 2, 2), box(1, 1, 3, 3), box(2.5, 2.5, 4, 4), box(4, 0, 5, 4), box(9, 9, 10, 10)],
        # one inside another, a grid of cells sharing edges, a duplicated cell
        [
            box(0, 0, 10, 10),
            box(2, 2, 3, 3),
            *[box(x, 20, x + 1, 21) for x in range(5)],
            box(2, 20, 3, 21),
        ],
        # a multipolygon whose second part overlaps a neighbour, and an invalid spiked square
        [MultiPolygon([box(0, 0, 1, 1), box(5, 0, 6, 1)]), box(5.5, 0.5, 7, 2), SPIKE],
    ],
    ids=["chain-and-touching", "inside-grid-duplicate", "multipart-invalid"],
)
def test_parts_cover_what_the_union_covers_without_overlapping(geoms) -> None:
    """The parts measure what the layer's union measures, inside any zone, and no two of
    them overlap: the area a zone gets from them is the union's, whatever was united."""
    layer = gpd.GeoSeries(geoms, crs=2154)
    parts = dissolve_parts(layer)
    union = shapely.union_all(layer.values)
    assert parts.area.sum() == pytest.approx(union.area, rel=1e-12)
    assert shapely.equals(shapely.union_all(parts.values), union)
    a, b = shapely.STRtree(parts.values).query(parts.values, predicate="intersects")
    a, b = a[a < b], b[a < b]
    assert shapely.area(shapely.intersection(parts.values[a], parts.values[b])).max(
        initial=0.0
    ) == pytest.approx(0.0, abs=1e-12)
    zones = gpd.GeoDataFrame(geometry=[box(0.5, 0.5, 5.5, 21.5), box(-50, -50, 50, 50)], crs=2154)
    via_parts = _geom.intersection_measure(zones, parts)
    via_union = _geom.intersection_measure(zones, gpd.GeoSeries([union], crs=2154))
    assert np.allclose(via_parts.to_numpy(), via_union.to_numpy(), rtol=1e-12)
    assert shapely.is_valid(parts.values).all()


def test_only_parts_whose_interiors_meet_are_united() -> None:
    """Touching cells stay as they are (a region-wide grid is not united); the two that
    overlap become one part; the lone one is kept as it is."""
    lone = box(50, 50, 51, 51)
    cells = [box(x, 0, x + 1, 1) for x in range(4)]
    layer = gpd.GeoSeries([*cells, box(10, 0, 12, 2), box(11, 1, 13, 3), lone], crs=2154)
    parts = dissolve_parts(layer)
    assert len(parts) == 4 + 1 + 1
    assert shapely.equals(parts.values, lone).sum() == 1
    assert sorted(shapely.area(parts.values).round(9)) == [1.0] * 5 + [7.0]
