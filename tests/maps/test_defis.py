"""Reading, validating and storing the « carte sur table » export."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest

from qmi_geo._validate import ValidationReport
from qmi_geo.errors import LayerError, LayerFileNotFoundError
from qmi_geo.maps.defis import read_defis_export, save_defis


def _export(path: Path, features: list[dict]) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    return path


def _f(geom: dict, **props) -> dict:
    return {"type": "Feature", "geometry": geom, "properties": props}


PT = {"type": "Point", "coordinates": [2.4976, 48.9381]}
LINE = {"type": "LineString", "coordinates": [[2.49, 48.94], [2.50, 48.945]]}
POLY = {
    "type": "Polygon",
    "coordinates": [[[2.49, 48.94], [2.5, 48.94], [2.5, 48.95], [2.49, 48.94]]],
}


def test_export_is_read_in_lambert93_with_themes_and_priorities(tmp_path: Path) -> None:
    path = _export(
        tmp_path / "defis.geojson",
        [
            _f(LINE, id="d2", theme="Bruit", priorite=2, commentaire="<b>axe</b>"),
            _f(PT, id="d1", theme="chaleur", priorite=1, commentaire="place sans ombre"),
            _f(POLY, id="d3", theme="trop chaud", priorite=3),
        ],
    )
    gdf = read_defis_export(path)
    assert gdf.crs.to_epsg() == 2154
    assert list(gdf["id"]) == ["d1", "d2", "d3"]
    assert list(gdf["theme"]) == ["chaleur", "bruit", "chaleur"]
    assert list(gdf["priorite"]) == [1, 2, 3]
    assert gdf.loc[1, "commentaire"] == "<b>axe</b>"  # stored verbatim; escaping is the map's job
    assert list(gdf.geom_type) == ["Point", "LineString", "Polygon"]
    x, y = gdf.geometry.iloc[0].coords[0]
    assert 655_000 < x < 670_000 and 6_860_000 < y < 6_880_000


def test_bad_priorities_are_rejected_with_reason_and_the_rest_kept(tmp_path: Path) -> None:
    path = _export(
        tmp_path / "d.geojson",
        [
            _f(PT, id="ok", theme="bruit", priorite=1),
            _f(PT, id="zero", theme="bruit", priorite=0),
            _f(PT, id="frac", theme="bruit", priorite=1.5),
            _f(PT, id="txt", theme="bruit", priorite="urgent"),
            _f(None, id="nogeom", theme="bruit", priorite=2),
            _f(PT, id="inconnu", theme="licornes", priorite=4),
        ],
    )
    report = ValidationReport()
    gdf = read_defis_export(path, report)
    assert list(gdf["id"]) == ["ok", "inconnu"]
    assert gdf.set_index("id").loc["inconnu", "theme"] == "autre"
    assert gdf.set_index("id").loc["inconnu", "theme_original"] == "licornes"
    rejects = report.rejects_frame()
    assert sorted(rejects["entite"]) == [2, 3, 4, 5]
    assert rejects["raison"].str.contains("priorité|géométrie").all()
    assert "thème non reconnu" in report.to_text()


def test_missing_fields_and_files_are_clear_errors(tmp_path: Path) -> None:
    path = _export(tmp_path / "d.geojson", [_f(PT, theme="bruit")])
    with pytest.raises(LayerError, match="priorite"):
        read_defis_export(path)
    with pytest.raises(LayerFileNotFoundError, match="introuvable"):
        read_defis_export(tmp_path / "absent.geojson")
    bad = tmp_path / "pas_geo.geojson"
    bad.write_text("ceci n'est pas du GeoJSON", encoding="utf-8")
    with pytest.raises(LayerError, match="Exporter les défis"):
        read_defis_export(bad)


def test_ids_are_stable_when_the_export_has_none(tmp_path: Path) -> None:
    path = _export(tmp_path / "d.geojson", [_f(PT, theme="bruit", priorite=1, commentaire="x")])
    assert read_defis_export(path)["id"].iloc[0] == read_defis_export(path)["id"].iloc[0]


def test_save_merges_by_id_without_duplicates(tmp_path: Path) -> None:
    store = tmp_path / "sortie" / "defis.gpkg"
    first = read_defis_export(
        _export(
            tmp_path / "a.geojson",
            [
                _f(PT, id="d1", theme="chaleur", priorite=1),
                _f(LINE, id="d2", theme="bruit", priorite=2),
            ],
        )
    )
    save_defis(first, store)
    again = save_defis(first, store)
    assert len(again) == 2
    edited = read_defis_export(
        _export(
            tmp_path / "b.geojson",
            [
                _f(PT, id="d1", theme="chaleur", priorite=3, commentaire="revu"),
                _f(POLY, id="d4", theme="eau", priorite=1),
            ],
        )
    )
    merged = save_defis(edited, store)
    stored = gpd.read_file(store, layer="defis")
    assert sorted(stored["id"]) == ["d1", "d2", "d4"]
    assert merged.set_index("id").loc["d1", "priorite"] == 3
    assert merged.set_index("id").loc["d1", "commentaire"] == "revu"
    assert set(stored.geom_type) == {"Point", "LineString", "Polygon"}
