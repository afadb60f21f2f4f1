"""Keep what can be kept: dates, DMS coordinates, empty files, duplicates, routes, KMZ."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from qmi_geo.cli.main import cli
from qmi_geo.errors import EmptyWalkFileWarning
from qmi_geo.maps._annotations import annotation_payload
from qmi_geo.walks import import_walks, load_annotations, match_theme, save_annotations
from qmi_geo.walks._store import load_files

from .conftest import DEMO_WALKS, write_spec

GARE = (48.931977, 2.495768)  # parvis of the Aulnay-sous-Bois station (demo walk, row 2)
PARVIS = (48.932496, 2.495202)


def _dms(value: float, pos: str, neg: str) -> str:
    hemisphere = pos if value >= 0 else neg
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = (value - d - m / 60) * 3600
    return f"{d}°{m}'{s:.2f}\"{hemisphere}".replace(".", ",")


def test_impossible_and_future_dates_keep_the_annotation(tmp_path: Path) -> None:
    path = tmp_path / "dates_synthetique.csv"
    path.write_text(
        "date;lat;lon;theme;commentaire\n"
        f"31/02/2023;{GARE[0]};{GARE[1]};bruit;date impossible\n"
        f"hier soir;{GARE[0]};{GARE[1]};chaleur;date en mots\n"
        f"15/06/2099 10:00;{PARVIS[0]};{PARVIS[1]};bruit;an 2099\n"
        f"15/06/2024 10:00;{PARVIS[0]};{PARVIS[1]};chaleur;bonne date\n",
        encoding="utf-8",
    )
    res = import_walks(path)  # warnings are errors in the tests: pandas says nothing
    s = res.summary[0]
    assert (s.lus, s.acceptes, s.rejetes) == (4, 4, 0)
    ann = res.annotations.set_index("source_ligne")
    assert ann.loc[2, "signalements"] == "date_illisible" and pd.isna(ann.loc[2, "horodatage"])
    assert ann.loc[3, "signalements"] == "date_illisible" and pd.isna(ann.loc[3, "horodatage"])
    assert ann.loc[4, "signalements"] == "date_future"
    assert str(ann.loc[4, "horodatage"]) == "2099-06-15 10:00:00"
    assert ann.loc[5, "signalements"] == ""
    assert (
        "à vérifier — date illisible ou impossible, laissée vide (écrivez JJ/MM/AAAA HH:MM) : "
        "lignes 2, 3 — texte(s) : « 31/02/2023 », « hier soir »"
    ) in s.messages
    assert "à vérifier — date dans le futur : vérifiez l'année : ligne 4" in s.messages


def test_dms_and_degree_sign_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "dms_synthetique.csv"
    lat_dms, lon_dms = _dms(GARE[0], "N", "S"), _dms(GARE[1], "E", "O")
    path.write_text(
        "latitude;longitude;theme\n"
        f"{lat_dms};{lon_dms};bruit\n"
        f"{PARVIS[0]}°;{PARVIS[1]}°;chaleur\n"
        f"N {lat_dms[:-1]};E {lon_dms[:-1]};bruit\n",
        encoding="utf-8",
    )
    res = import_walks(path)
    assert (res.summary[0].acceptes, res.summary[0].rejetes) == (3, 0)
    wgs = res.annotations.to_crs(4326)
    assert wgs.geometry.iloc[0].distance(Point(GARE[1], GARE[0])) < 1e-5
    assert wgs.geometry.iloc[1].distance(Point(PARVIS[1], PARVIS[0])) < 1e-5
    assert wgs.geometry.iloc[2].distance(Point(GARE[1], GARE[0])) < 1e-5


def test_unreadable_coordinates_say_how_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "coordonnees_synthetique.csv"
    path.write_text("lat;lon;theme\nquarante-huit;deux;bruit\n", encoding="utf-8")
    reason = import_walks(path).rejects["raison"].iloc[0]
    assert reason == (
        "coordonnées illisibles (pas des nombres) : écrivez des degrés décimaux (48,9322) ou "
        "en degrés, minutes, secondes (48°55'56\"N)"
    )


def test_header_only_file_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "entete_seule_synthetique.csv"
    path.write_text("latitude;longitude;theme;commentaire\n", encoding="utf-8")
    message = (
        "entete_seule_synthetique.csv : aucune ligne de données (seulement l'en-tête), rien à "
        "importer. Vérifiez que l'export contient bien les réponses."
    )
    with pytest.warns(EmptyWalkFileWarning) as caught:
        res = import_walks(path)
    assert str(caught[0].message) == message
    assert res.summary[0].lus == 0
    out = tmp_path / "sortie"
    cli_res = CliRunner().invoke(
        cli, ["walks", "import", str(path), "--spec", "93005", "--sortie", str(out)]
    )
    assert cli_res.exit_code == 0, cli_res.output
    assert f"Attention : {message}" in cli_res.output


def test_same_file_under_two_names_is_counted_once(tmp_path: Path) -> None:
    original = DEMO_WALKS / "aulnay-sous-bois_marche_synthetique.csv"
    copy = tmp_path / "copie_renommee_synthetique.csv"
    shutil.copy(original, copy)
    res = import_walks([original, copy])
    n = res.summary[0].acceptes
    assert res.summary[1].acceptes == n  # nothing lost: every row accepted...
    store = tmp_path / "annotations.gpkg"
    save_annotations(res, store)
    stored = load_annotations(store)
    assert len(stored) == n  # ...and stored once
    assert set(stored["source_fichier"]) == {original.name}
    assert any(
        m.startswith("à vérifier — doublon exact d'une autre ligne (compté une fois) : lignes 2,")
        for m in res.summary[1].messages
    )
    # imported again later under a third name: replaced, not duplicated
    third = tmp_path / "encore_une_copie_synthetique.csv"
    shutil.copy(original, third)
    again = import_walks(third, existing=stored)
    save_annotations(again, store)
    assert len(load_annotations(store)) == n
    assert any("déjà présente(s) dans le stock" in m for m in again.summary[0].messages)


def test_store_is_the_spec_files_plus_explicit_imports(tmp_path: Path) -> None:
    from qmi_geo.pipeline import analyse, walks_stage
    from qmi_geo.spec import load_spec

    a = DEMO_WALKS / "aulnay-sous-bois_marche_synthetique.csv"
    b = DEMO_WALKS / "aulnay-sous-bois_kobo_synthetique.csv"
    extra = tmp_path / "import_explicite_synthetique.csv"
    extra.write_text(f"lat;lon;theme\n{GARE[0]};{GARE[1]};eau\n", encoding="utf-8")
    out = tmp_path / "sortie"
    res = CliRunner().invoke(
        cli, ["walks", "import", str(extra), "--spec", "93005", "--sortie", str(out)]
    )
    assert res.exit_code == 0, res.output
    spec = write_spec(tmp_path, [a, b], extra="fub = false", out=out)
    analyse(load_spec(spec), stages=[walks_stage], progress=False)
    stored = load_annotations(out / "annotations.gpkg")
    counts = stored["source_fichier"].value_counts().to_dict()
    assert counts == {a.name: 24, b.name: 10, extra.name: 1}
    files = load_files(out / "annotations.gpkg").set_index("fichier")["origine"].to_dict()
    assert files == {extra.name: "import", a.name: "spec", b.name: "spec"}

    spec = write_spec(tmp_path, [a], extra="fub = false", out=out)  # b removed from the spec
    result = analyse(load_spec(spec), stages=[walks_stage], progress=False)
    stored = load_annotations(out / "annotations.gpkg")
    assert stored["source_fichier"].value_counts().to_dict() == {a.name: 24, extra.name: 1}
    assert (
        f"Marches sensibles : fichier(s) retiré(s) de la spec : {b.name} — 10 annotation(s) "
        "retirée(s) de la couche de la commune."
    ) in result.notes


def _umap(tmp_path: Path) -> Path:
    lat, lon = GARE
    line = [[lon, lat], [lon + 0.002, lat + 0.001], [lon + 0.004, lat + 0.001]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "Trop chaud", "description": "parvis"},
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            },
            {
                "type": "Feature",
                "properties": {"name": "Parcours de la marche du 15 juin"},
                "geometry": {"type": "LineString", "coordinates": line},
            },
            {
                "type": "Feature",
                "properties": {"_umap_options": {"color": "Blue"}},
                "geometry": {"type": "LineString", "coordinates": line[::-1]},
            },
            {
                "type": "Feature",
                "properties": {"name": "Franchissement des voies", "description": "détour"},
                "geometry": {"type": "LineString", "coordinates": line[:2]},
            },
        ],
    }
    path = tmp_path / "umap_parcours_synthetique.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_umap_walk_route_goes_to_the_route_layer(tmp_path: Path) -> None:
    res = import_walks(_umap(tmp_path))
    assert res.annotations["theme"].tolist() == ["chaleur", "coupure"]
    assert res.annotations["source_ligne"].tolist() == [1, 4]
    assert res.routes["nom"].tolist() == ["Parcours de la marche du 15 juin", ""]
    assert (res.routes.geom_type == "LineString").all()
    assert (
        "2 ligne(s) ou zone(s) du parcours de la marche mise(s) dans la couche « parcours »"
        in res.summary[0].messages
    )
    store = tmp_path / "annotations.gpkg"
    save_annotations(res, store)
    assert len(gpd.read_file(store, layer="parcours")) == 2


KML_SCHEMA = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Marche</name>
<Schema name="marche" id="marche"><SimpleField name="Thème" type="string"/>
<SimpleField name="Intensité" type="int"/></Schema>
<Folder><name>Ressentis</name>
<Placemark><name>Carrefour</name><ExtendedData><SchemaData schemaUrl="#marche">
<SimpleData name="Thème">traversée dangereuse</SimpleData>
<SimpleData name="Intensité">3</SimpleData></SchemaData>
<Data name="Ressenti"><value>négatif</value></Data></ExtendedData>
<Point><coordinates>{lon},{lat},0</coordinates></Point></Placemark>
</Folder>
<Folder><name>Parcours</name>
<Placemark><name>Tracé</name><LineString><coordinates>{lon},{lat},0 {lon2},{lat2},0
</coordinates></LineString></Placemark>
</Folder></Document></kml>
"""


@pytest.mark.parametrize("suffix", ["kml", "kmz"])
def test_kml_and_kmz_keep_extended_data_and_route(tmp_path: Path, suffix: str) -> None:
    text = KML_SCHEMA.format(lat=GARE[0], lon=GARE[1], lat2=PARVIS[0], lon2=PARVIS[1])
    path = tmp_path / f"my_maps_schema_synthetique.{suffix}"
    if suffix == "kml":
        path.write_text(text, encoding="utf-8")
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("doc.kml", text)
    res = import_walks(path)
    ann = res.annotations
    assert len(ann) == 1
    assert (ann["theme"].iloc[0], ann["valence"].iloc[0], ann["intensite"].iloc[0]) == (
        "coupure",
        "negatif",
        3,
    )
    assert res.routes["nom"].tolist() == ["Tracé"]


@pytest.mark.parametrize(
    ("text", "theme"),
    [
        ("Traversée dangereuse", "coupure"),
        ("passage piéton dangereux", "coupure"),
        ("Carrefour dangereux", "coupure"),
        ("feu piéton trop court", "coupure"),
        ("impossible de traverser", "coupure"),
        ("pas de passage piéton", "coupure"),
        ("nuisances olfactives", "pollution_air"),
        ("dangereux", "insecurite"),  # alone, still a feeling of unsafety
    ],
)
def test_theme_vocabulary(text: str, theme: str) -> None:
    assert match_theme(text) == (theme, True)


def test_undated_annotations_have_no_date_line() -> None:
    ann = gpd.GeoDataFrame(
        {
            "theme": ["bruit", "chaleur"],
            "valence": ["negatif", "negatif"],
            "intensite": [2, 1],
            "commentaire": ["daté", "sans date"],
            "horodatage": pd.to_datetime(["2024-06-15 14:05", None]),
        },
        geometry=[Point(662632, 6870123), Point(662700, 6870200)],
        crs=2154,
    )
    rows = annotation_payload(ann)["points"]
    assert [r[6] for r in rows] == ["2024-06-15 14:05", ""]
