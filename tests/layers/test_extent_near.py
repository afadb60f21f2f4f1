"""A quarter's coverage is computed from the outlines near it, with the same result."""

from __future__ import annotations

import pytest
import shapely

from qmi_geo.layers.catalogue import load_catalogue, load_tables
from qmi_geo.layers.extent import extent_geometry, quarter_share
from qmi_geo.pipeline import perimeter_for
from qmi_geo.spec import load_spec


def _share_from_whole_extent(geom: shapely.Geometry, quarter: shapely.Geometry) -> float:
    """The share computed on the whole declared extent (the region-wide union)."""
    if geom.contains(quarter):
        return 1.0
    near = shapely.clip_by_rect(geom, *quarter.buffer(10).bounds)
    return min(1.0, float(shapely.intersection(quarter, near).area / quarter.area))


@pytest.mark.parametrize(
    "insee",
    [
        "92025",  # Colombes: 1 km beyond the QMI communes, Val-d'Oise sources partly
        "92048",  # Meudon, a pilot
        "75056",  # Paris: partly inside the 1 km band of the QMI communes
        "93005",  # Aulnay-sous-Bois, a pilot
    ],
)
def test_share_near_the_quarter_equals_share_of_the_whole_extent(insee: str) -> None:
    quarter = perimeter_for(load_spec(insee)).geometry.iloc[0]
    partial = 0
    for src in {**load_catalogue(), **load_tables()}.values():
        geom = extent_geometry(src)
        assert geom is not None, src.name
        expected = _share_from_whole_extent(geom, quarter)
        assert quarter_share(src, quarter) == expected, (insee, src.name)
        partial += 0 < expected < 1
    if insee in ("92025", "75056"):
        assert partial >= 3  # the comparison covers partly covered quarters, not only 0 and 1
