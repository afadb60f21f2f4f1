"""Each validation rule, on real-format files written by the test."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from qmi_geo._validate import SourceRef, ValidationReport
from qmi_geo.errors import (
    CoordinatesSwappedWarning,
    CRSError,
    CRSInferredWarning,
    EmptyLayerError,
    GeometryRepairedWarning,
    LayerError,
    LayerFileNotFoundError,
    MissingFieldError,
    WrongGeometryTypeError,
)
from qmi_geo.layers import normalise_layer, read_vector

# Real places: Gare d'Aulnay-sous-Bois, Mairie de Sceaux, Gare de Meudon-Val-Fleury.
AULNAY = (2.4967, 48.9386)
SCEAUX = (2.2906, 48.7779)
MEUDON = (2.2410, 48.8140)


def _geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    return path


def _point(lon: float, lat: float, **props: object) -> dict:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def test_swapped_coordinates_in_geojson_are_fixed_and_counted(tmp_path: Path) -> None:
    path = _geojson(
        tmp_path / "gares_inversees.geojson",
        [
            _point(*AULNAY, nom="Aulnay"),
            _point(SCEAUX[1], SCEAUX[0], nom="Sceaux"),  # lat, lon
            _point(MEUDON[1], MEUDON[0], nom="Meudon"),
        ],
    )
    report = ValidationReport()
    raw = read_vector(path)
    with pytest.warns(CoordinatesSwappedWarning, match="2 entité"):
        gdf = normalise_layer(raw, "gares", SourceRef(path.name), report)
    back = gdf.to_crs(4326)
    assert back.geometry.x.round(4).tolist() == [AULNAY[0], SCEAUX[0], MEUDON[0]]
    fixes = [i for i in report.issues if i.level == "correction"]
    assert len(fixes) == 1 and fixes[0].rows == (1, 2)
    assert "gares_inversees.geojson" in str(fixes[0]) and "entités 2, 3" in str(fixes[0])


def test_shapefile_without_prj_gets_lambert93_inferred_with_a_warning(tmp_path: Path) -> None:
    pts = gpd.GeoDataFrame(
        {"nom": ["A", "B"]}, geometry=[Point(AULNAY), Point(SCEAUX)], crs=4326
    ).to_crs(2154)
    shp = tmp_path / "sites.shp"
    pts.to_file(shp)
    shp.with_suffix(".prj").unlink()
    raw = read_vector(shp)
    assert raw.crs is None
    report = ValidationReport()
    with pytest.warns(CRSInferredWarning, match="Lambert-93"):
        gdf = normalise_layer(raw, "gares", SourceRef(shp.name), report)
    assert gdf.crs.to_epsg() == 2154
    assert gdf.geometry.iloc[0].distance(pts.geometry.iloc[0]) < 0.01
    assert any("Lambert-93" in i.message and i.level == "avertissement" for i in report.issues)


def test_missing_crs_in_degrees_is_inferred_as_wgs84(tmp_path: Path) -> None:
    raw = gpd.GeoDataFrame({"nom": ["A"]}, geometry=[Point(AULNAY)])
    report = ValidationReport()
    with pytest.warns(CRSInferredWarning, match="WGS84"):
        gdf = normalise_layer(raw, "gares", SourceRef("a.csv"), report)
    assert gdf.crs.to_epsg() == 2154


def test_implausible_coordinates_without_crs_raise_a_clear_error() -> None:
    raw = gpd.GeoDataFrame({"nom": ["A"]}, geometry=[Point(123456789, 5)])
    with pytest.raises(CRSError, match="ni à du WGS84 ni à du Lambert-93"):
        normalise_layer(raw, "gares", SourceRef("x.shp"), ValidationReport())


def test_self_intersecting_polygon_is_repaired_and_reported(tmp_path: Path) -> None:
    # A bow-tie QPV in Lambert-93 near Aulnay, written to a real GeoPackage.
    x, y = 661_000, 6_871_000
    bowtie = Polygon([(x, y), (x + 200, y + 200), (x + 200, y), (x, y + 200), (x, y)])
    square = shapely.box(x + 500, y, x + 700, y + 200)
    path = tmp_path / "qpv.gpkg"
    gpd.GeoDataFrame(
        {"code_qp": ["QN09399X", "QN09398X"], "lib_qp": ["Noeud", "Carré"]},
        geometry=[bowtie, square],
        crs=2154,
    ).to_file(path, layer="qpv")
    report = ValidationReport()
    with pytest.warns(GeometryRepairedWarning, match="1 géométrie"):
        gdf = normalise_layer(read_vector(path, "qpv"), "qpv", SourceRef(path.name, "qpv"), report)
    assert gdf.is_valid.all()
    assert gdf.geometry.iloc[0].geom_type == "MultiPolygon"
    assert gdf.geometry.iloc[0].area == pytest.approx(20_000, rel=1e-6)
    msg = next(i for i in report.issues if i.level == "correction")
    assert "Polygon → MultiPolygon" in msg.message and msg.rows == (0,)
    assert "couche « qpv »" in str(msg)


def test_empty_layer_raises_with_file_name(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "vide.geojson", [])
    with pytest.raises(EmptyLayerError, match=r"vide\.geojson.*vide"):
        normalise_layer(read_vector(path), "qpv", SourceRef(path.name), ValidationReport())


def test_missing_required_field_names_the_field_and_the_fix(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "gares.geojson", [_point(*AULNAY, station="Aulnay")])
    with pytest.raises(MissingFieldError, match=r"nom.*Champs présents : station") as exc:
        normalise_layer(read_vector(path), "gares", SourceRef(path.name), ValidationReport())
    assert isinstance(exc.value, KeyError) and isinstance(exc.value, LayerError)


def test_wrong_geometry_type_is_a_clear_error(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "qpv_points.geojson", [_point(*AULNAY, code_qp="QN09349M")])
    with pytest.raises(WrongGeometryTypeError, match="Point.*Polygon"):
        normalise_layer(read_vector(path), "qpv", SourceRef(path.name), ValidationReport())


def test_mixed_geometry_types_keep_the_good_ones_and_reject_the_rest() -> None:
    gdf = gpd.GeoDataFrame(
        {"type": ["rail", "rail"], "nom": ["RER B", "point"]},
        geometry=[
            LineString([(661_000, 6_871_000), (662_000, 6_872_000)]),
            Point(661_000, 6_871_000),
        ],
        crs=2154,
    )
    report = ValidationReport()
    out = normalise_layer(gdf, "coupures", SourceRef("c.gpkg"), report)
    assert out["nom"].tolist() == ["RER B"]
    rejects = report.rejects_frame()
    assert rejects["entite"].tolist() == [2] and "Point" in rejects["raison"].iloc[0]


def test_csv_with_wkt_column_semicolons_and_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    text = (
        "nom;type;wkt\n"
        "Parking de la gare;parking;POLYGON ((2.496 48.938, 2.497 48.938, 2.497 48.939, "
        "2.496 48.939, 2.496 48.938))\n"
        "Cour du collège;ecole;POINT (2.4967 48.9386)\n"
        "Sans géométrie;place;\n"
    )
    path.write_bytes(text.encode("cp1252"))
    report = ValidationReport()
    raw = read_vector(path, report=report)
    with pytest.warns(CRSInferredWarning):
        gdf = normalise_layer(raw, "sites", SourceRef(path.name, row_offset=2), report)
    assert gdf["nom"].tolist() == ["Parking de la gare", "Cour du collège"]
    assert gdf["surface_m2"].iloc[0] == pytest.approx(73.3 * 111.3, rel=0.05)
    rejects = report.rejects_frame()
    assert rejects["entite"].tolist() == [4]  # line 4 of the file (header is line 1)
    assert any("cp1252" in i.message for i in report.issues)


def test_csv_with_lat_lon_columns_and_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "gares.csv"
    path.write_text('nom,latitude,longitude\n"Sceaux","48,7779","2,2906"\n', encoding="utf-8-sig")
    raw = read_vector(path)
    assert raw.geometry.iloc[0].x == pytest.approx(2.2906)


def test_unknown_site_type_is_rejected_not_lost() -> None:
    gdf = gpd.GeoDataFrame(
        {"type": ["parking", "soucoupe"], "nom": ["P1", "?"]},
        geometry=[Point(661_000, 6_871_000), Point(661_100, 6_871_000)],
        crs=2154,
    )
    report = ValidationReport()
    out = normalise_layer(gdf, "sites", SourceRef("sites.gpkg"), report)
    assert out["type"].tolist() == ["parking"]
    assert report.rejects_frame()["raison"].str.contains("type inconnu").all()


def test_features_without_geometry_go_to_rejects(tmp_path: Path) -> None:
    path = _geojson(
        tmp_path / "g.geojson",
        [
            _point(*AULNAY, nom="ok"),
            {"type": "Feature", "properties": {"nom": "sans"}, "geometry": None},
        ],
    )
    report = ValidationReport()
    out = normalise_layer(read_vector(path), "gares", SourceRef(path.name), report)
    assert len(out) == 1 and report.rejects_frame()["entite"].tolist() == [2]


def test_clip_keeps_polygons_whole_and_cuts_lines() -> None:
    area = shapely.box(0, 0, 100, 100)
    lines = gpd.GeoDataFrame(
        {"type": ["rail"]}, geometry=[LineString([(-50, 50), (150, 50)])], crs=2154
    )
    out = normalise_layer(lines, "coupures", SourceRef("l"), ValidationReport(), clip=area)
    assert out.length.iloc[0] == pytest.approx(100)
    polys = gpd.GeoDataFrame({"code_qp": ["Q"]}, geometry=[shapely.box(50, 50, 300, 300)], crs=2154)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = normalise_layer(polys, "qpv", SourceRef("q"), ValidationReport(), clip=area)
    assert out.area.iloc[0] == pytest.approx(250 * 250)


def test_reading_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(LayerFileNotFoundError, match="introuvable"):
        read_vector(tmp_path / "absent.gpkg")
    bad = tmp_path / "abime.gpkg"
    bad.write_text("pas un geopackage")
    with pytest.raises(LayerError, match="format non reconnu"):
        read_vector(bad)
    two = tmp_path / "deux.gpkg"
    g = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs=2154)
    g.to_file(two, layer="un")
    g.to_file(two, layer="deux")
    with pytest.raises(LayerError, match="plusieurs couches"):
        read_vector(two)
    with pytest.raises(LayerError, match="Couches disponibles"):
        read_vector(two, "trois")


@pytest.mark.parametrize(
    "driver,suffix", [("FlatGeobuf", ".fgb"), ("GPX", ".gpx"), ("KML", ".kml")]
)
def test_other_gdal_formats_are_read(tmp_path: Path, driver: str, suffix: str) -> None:
    gdf = gpd.GeoDataFrame({"name": ["Gare d'Aulnay"]}, geometry=[Point(AULNAY)], crs=4326)
    path = tmp_path / f"gare{suffix}"
    if driver == "GPX":
        gdf.to_file(
            path, driver=driver, layer="waypoints", dataset_options={"GPX_USE_EXTENSIONS": "YES"}
        )
    else:
        gdf.to_file(path, driver=driver)
    out = normalise_layer(read_vector(path), "gares", SourceRef(path.name), ValidationReport())
    assert out["nom"].iloc[0] == "Gare d'Aulnay"
    assert out.crs.to_epsg() == 2154


def test_geoparquet_is_read(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"nom": ["Gare"]}, geometry=[Point(AULNAY)], crs=4326)
    path = tmp_path / "gares.parquet"
    gdf.to_parquet(path)
    assert read_vector(path).crs.to_epsg() == 4326


def test_rejects_frame_lists_file_layer_row_and_reason() -> None:
    report = ValidationReport()
    frame = pd.DataFrame({"nom": ["x"]}, index=[4])
    report.reject(frame, "raison de test", SourceRef("f.gpkg", "c"))
    row = report.rejects_frame().iloc[0]
    assert (row["fichier"], row["couche"], row["entite"], row["raison"]) == (
        "f.gpkg",
        "c",
        5,
        "raison de test",
    )
