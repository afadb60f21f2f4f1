"""Perceptions (annotations, hot spots, FUB streets) and candidate sites."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from qmi_geo.diagnostics import compute_indicators
from qmi_geo.diagnostics.perceptions import (
    annotation_counts,
    negative_share,
    negative_share_in_qpv,
    problem_streets,
)
from qmi_geo.diagnostics.sites import sites_by_kind

KM2 = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=2154)
QPV = gpd.GeoDataFrame(
    {"code_qp": ["QN1"], "lib_qp": ["Ouest"]}, geometry=[box(0, 0, 500, 1000)], crs=2154
)


@pytest.fixture
def annotations():
    return gpd.GeoDataFrame(
        {
            "theme": ["bruit", "bruit", "chaleur", "fraicheur_vegetation", "bruit", "chaleur"],
            "valence": ["negatif", "negatif", "negatif", "positif", "negatif", "negatif"],
            "signalements": ["", "", "", "", "doublon", "hors_quartier"],
            "commentaire": ["<b>trop</b> fort", "", "", "", "", ""],
        },
        geometry=[
            Point(100, 100),
            Point(600, 100),
            Point(200, 900),
            Point(700, 700),
            Point(100, 101),
            Point(5000, 5000),
        ],
        crs=2154,
    )


def test_counts_exclude_duplicates_and_outside(annotations):
    counts = annotation_counts(KM2, annotations, by="theme").iloc[0].to_dict()
    assert counts == {"bruit": 2, "chaleur": 1, "fraicheur_vegetation": 1}


def test_negative_share_and_share_in_qpv(annotations):
    assert negative_share(KM2, annotations).iloc[0] == pytest.approx(75.0)
    # negatives inside: (100,100) in QPV, (600,100) not, (200,900) in QPV
    assert negative_share_in_qpv(KM2, annotations, QPV).iloc[0] == pytest.approx(200 / 3)


def test_problem_streets_count_and_votes():
    streets = gpd.GeoDataFrame(
        {"nom": ["Rue A", "Rue B", "Rue C"], "votes": [4.0, 2.0, 9.0]},
        geometry=[
            LineString([(-100, 500), (100, 500)]),
            LineString([(500, 0), (500, 1000)]),
            LineString([(2000, 0), (3000, 0)]),
        ],
        crs=2154,
    )
    res = problem_streets(KM2, streets).iloc[0]
    assert res["rues_citees"] == 2
    assert res["votes_rues_citees"] == 6


def test_perception_rows_in_the_table(annotations):
    hot = gpd.GeoDataFrame({"theme": ["bruit"]}, geometry=[box(50, 50, 650, 150)], crs=2154)
    table = compute_indicators(
        {"qpv": QPV}, perimeter=KM2, annotations=annotations, hotspots=hot
    ).set_index("code")
    assert table.loc["annotations", "valeur"] == 4
    assert table.loc["annotations_theme_bruit", "libelle"] == "Annotations « Bruit »"
    assert table.loc["annotations_negatif", "valeur"] == 3
    assert table.loc["points_chauds", "valeur"] == 1
    assert table.loc["annotations", "source"].startswith("Marche sensible")
    assert table.loc["rues_citees", "statut"] == "non disponible"


def test_without_walk_perceptions_are_explicitly_missing():
    table = compute_indicators({}, perimeter=KM2).set_index("code")
    assert table.loc["annotations", "statut"] == "non disponible"
    assert "marche sensible" in table.loc["annotations", "note"]


def test_sites_by_kind_counts_and_areas():
    sites = gpd.GeoDataFrame(
        {
            "type": ["parking", "parking", "ecole", "toiture"],
            "surface_m2": [np.nan, 5000.0, np.nan, np.nan],
        },
        geometry=[box(0, 0, 100, 50), Point(300, 300), Point(400, 400), Point(9000, 9000)],
        crs=2154,
    )
    res = sites_by_kind(KM2, sites).set_index("type")
    assert res.loc["parking", "n"] == 2
    assert res.loc["parking", "surface_m2"] == pytest.approx(5000 + 5000)
    assert res.loc["ecole", "n_sans_surface"] == 1
    assert "toiture" not in res.index
    table = compute_indicators({"sites": sites}, perimeter=KM2).set_index("code")
    assert table.loc["sites", "valeur"] == 3
    assert table.loc["sites_parking", "libelle"] == "Sites : Parking"
    assert table.loc["surface_sites_ecole", "statut"] == "non disponible"
    assert "1 site(s) sans surface" in table.loc["surface_sites", "note"]


def test_sites_for_many_zones_with_string_labels():
    zones = gpd.GeoDataFrame(
        geometry=[box(0, 0, 100, 100), box(200, 0, 300, 100)], index=["93005", "92048"], crs=2154
    )
    sites = gpd.GeoDataFrame({"type": ["parking"]}, geometry=[Point(50, 50)], crs=2154)
    from qmi_geo.diagnostics.sites import sites_rows

    rows = sites_rows(zones, {"sites": sites}).set_index(["zone", "code"])["valeur"]
    assert rows[("93005", "sites_parking")] == 1
    # per-kind rows only where the kind has a site, as each quarter's own table gives them
    assert ("92048", "sites_parking") not in rows.index
    assert ("92048", "surface_sites_parking") not in rows.index
    assert rows[("92048", "sites")] == 0
    one = sites_rows(zones.iloc[[1]], {"sites": sites})
    assert set(one["code"]) == set(rows.xs("92048", level="zone").index)


def test_hot_spots_of_fub_streets_alone_are_not_a_walk():
    """Without a walk, clusters of FUB cited streets give « non disponible », not « 0, ok »."""
    from qmi_geo.walks.analysis import hotspots
    from qmi_geo.walks.fub import FUB_WALK_ID

    fub = gpd.GeoDataFrame(
        {
            "marche": [FUB_WALK_ID] * 5,
            "theme": ["velo"] * 5,
            "valence": ["negatif"] * 5,
            "intensite": [2] * 5,
            "poids": [3.0] * 5,
            "signalements": [""] * 5,
        },
        geometry=[Point(400 + 10 * i, 400) for i in range(5)],
        crs=2154,
    )
    spots = hotspots(fub, radius_m=150, min_size=4)
    assert len(spots) >= 1  # the FUB streets do cluster: a count would be computable
    table = compute_indicators(
        {"qpv": QPV}, perimeter=KM2, annotations=fub, hotspots=spots
    ).set_index("code")
    for code in ("annotations", "points_chauds"):
        assert table.loc[code, "statut"] == "non disponible", code
        assert np.isnan(table.loc[code, "valeur"])
        assert "marche sensible" in table.loc[code, "note"]
    walk = fub.assign(marche="marche_1")
    table = compute_indicators(
        {"qpv": QPV}, perimeter=KM2, annotations=walk, hotspots=hotspots(walk, min_size=4)
    ).set_index("code")
    assert table.loc["points_chauds", "statut"] == "ok"
    assert table.loc["points_chauds", "valeur"] >= 1
