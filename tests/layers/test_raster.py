"""GeoTIFF sources: header checks through rasterio, windowed reading left to the indicators."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from qmi_geo.errors import CRSError
from qmi_geo.layers import read_raster_info
from qmi_geo.pipeline import load_layers
from qmi_geo.spec import load_spec


def _tif(path: Path, crs: str | None, origin: tuple[float, float]) -> Path:
    data = np.full((1, 40, 40), 80, dtype="uint8")
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=40,
        height=40,
        count=1,
        dtype="uint8",
        crs=crs,
        transform=from_origin(*origin, 25, 25),
        nodata=255,
    ) as dst:
        dst.write(data)
    return path


def test_raster_header_is_read_without_pixels(tmp_path: Path) -> None:
    path = _tif(tmp_path / "impermeabilite_synthetique.tif", "EPSG:2154", (648_000, 6_855_000))
    info = read_raster_info(path)
    assert info.crs_epsg == 2154 and info.resolution == (25.0, 25.0) and info.nodata == 255


def test_raster_without_crs_is_a_clear_error(tmp_path: Path) -> None:
    path = _tif(tmp_path / "sans_crs_synthetique.tif", None, (648_000, 6_855_000))
    with pytest.raises(CRSError, match="gdal_edit"):
        read_raster_info(path)


def test_raster_source_in_a_spec_is_checked_and_kept(tmp_path: Path) -> None:
    _tif(tmp_path / "impermeabilite_synthetique.tif", "EPSG:2154", (648_000, 6_855_000))
    _tif(tmp_path / "loin_synthetique.tif", "EPSG:2154", (900_000, 6_300_000))
    spec = tmp_path / "sceaux.toml"
    spec.write_text(
        'insee = "92071"\n[layers]\nsurfaces_minerales = ['
        '{ path = "impermeabilite_synthetique.tif" }, { path = "loin_synthetique.tif" }]\n',
        encoding="utf-8",
    )
    ls = load_layers(load_spec(spec))
    assert ls.rasters["surfaces_minerales"] == [tmp_path / "impermeabilite_synthetique.tif"]
    assert any("ne recouvre pas" in i.message for i in ls.report.issues)
