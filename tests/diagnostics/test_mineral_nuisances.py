"""Sealed surfaces (zones with a rate, sealed polygons, a real GeoTIFF) and nuisances."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import box

from qmi_geo.diagnostics import compute_indicators
from qmi_geo.diagnostics.mineral import (
    raster_imperviousness,
    sealed_coverage,
    sealed_share,
)
from qmi_geo.diagnostics.nuisances import black_spot_share, nuisance_share
from qmi_geo.errors import LayerError

KM2 = box(0, 0, 1000, 1000)


def z(*geoms):
    return gpd.GeoDataFrame(geometry=list(geoms), crs=2154)


def test_rated_zones_are_area_weighted_over_the_covered_part():
    rated = gpd.GeoDataFrame(
        {"taux_impermeable": [0.9, 0.3]},
        geometry=[box(0, 0, 250, 1000), box(250, 0, 750, 1000)],
        crs=2154,
    )
    # the quarter is covered on 75 % of its area; the rest is unknown, not unsealed
    share = sealed_share(z(KM2), rated).iloc[0]
    assert share == pytest.approx((0.9 * 0.25 + 0.3 * 0.5) / 0.75 * 100)
    assert sealed_coverage(z(KM2), rated).iloc[0] == pytest.approx(75.0)


def test_sealed_polygons_share_of_quarter():
    sealed = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100), box(50, 50, 150, 150)], crs=2154)
    # two overlapping 1 ha squares: 1.75 ha sealed out of 100 ha
    assert sealed_share(z(KM2), sealed).iloc[0] == pytest.approx(1.75)


@pytest.fixture
def raster_path(tmp_path):
    """A real GeoTIFF in Lambert-93: 10 m pixels, left half 100 %, right half 20 %."""
    data = np.full((100, 100), 20, dtype="uint8")
    data[:, :50] = 100
    data[0, 0] = 255  # nodata
    path = tmp_path / "impermeabilite_synthetique.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=100,
        height=100,
        count=1,
        dtype="uint8",
        crs="EPSG:2154",
        transform=Affine(10, 0, 0, 0, -10, 1000),
        nodata=255,
    ) as dst:
        dst.write(data, 1)
        dst.update_tags(description="synthetique: test raster")
    return path


def test_raster_zonal_statistics_read_in_windows(raster_path):
    zones = z(KM2, box(0, 0, 400, 1000), box(5000, 5000, 6000, 6000))
    with rasterio.open(raster_path) as ds:
        stats = raster_imperviousness(zones, ds)
    valid = 100 * 100 - 1
    assert stats.loc[0, "impermeabilite_moyenne"] == pytest.approx((4999 * 100 + 5000 * 20) / valid)
    assert stats.loc[0, "part_impermeable"] == pytest.approx(100 * 4999 / valid)
    assert stats.loc[1, "impermeabilite_moyenne"] == pytest.approx(100.0)
    assert stats.loc[2].isna().all()  # outside the raster: unknown


def test_raster_in_another_crs_is_refused(tmp_path):
    path = tmp_path / "wgs84_synthetique.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=2,
        height=2,
        count=1,
        dtype="uint8",
        crs="EPSG:4326",
        transform=Affine(0.1, 0, 2, 0, -0.1, 49),
    ) as dst:
        dst.write(np.zeros((2, 2), dtype="uint8"), 1)
    with rasterio.open(path) as ds, pytest.raises(LayerError, match="EPSG:2154"):
        raster_imperviousness(z(KM2), ds)


def test_raster_takes_precedence_in_the_table(raster_path):
    per = z(KM2)
    with rasterio.open(raster_path) as ds:
        table = compute_indicators({}, perimeter=per, rasters={"impermeabilite": ds})
    row = table.set_index("code").loc["part_impermeable"]
    assert row["statut"] == "ok"
    assert row["valeur"] == pytest.approx(100 * 4999 / 9999)


def test_no_source_says_non_disponible_with_reason():
    table = compute_indicators({}, perimeter=z(KM2)).set_index("code")
    row = table.loc["impermeabilite_moyenne"]
    assert np.isnan(row["valeur"])
    assert row["statut"] == "non disponible"
    assert "aucune source réelle" in row["note"]


def test_nuisance_cells_two_or_more_and_black_spots():
    cells = gpd.GeoDataFrame(
        {"nb_nuisances": [2, 1, 4, 0], "point_noir": [False, False, True, False]},
        geometry=[
            box(0, 0, 500, 500),
            box(500, 0, 1000, 500),
            box(0, 500, 500, 1000),
            box(500, 500, 1000, 1000),
        ],
        crs=2154,
    )
    assert nuisance_share(z(KM2), cells).iloc[0] == pytest.approx(50.0)
    assert black_spot_share(z(KM2), cells).iloc[0] == pytest.approx(25.0)
    # a quarter straddling cells: 1 km x 0.5 km over cells 0 and 1 -> half in ≥ 2
    assert nuisance_share(z(box(0, 0, 1000, 500)), cells).iloc[0] == pytest.approx(50.0)
