"""Every format field tools produce, written for real and read through the importer."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import LineString, Point

from qmi_geo.errors import WalkError
from qmi_geo.walks import import_walks, read_walk_file

GARE = "Gare Aulnay-sous-Bois"
PARC = "Collège le Parc"
HUGO = "Collège Victor Hugo"


def fr(v: float) -> str:
    return str(v).replace(".", ",")


def test_cp1252_semicolon_csv_with_decimal_commas(tmp_path, places, aulnay):
    lat, lon = places[GARE]
    lat2, lon2 = places[PARC]
    text = (
        "Thème;Ressenti;Intensité;Commentaire;Latitude;Longitude;Participant\n"
        f"Îlot de chaleur;négatif;3;Parvis très exposé, aucune ombre;{fr(lat)};{fr(lon)};Éloïse\n"
        f"Fraîcheur;positif;2;Arbres du square agréables;{fr(lat2)};{fr(lon2)};Renée\n"
    )
    path = tmp_path / "aulnay_soir_synthetique.csv"
    path.write_bytes(text.encode("cp1252"))
    raw = read_walk_file(path)
    assert "Windows-1252" in raw.messages[0] and "point-virgule" in raw.messages[0]
    res = import_walks(path, perimeter=aulnay)
    s = res.summary[0]
    assert (s.lus, s.acceptes, s.rejetes, s.signales) == (2, 2, 0, 0)
    ann = res.annotations
    assert ann["theme"].tolist() == ["chaleur", "fraicheur_vegetation"]
    assert ann["theme_original"].iloc[0] == "Îlot de chaleur"
    assert ann["commentaire"].iloc[0] == "Parvis très exposé, aucune ombre"
    assert ann["intensite"].tolist() == [3, 2]
    assert ann.crs.to_epsg() == 2154
    expected = gpd.GeoSeries([Point(lon, lat)], crs=4326).to_crs(2154).iloc[0]
    assert ann.geometry.iloc[0].distance(expected) < 0.01
    assert "Éloïse" not in ann.to_string() and ann["auteur"].iloc[0].startswith("P-")


def test_kobo_csv_with_geopoint_column(tmp_path, places):
    lat, lon = places[HUGO]
    rows = [
        "start;end;groupe_lieu/position;_groupe_lieu/position_latitude_x;groupe_ressenti/theme;"
        "groupe_ressenti/valence;groupe_ressenti/intensite;groupe_ressenti/commentaire;"
        "photo;_id;_uuid;_submission_time",
        f"2024-06-15T14:02:11.000+02:00;2024-06-15T14:05:40.000+02:00;{lat} {lon} 62.3 4.9;;"
        "bruit;negatif;2;Bruit de la nationale;IMG_2041.jpg;101;a1b2;2024-06-15T12:10:00",
        f"2024-06-15T14:12:00.000+02:00;2024-06-15T14:13:00.000+02:00;{lat + 0.001} {lon} 60 5;;"
        "convivialite;positif;;Terrain de jeux animé;;102;a1b3;2024-06-15T12:20:00",
    ]
    path = tmp_path / "kobo_export_synthetique.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    res = import_walks(path)
    s = res.summary[0]
    assert (s.lus, s.acceptes, s.rejetes) == (2, 2, 0)
    ann = res.annotations
    assert ann["theme"].tolist() == ["bruit", "convivialite"]
    assert ann["photo"].iloc[0] == "IMG_2041.jpg"
    assert str(ann["horodatage"].iloc[0]) == "2024-06-15 14:02:11"  # Paris local time
    expected = gpd.GeoSeries([Point(lon, lat)], crs=4326).to_crs(2154).iloc[0]
    assert ann.geometry.iloc[0].distance(expected) < 0.01
    assert ann["signalements"].iloc[0] == ""


def test_kobo_geolocation_and_split_latitude_columns(tmp_path, places):
    lat, lon = places[GARE]
    geoloc = tmp_path / "kobo_geoloc_synthetique.csv"
    geoloc.write_text(f'theme,_geolocation\nsale,"[{lat}, {lon}]"\n', encoding="utf-8")
    split = tmp_path / "odk_central_synthetique.csv"
    split.write_text(
        f"SubmissionDate,lieu-Latitude,lieu-Longitude,lieu-Altitude,theme\n"
        f"2024-06-15T12:00:00.000Z,{lat},{lon},60,éclairage\n",
        encoding="utf-8",
    )
    res = import_walks([geoloc, split])
    assert [s.acceptes for s in res.summary] == [1, 1]
    assert res.annotations["theme"].tolist() == ["proprete", "eclairage"]
    assert str(res.annotations["horodatage"].iloc[1]) == "2024-06-15 14:00:00"


def test_xlsx_typed_in_the_evening(tmp_path, places):
    lat, lon = places[PARC]
    frame = pd.DataFrame(
        {
            "Date": [pd.Timestamp("2024-06-15 18:30"), "15/06/2024 18:40"],
            "Thème": ["manque d'arbres", "Bancs"],
            "Latitude": [lat, f"{fr(lat + 0.0005)}"],
            "Longitude": [lon, f"{fr(lon)}"],
            "Remarque": ["Cour d'école minérale", "Pas de bancs pour se reposer"],
        }
    )
    path = tmp_path / "saisie_du_soir_synthetique.xlsx"
    frame.to_excel(path, index=False, sheet_name="Marche")
    res = import_walks(path)
    s = res.summary[0]
    assert (s.lus, s.acceptes, s.rejetes) == (2, 2, 0)
    assert res.annotations["theme"].tolist() == ["manque_vegetation", "mobilier_repos"]
    assert res.annotations["source_ligne"].tolist() == [2, 3]
    assert str(res.annotations["horodatage"].iloc[1]) == "2024-06-15 18:40:00"


def test_umap_geojson_export(tmp_path, places):
    lat, lon = places[GARE]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "name": "Trop chaud",
                    "description": "Le parvis de la gare **chauffe** l'après-midi",
                    "_umap_options": {"color": "Red", "iconClass": "Circle"},
                },
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            },
            {
                "type": "Feature",
                "properties": {"name": "Franchissement des voies", "description": "Long détour"},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[lon, lat], [lon + 0.002, lat + 0.001]],
                },
            },
            {"type": "Feature", "properties": {"name": "sans lieu"}, "geometry": None},
        ],
        "_umap_options": {"name": "Marche sensible"},
    }
    path = tmp_path / "umap_synthetique.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    res = import_walks(path)
    s = res.summary[0]
    assert (s.lus, s.acceptes, s.rejetes) == (3, 2, 1)
    ann = res.annotations
    assert ann["theme"].tolist() == ["chaleur", "coupure"]
    assert ann["commentaire"].iloc[0] == "Le parvis de la gare **chauffe** l'après-midi"
    assert ann.geometry.iloc[1].geom_type == "LineString"
    assert res.rejects["ligne"].tolist() == [3]
    assert "_umap_options" not in res.rejects.columns


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
  <Document>
    <name>Marche sensible Aulnay</name>
    <Folder>
      <name>Bruit</name>
      <Placemark>
        <name>Carrefour</name>
        <description><![CDATA[Camions <b>très</b> bruyants]]></description>
        <ExtendedData>
          <Data name="Ressenti"><value>négatif</value></Data>
          <Data name="Intensité"><value>3</value></Data>
        </ExtendedData>
        <Point><coordinates>{lon},{lat},0</coordinates></Point>
      </Placemark>
    </Folder>
    <Folder>
      <name>Points agréables</name>
      <Placemark>
        <name>Parc ombragé</name>
        <description>Grands arbres</description>
        <Point><coordinates>{lon2},{lat2},0</coordinates></Point>
      </Placemark>
    </Folder>
  </Document>
</kml>
"""


@pytest.mark.parametrize("suffix", ["kml", "kmz"])
def test_google_my_maps_kml_and_kmz(tmp_path, places, suffix):
    lat, lon = places[GARE]
    lat2, lon2 = places[PARC]
    text = KML.format(lat=lat, lon=lon, lat2=lat2, lon2=lon2)
    path = tmp_path / f"my_maps_synthetique.{suffix}"
    if suffix == "kml":
        path.write_text(text, encoding="utf-8")
    else:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("doc.kml", text)
    res = import_walks(path)
    s = res.summary[0]
    assert (s.lus, s.acceptes, s.rejetes) == (2, 2, 0)
    ann = res.annotations
    # Folder name « Bruit » gives the theme; « Parc ombragé » is recognised from the title.
    assert ann["theme"].tolist() == ["bruit", "fraicheur_vegetation"]
    assert ann["commentaire"].iloc[0] == "Camions <b>très</b> bruyants"
    assert ann["intensite"].iloc[0] == 3


GPX = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="OsmAnd" xmlns="http://www.topografix.com/GPX/1/1">
  <wpt lat="{lat}" lon="{lon}"><time>2024-06-15T12:05:00Z</time><name>Chaleur</name>
    <desc>Pas un arbre sur le parking</desc></wpt>
  <wpt lat="{lat2}" lon="{lon2}"><time>2024-06-15T12:25:00Z</time>
  <name>Sentiment d'insécurité</name>
  <desc>Passage souterrain sombre</desc></wpt>
  <trk><name>Parcours marche sensible</name><trkseg>
    <trkpt lat="{lat}" lon="{lon}"><time>2024-06-15T12:00:00Z</time></trkpt>
    <trkpt lat="{latm}" lon="{lonm}"><time>2024-06-15T12:15:00Z</time></trkpt>
    <trkpt lat="{lat2}" lon="{lon2}"><time>2024-06-15T12:30:00Z</time></trkpt>
  </trkseg></trk>
</gpx>
"""


def test_gpx_waypoints_and_track(tmp_path, places):
    lat, lon = places[GARE]
    lat2, lon2 = places[PARC]
    path = tmp_path / "telephone_synthetique.gpx"
    path.write_text(
        GPX.format(
            lat=lat, lon=lon, lat2=lat2, lon2=lon2, latm=(lat + lat2) / 2, lonm=(lon + lon2) / 2
        ),
        encoding="utf-8",
    )
    res = import_walks(path, walk_id="aulnay-2024-06-15")
    s = res.summary[0]
    assert (s.lus, s.acceptes, s.rejetes) == (2, 2, 0)
    assert res.annotations["theme"].tolist() == ["chaleur", "insecurite"]
    assert res.annotations["commentaire"].iloc[1] == "Passage souterrain sombre"
    assert str(res.annotations["horodatage"].iloc[0]) == "2024-06-15 14:05:00"
    assert len(res.routes) == 1
    assert res.routes["marche"].iloc[0] == "aulnay-2024-06-15"
    assert res.routes.crs.to_epsg() == 2154
    ends = gpd.GeoSeries([Point(lon, lat), Point(lon2, lat2)], crs=4326).to_crs(2154)
    # the track goes straight from the station to the collège through their midpoint
    assert abs(res.routes.geometry.iloc[0].length - ends.iloc[0].distance(ends.iloc[1])) < 1


def test_qfield_geopackage_with_route_layer(tmp_path, places):
    lat, lon = places[HUGO]
    pts = gpd.GeoDataFrame(
        {"theme": ["circulation"], "commentaire": ["Voitures rapides"], "photo": ["DCIM/1.jpg"]},
        geometry=[Point(lon, lat)],
        crs=4326,
    ).to_crs(2154)
    path = tmp_path / "qfield_synthetique.gpkg"
    pyogrio.write_dataframe(pts, path, layer="observations")
    line = gpd.GeoDataFrame(geometry=[LineString([(lon, lat), (lon + 0.003, lat)])], crs=4326)
    pyogrio.write_dataframe(line.to_crs(2154), path, layer="parcours")
    res = import_walks(path)
    assert (res.summary[0].lus, res.summary[0].acceptes) == (1, 1)
    assert res.annotations["theme"].iloc[0] == "circulation"
    assert res.annotations["photo"].iloc[0] == "DCIM/1.jpg"
    assert len(res.routes) == 1


def test_lambert93_xy_and_wkt_and_tsv(tmp_path, places):
    lat, lon = places[GARE]
    p = gpd.GeoSeries([Point(lon, lat)], crs=4326).to_crs(2154).iloc[0]
    xy = tmp_path / "l93_synthetique.tsv"
    xy.write_text(f"X\tY\tthème\n{fr(round(p.x, 2))}\t{fr(round(p.y, 2))}\tbruit\n", "utf-8")
    wkt = tmp_path / "wkt_synthetique.csv"
    wkt.write_text(f'wkt,theme\n"POINT ({lon} {lat})",bruit\n', encoding="utf-8")
    res = import_walks([xy, wkt])
    assert [s.acceptes for s in res.summary] == [1, 1]
    a, b = res.annotations.geometry
    assert a.distance(b) < 0.05


def test_unreadable_file_is_a_clear_french_error(tmp_path):
    path = tmp_path / "sans_coordonnees_synthetique.csv"
    path.write_text("theme;commentaire\nbruit;x\n", encoding="utf-8")
    with pytest.raises(WalkError, match="Aucune colonne de coordonnées"):
        import_walks(path)
    with pytest.raises(WalkError, match="introuvable"):
        read_walk_file(tmp_path / "absent.csv")
    bad = tmp_path / "notes.docx"
    bad.write_bytes(b"PK")
    with pytest.raises(WalkError, match="Format non reconnu"):
        read_walk_file(bad)


def test_one_unreadable_file_among_good_ones_is_reported(tmp_path, places):
    lat, lon = places[GARE]
    good = tmp_path / "bon_synthetique.csv"
    good.write_text(f"lat;lon;theme\n{lat};{lon};bruit\n", encoding="utf-8")
    bad = tmp_path / "mauvais_synthetique.geojson"
    bad.write_text("{pas du json", encoding="utf-8")
    res = import_walks([good, bad])
    assert res.summary[0].acceptes == 1
    assert res.summary[1].erreur and "GeoJSON" in res.summary[1].erreur
    assert Path(res.summary[1].fichier).name == "mauvais_synthetique.geojson"


def test_irregular_csv_rows_read_like_regular_ones(tmp_path, places):
    """Short rows, a quoted multi-line comment and a blank line: the fast reader and the
    forgiving one must agree on every row, its line number and its values."""
    lat, lon = places[GARE]
    head = "lat;lon;theme;commentaire;nom\n"
    rows = [
        f'{fr(lat)};{fr(lon)};bruit;"deux\nlignes";Ana\n',
        "\n",
        f"{fr(lat)};{fr(lon)};chaleur;;ana\n",
        f"{fr(lat)} ;{fr(lon)};propreté;sale;Léo\n",
    ]
    regular = tmp_path / "regulier_synthetique.csv"
    regular.write_text(head + "".join(rows), encoding="utf-8")
    short = tmp_path / "court_synthetique.csv"  # a last row with fewer fields than the header
    short.write_text(head + "".join(rows) + f"{fr(lat)};{fr(lon)}\n", encoding="utf-8")
    a, b = import_walks(regular, salt="s"), import_walks(short, salt="s")
    cols = ["source_ligne", "theme", "commentaire", "auteur", "signalements"]
    assert a.annotations[cols].values.tolist() == b.annotations[cols].values.tolist()[:3]
    # spreadsheet rows: the multi-line cell is one row (2), the blank row 3 is skipped
    assert a.annotations["source_ligne"].tolist() == [2, 4, 5]
    assert a.annotations["commentaire"].iloc[0] == "deux\nlignes"
    assert a.annotations["auteur"].iloc[0] == a.annotations["auteur"].iloc[1] != ""
    assert b.annotations["source_ligne"].tolist()[-1] == 6
    assert b.annotations["theme"].iloc[-1] == "autre"
    assert any("vide" in m for m in a.summary[0].messages)
