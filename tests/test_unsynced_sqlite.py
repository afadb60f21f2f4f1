"""GeoPackages written without fsync are complete, and the GDAL option is restored."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point

from qmi_geo._atomic import unsynced_sqlite
from qmi_geo.pipeline import write_geopackage


def test_the_option_is_set_inside_and_restored_after() -> None:
    before = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    with pytest.raises(RuntimeError), unsynced_sqlite():
        assert pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS") is False  # "OFF"
        raise RuntimeError
    assert pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS") == before


def test_a_geopackage_written_unsynced_reads_back_whole(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"nom": [f"site {i}" for i in range(500)]},
        geometry=[Point(650_000 + i, 6_860_000) for i in range(500)],
        crs=2154,
    )
    path = write_geopackage({"a": gdf, "b": gdf.head(3)}, tmp_path / "d.gpkg")
    assert [n for n, _ in pyogrio.list_layers(path)] == ["a", "b"]
    back = gpd.read_file(path, layer="a")
    assert back["nom"].tolist() == gdf["nom"].tolist()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.gpkg"]  # no journal left
