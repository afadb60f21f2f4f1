from __future__ import annotations

import numpy as np
import pytest

from qmi_geo.errors import SpecError
from qmi_geo.matching import assess_sites, candidate_sites, load_solutions, score_sites


def run(solutions, quarter, **kw):
    sites = candidate_sites({"sites": quarter["sites"]})
    context = {k: v for k, v in quarter.items() if k not in ("sites", "hotspots")}
    res = assess_sites(solutions, sites, context=context, hotspots=quarter["hotspots"], **kw)
    return sites, res


def test_paving_prefers_sealed_car_park_in_heat_hot_spot_over_park(paving, quarter):
    _, res = run(paving, quarter)
    ranked = res.scores.sort_values("rang")
    assert ranked["nom_site"].tolist() == ["Parking du marché", "Parc des Sources"]
    top, park = ranked.iloc[0], ranked.iloc[1]
    assert top["rang"] == 1 and top["total"] > park["total"]
    assert top["besoin"] > park["besoin"] and top["mineralisation"] > park["mineralisation"]
    assert top["theme_principal"] == "chaleur"
    why = top["explication"]
    assert why.startswith("Parking « Parking du marché » de 2\u202f400 m²")
    assert "minéralisé à 95 %" in why
    assert "à 80 m d'un point chaud « chaleur » de 9 annotations" in why
    assert "dans le QPV Rose des Vents" not in why  # qpv not a criterion of this solution


def test_too_small_site_is_excluded_with_its_reason(paving, quarter):
    sites, res = run(paving, quarter)
    tiny = sites.loc[sites["nom"] == "Parking minuscule", "site_id"].item()
    assert tiny not in set(res.scores["site_id"])
    motif = res.excluded.loc[res.excluded["site_id"] == tiny, "motif"].item()
    assert motif == "surface trop petite : 100 m² pour 500 m² au minimum"


def test_real_catalogue_purple_excludes_park_by_kind(quarter):
    purple = load_solutions(only=["purple"])
    sites, res = run(purple, quarter)
    park = sites.loc[sites["type"] == "parc", "site_id"].item()
    motif = res.excluded.loc[res.excluded["site_id"] == park, "motif"].item()
    assert motif.startswith("type de site non accepté : Parc, jardin (acceptés : Parking")
    assert res.scores["nom_site"].tolist() == ["Parking du marché", "Parking minuscule"]


def test_qpv_criterion_and_weights(quarter):
    sols = load_solutions(only=["source-urbaine"])  # qpv favorable, minerale
    quarter["sites"]["type"] = ["place", "place", "place"]
    _, res = run(sols, quarter)
    top = res.scores.iloc[0]
    assert top["qpv"] == 1.0 and "dans le QPV Rose des Vents" in top["explication"]
    far = res.scores.set_index("nom_site").loc["Parc des Sources"]
    assert far["qpv"] == 0.0
    # more weight on the QPV widens the gap; no weight on it removes its effect
    _, heavy = run(sols, quarter, weights={"qpv": 1.0})
    gap = lambda r: r.scores["total"].max() - r.scores["total"].min()  # noqa: E731
    assert gap(heavy) > gap(res)
    with pytest.raises(SpecError, match="Poids inconnu « qvp »"):
        run(sols, quarter, weights={"qvp": 1.0})


def test_unknown_area_passes_but_is_flagged(paving, quarter):
    from shapely.geometry import Point

    quarter["sites"] = quarter["sites"].iloc[:1].set_geometry([Point(652030, 6862020)])
    _, res = run(paving, quarter)
    row = res.scores.iloc[0]
    assert np.isnan(row["surface_m2"]) and row["surface"] == 0.5
    assert row["a_verifier"] == "surface inconnue : à vérifier sur place"
    assert row["explication"].endswith(" ; surface inconnue : à vérifier sur place")


def test_break_required_and_crossing_sites():
    import geopandas as gpd
    from shapely.geometry import LineString

    rues = gpd.GeoDataFrame(
        {"nom": ["Rue du Pont", "Rue Lointaine"]},
        geometry=[LineString([(0, 0), (0, 400)]), LineString([(900, 0), (900, 400)])],
        crs=2154,
    )
    rail = gpd.GeoDataFrame(
        {"type": ["rail"], "nom": ["RER C"]},
        geometry=[LineString([(-50, 200), (300, 200)])],
        crs=2154,
    )
    layers = {"rues": rues, "coupures": rail}
    sites = candidate_sites(layers)
    assert sites["type"].tolist() == ["rue", "rue", "pont"]
    bridges = load_solutions(only=["digiponts92", "tracemob"])
    res = assess_sites(bridges, sites, context=layers)
    digi = res.scores[res.scores["solution_id"] == "digiponts92"]
    assert digi["nom_site"].tolist() == ["Rue du Pont × voie ferrée RER C"]
    trace = res.scores[res.scores["solution_id"] == "tracemob"].set_index("nom_site")
    assert trace.loc["Rue du Pont", "coupures"] > trace.loc["Rue Lointaine", "coupures"]
    assert score_sites(bridges, sites, context=layers).equals(res.scores)


def test_walk_annotations_and_defis_feed_need(paving, quarter):
    import geopandas as gpd
    from shapely.geometry import Point

    park = quarter["sites"].geometry.iloc[1].centroid
    ann = gpd.GeoDataFrame(
        {
            "theme": ["chaleur"] * 4,
            "valence": ["negatif"] * 4,
            "intensite": [3] * 4,
            "poids": [1.0] * 4,
        },
        geometry=[Point(park.x + i, park.y) for i in range(4)],
        crs=2154,
    )
    defis = gpd.GeoDataFrame(
        {"theme": ["eau"], "priorite": [1]}, geometry=[park.buffer(20)], crs=2154
    )
    sites = candidate_sites({"sites": quarter["sites"]})
    res = assess_sites(paving, sites, context={}, annotations=ann, defis=defis)
    row = res.scores.set_index("nom_site").loc["Parc des Sources"]
    assert row["besoin"] > 0.8 and row["defis"] > 0.99
    assert "4 annotations « chaleur » de la marche à moins de 300 m" in row["explication"]
    assert "dans la zone du défi « eau » de l'atelier (priorité 1)" in row["explication"]
