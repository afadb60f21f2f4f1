"""Nothing lost, everything explained: the mixed-file acceptance test and the store."""

from __future__ import annotations

import json

import pandas as pd
import pyogrio
import pytest

from qmi_geo.walks import import_walks, load_annotations, save_annotations, write_rejects

GARE = "Gare Aulnay-sous-Bois"
PARC = "Collège le Parc"
HUGO = "Collège Victor Hugo"
MEUDON = "Gare Meudon"


def fr(v: float) -> str:
    return str(v).replace(".", ",")


def just_outside(aulnay, metres: float = 300.0) -> tuple[float, float]:
    """(lat, lon) of a point ``metres`` east of the quarter's easternmost point."""
    import geopandas as gpd
    from shapely.geometry import Point

    xmax = aulnay.total_bounds[2]
    border = aulnay.geometry.iloc[0].intersection(aulnay.geometry.iloc[0].envelope)
    ys = [y for x, y in border.exterior.coords if x == xmax] or [aulnay.total_bounds[1]]
    p = gpd.GeoSeries([Point(xmax + metres, ys[0])], crs=aulnay.crs).to_crs(4326).iloc[0]
    return round(p.y, 6), round(p.x, 6)


@pytest.fixture
def mixed_file(tmp_path, places, aulnay):
    """Good rows, swapped coordinates, blank coordinates, the Atlantic, an unknown theme,
    a duplicate, an unreadable date, a point in Meudon (far from the quarter), a point just
    outside the quarter."""
    (la, lo), (lb, lb_lon), (lc, lc_lon) = places[GARE], places[PARC], places[HUGO]
    lm, lm_lon = places[MEUDON]
    lj, lj_lon = just_outside(aulnay)
    rows = [
        "Date;Thème;Ressenti;Intensité;Commentaire;Latitude;Longitude;Nom",
        f"15/06/2024 14:00;trop chaud;-;3;Parvis sans ombre;{fr(la)};{fr(lo)};Jeanne Dupont",  # 2
        f"15/06/2024 14:10;Bruit;négatif;2;Trafic de bus;{fr(lb)};{fr(lb_lon)};Karim B.",  # 3
        f"15/06/2024 14:20;canicule;;;Cour bitumée;{fr(lc_lon)};{fr(lc)};Jeanne Dupont",  # 4 swap
        "15/06/2024 14:30;bruit;négatif;1;Pas de position;;;Karim B.",  # 5 blank
        "15/06/2024 14:40;bruit;négatif;1;Au large;45,0;-30,0;Karim B.",  # 6 Atlantic
        f"15/06/2024 14:50;licorne rose;positif;1;???;{fr(lb)};{fr(lb_lon)};Léa",  # 7 unknown
        f"15/06/2024 14:10;Bruit;négatif;2;Trafic de bus;{fr(lb)};{fr(lb_lon)};Karim B.",  # 8 dup
        f"le matin;bruit;négatif;1;Date illisible;{fr(la)};{fr(lo)};Léa",  # 9 bad date
        f"15/06/2024 15:00;proprete;negatif;1;Vu à Meudon;{fr(lm)};{fr(lm_lon)};Léa",  # 10 out
        f"15/06/2024 15:10;bruit;neg;1;<script>alert('x')</script> <b>fort</b>;"
        f"{fr(la)};{fr(lo)};Léa",  # 11 HTML kept verbatim
        f"15/06/2024 15:20;bruit;neg;1;Juste à côté;{fr(lj)};{fr(lj_lon)};Léa",  # 12 near
    ]
    path = tmp_path / "marche_melangee_synthetique.csv"
    path.write_bytes(("\n".join(rows) + "\n").encode("cp1252"))
    return path


def test_mixed_file_exact_counts_and_rejects(mixed_file, aulnay, tmp_path):
    res = import_walks(mixed_file, perimeter=aulnay, salt="test")
    s = res.summary[0]
    assert s.lus == 11
    assert (s.acceptes, s.rejetes) == (8, 3)
    assert s.lus == s.acceptes + s.rejetes
    assert s.corriges == 1  # swapped row
    assert s.signales == 4  # unknown theme, duplicate, unreadable date, just outside
    ann = res.annotations.set_index("source_ligne")
    assert ann.loc[4, "signalements"] == "coordonnees_inversees"
    assert ann.loc[7, "signalements"] == "theme_inconnu"
    assert ann.loc[7, "theme"] == "autre" and ann.loc[7, "theme_original"] == "licorne rose"
    assert ann.loc[8, "signalements"] == "doublon"
    assert ann.loc[12, "signalements"] == "hors_quartier"
    # an unreadable date keeps the annotation, without a date
    assert ann.loc[9, "signalements"] == "date_illisible" and pd.isna(ann.loc[9, "horodatage"])
    assert ann.loc[2, "signalements"] == ""
    assert ann.loc[4, "valence"] == "negatif"  # no valence given: deduced from « chaleur »
    assert ann.loc[2, "theme"] == "chaleur" and ann.loc[4, "theme"] == "chaleur"
    # the swapped row lands where the collège is, like a good row would
    assert ann.loc[4].geometry.within(aulnay.geometry.iloc[0])

    rejects = res.rejects.set_index("ligne")
    assert sorted(rejects.index) == [5, 6, 10]
    assert rejects.loc[5, "raison"] == (
        "coordonnées vides : renseignez latitude et longitude ou une colonne WKT"
    )
    assert rejects.loc[6, "raison"] == (
        "coordonnées hors de France (-30 ; 45) : corrigez la position (degrés décimaux en "
        "WGS84, ou X/Y en Lambert-93)"
    )
    assert rejects.loc[10, "raison"].endswith(
        " km du quartier (au-delà de 2,0 km) : corrigez la position, ou importez ce fichier "
        "pour la commune où il a été saisi"
    )

    out = write_rejects(res.rejects, tmp_path / "rejets.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(out, sep=";", encoding="utf-8-sig", dtype=str)
    assert back[["fichier", "ligne"]].values.tolist() == [
        ["marche_melangee_synthetique.csv", "5"],
        ["marche_melangee_synthetique.csv", "6"],
        ["marche_melangee_synthetique.csv", "10"],
    ]
    assert list(back.columns[:3]) == ["fichier", "ligne", "raison"]
    # names never reach the rejects file: they are pseudonymised there too
    assert "Karim" not in out.read_text(encoding="utf-8-sig")

    text = res.describe()
    assert "11 lu(s) : 8 accepté(s), 3 rejeté(s)" in text
    assert "licorne rose" in text and "ligne 8" in text
    assert (
        "à vérifier — date illisible ou impossible, laissée vide (écrivez JJ/MM/AAAA HH:MM) : "
        "ligne 9 — texte(s) : « le matin »"
    ) in text


def test_html_comment_is_stored_verbatim(mixed_file, aulnay):
    res = import_walks(mixed_file, perimeter=aulnay)
    comment = res.annotations.set_index("source_ligne").loc[11, "commentaire"]
    assert comment == "<script>alert('x')</script> <b>fort</b>"


def test_json_summary(mixed_file, aulnay):
    data = json.loads(json.dumps(import_walks(mixed_file, perimeter=aulnay).to_json_dict()))
    f = data["fichiers"][0]
    assert {k: f[k] for k in ("lus", "acceptes", "rejetes", "corriges", "signales")} == {
        "lus": 11,
        "acceptes": 8,
        "rejetes": 3,
        "corriges": 1,
        "signales": 4,
    }
    assert data["total"]["lus"] == 11
    assert any("rejet" in m for m in f["messages"])


def test_reimport_does_not_duplicate_and_names_stay_out(mixed_file, aulnay, tmp_path):
    store = tmp_path / "annotations.gpkg"
    first = import_walks(mixed_file, perimeter=aulnay, salt="s")
    save_annotations(first, store)
    again = import_walks(mixed_file, perimeter=aulnay, salt="s", existing=load_annotations(store))
    assert set(again.annotations["id"]) == set(first.annotations["id"])
    assert any("déjà présente" in m for m in again.summary[0].messages)
    save_annotations(again, store)
    stored = load_annotations(store)
    assert len(stored) == 8
    assert stored["id"].is_unique
    assert stored.crs.to_epsg() == 2154
    assert stored.set_index("source_ligne").loc[7, "theme_original"] == "licorne rose"
    # the two rows by the same person share a pseudonym; no name in the GeoPackage
    by_line = stored.set_index("source_ligne")["auteur"]
    assert by_line[2] == by_line[4] and by_line[2].startswith("P-")
    blob = store.read_bytes()
    for name in (b"Jeanne", b"Dupont", b"Karim"):
        assert name not in blob
    assert "annotations" in pyogrio.list_layers(store)[:, 0]


def test_rejects_file_keeps_other_files_rows(mixed_file, aulnay, tmp_path, places):
    out = tmp_path / "rejets.csv"
    write_rejects(import_walks(mixed_file, perimeter=aulnay).rejects, out)
    other = tmp_path / "autre_synthetique.csv"
    la, lo = places[GARE]
    other.write_text(f"lat;lon;theme\n;;bruit\n{la};{lo};bruit\n", encoding="utf-8")
    res = import_walks(other)
    write_rejects(res.rejects, out, imported_files=[other.name])
    back = pd.read_csv(out, sep=";", encoding="utf-8-sig", dtype=str)
    assert back["fichier"].value_counts().to_dict() == {
        "marche_melangee_synthetique.csv": 3,
        "autre_synthetique.csv": 1,
    }


def test_large_file_path_frees_tables_early_and_imports_the_same(mixed_file, aulnay):
    """Files of ``_LARGE_ROWS`` rows or more free each table before the annotations are
    built (garbage collection, pyarrow pool release): same result as the small-file path.
    The threshold is lowered so that the mixed file takes the large-file path."""
    from qmi_geo.walks import _importer

    kept = import_walks(mixed_file, perimeter=aulnay, progress=False)
    saved = _importer._LARGE_ROWS
    _importer._LARGE_ROWS = 1
    try:
        freed = import_walks(mixed_file, perimeter=aulnay, progress=False)
    finally:
        _importer._LARGE_ROWS = saved
    pd.testing.assert_frame_equal(freed.annotations, kept.annotations)
    pd.testing.assert_frame_equal(freed.rejects, kept.rejects)
    assert freed.to_json_dict() == kept.to_json_dict()
    assert len(freed.annotations) + len(freed.rejects) == 11


def test_too_far_is_exact_near_the_buffer_edge():
    """Points inside the quarter's 2 km buffer skip the distance; the others (including
    those between the buffer's chords and the true 2 km arc, off a corner) get the exact
    distance, so the rejected rows are exactly those farther than 2 km."""
    import numpy as np
    import shapely
    from shapely.geometry import box

    from qmi_geo.walks._importer import _too_far

    area = box(0, 0, 1000, 1000)
    shapely.prepare(area)
    # off the corner, half-way between two vertices of the buffer's arc: 1999 m away, but
    # beyond the chord (about 1997.6 m there)
    angle = np.radians(45 + 90 / 16 / 2)
    cx, cy = 1000 + 1999 * np.cos(angle), 1000 + 1999 * np.sin(angle)
    x = np.array([500, 1000 + 1990, 1000 + 2010, cx, 1000 + 1415, np.nan])
    y = np.array([500, 500, 500, cy, 1000 + 1415, np.nan])
    reasons = _too_far(x, y, None, np.ones(len(x), dtype=bool), area, 2000.0)
    assert [bool(r) for r in reasons] == [False, False, True, False, True, False]
    assert reasons[2].startswith("à 2,0 km du quartier") and "2,0 km" in reasons[4]
    reach = shapely.buffer(area, 2000.0)
    assert not shapely.intersects_xy(reach, x[3], y[3])  # the exact path was taken
