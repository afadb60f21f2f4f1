from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from qmi_geo.errors import SpecError
from qmi_geo.matching import assess_sites, candidate_sites, load_solutions, score_sites
from qmi_geo.matching.suitability import UNMEASURED, competition_rank

X0, Y0 = 652000, 6862000


def run(solutions, quarter, **kw):
    sites = candidate_sites({"sites": quarter["sites"]})
    context = {k: v for k, v in quarter.items() if k not in ("sites", "hotspots")}
    res = assess_sites(
        solutions, sites, context=context, hotspots=quarter.get("hotspots"), n_draws=50, **kw
    )
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
    assert why.startswith("Parking « Parking du marché », surface : 2\u202f400 m²")
    assert "IRIS imperméabilisé à 95 %" in why
    assert "à 80 m d'un point chaud « chaleur » de 9 annotations de la marche sensible" in why
    assert "besoin non mesuré : eau" in why  # nothing measures water here: said, not hidden
    assert "QPV" not in why  # social fragility is not a criterion of this solution


def heat_quarter():
    """A workshop car park in a heat hot spot, an OSM car park in a cool IRIS, the quarter."""
    atelier = box(X0, Y0, X0 + 40, Y0 + 31)  # 1 240 m²
    osm = box(X0 + 1500, Y0, X0 + 1560, Y0 + 50)  # 3 000 m², bigger but cool
    sites = gpd.GeoDataFrame(
        {
            "type": ["parking", "parking"],
            "nom": ["Parking de la mairie", "Parking du stade"],
            "source": ["sites_atelier", "osm_sites"],
            "origine": ["atelier", "osm"],
        },
        geometry=[atelier, osm],
        crs=2154,
    )
    iris = gpd.GeoDataFrame(
        {"code_iris": ["1", "2"], "nom_iris": ["Centre", "Stade"], "thermal_rank": [0.93, 0.2]},
        geometry=[
            box(X0 - 500, Y0 - 500, X0 + 700, Y0 + 500),
            box(X0 + 700, Y0 - 500, X0 + 2500, Y0 + 500),
        ],
        crs=2154,
    ).assign(source="iris_indicateurs")
    sealed = iris[["geometry"]].assign(taux_impermeable=[0.6, 0.6], source="mos")
    quartier = gpd.GeoDataFrame(geometry=[box(X0 - 400, Y0 - 400, X0 + 2400, Y0 + 400)], crs=2154)
    hotspots = gpd.GeoDataFrame(
        {"theme": ["chaleur"], "n_annotations": [7]},
        geometry=[Point(X0 + 20, Y0 + 15).buffer(40)],
        crs=2154,
    )
    return sites, {"iris": iris, "surfaces_minerales": sealed, "quartier": quartier}, hotspots


def test_workshop_car_park_in_heat_hot_spot_ranks_first_for_permeable_paving():
    sites, context, hotspots = heat_quarter()
    sites = candidate_sites({"sites": sites, "quartier": context["quartier"]})
    purple = load_solutions(only=["purple"])  # permeable paving (dalles perméables)
    res = assess_sites(purple, sites, context=context, hotspots=hotspots, n_draws=50)
    top = res.scores.iloc[0]
    assert top["nom_site"] == "Parking de la mairie" and top["rang"] == 1
    assert res.scores.iloc[1]["total"] < top["total"]
    assert "surface : 1\u202f240 m² (dessinée en atelier)" in top["explication"]
    assert "IRIS Centre parmi les 7 % les plus exposés à la chaleur" in top["explication"]
    assert "point chaud « chaleur » de 7 annotations" in top["explication"]
    assert set(top["sources"].split(";")) == {"sites_atelier", "iris_indicateurs", "mos", "marche"}
    summary = res.summary.set_index("solution_id").loc["purple"]
    assert summary["ecart"] == pytest.approx(top["total"] - res.scores.iloc[1]["total"])
    assert summary["classement"] in ("classement robuste", "classement fragile")


def bridge_quarter():
    rail = gpd.GeoDataFrame(
        {"type": ["rail"], "nom": ["RER C"], "source": ["rail_idfm"]},
        geometry=[LineString([(-500, 200), (2500, 200)])],
        crs=2154,
    )
    rues = gpd.GeoDataFrame(
        {
            "nom": ["Rue du Viaduc", "Rue du Passage", "Rue Lointaine"],
            "bridge": ["yes", None, None],  # OSM: only the first is on a bridge
            "source": "osm_rues",
        },
        geometry=[
            LineString([(0, 0), (0, 400)]),
            LineString([(1200, 0), (1200, 400)]),
            LineString([(2000, 500), (2000, 900)]),
        ],
        crs=2154,
    )
    return {"rues": rues, "coupures": rail}


def test_bridge_monitoring_ranks_osm_bridge_over_railway_above_a_level_crossing():
    layers = bridge_quarter()
    sites = candidate_sites(layers)
    kinds = dict(zip(sites["nom"], sites["type"], strict=True))
    assert kinds["Pont Rue du Viaduc sur la voie ferrée RER C"] == "pont"
    assert kinds["Rue du Passage × voie ferrée RER C (sans pont connu)"] == "croisement"
    digi = load_solutions(only=["digiponts92"])
    res = assess_sites(digi, sites, context=layers, n_draws=20)
    assert res.scores["nom_site"].tolist() == ["Pont Rue du Viaduc sur la voie ferrée RER C"]
    assert "Pont" in res.scores.iloc[0]["explication"]
    level = sites.loc[sites["type"] == "croisement", "site_id"].item()
    motif = res.excluded.set_index("site_id").loc[level, "motif"]
    assert motif.startswith("type de site non accepté : Croisement sans pont connu")
    # no site name calls a plain street/rail intersection a bridge
    assert not sites.loc[sites["type"] == "croisement", "nom"].str.contains("Pont").any()


def test_untagged_crossings_of_a_navigable_river_or_by_a_bridge_street_are_presumed_bridges():
    """The Seine is crossed on a bridge, tag or not; a culverted stream (la Morée) is not."""
    water = gpd.GeoDataFrame(
        {"type": ["eau", "eau", "rail"], "nom": ["La Seine", "La Morée", "RER C"]},
        geometry=[
            LineString([(-500, 200), (1500, 200)]),
            LineString([(-500, 1200), (1500, 1200)]),
            LineString([(-500, 2200), (1500, 2200)]),
        ],
        crs=2154,
    )
    rues = gpd.GeoDataFrame(
        {
            "nom": ["Quai Ouest", "Rue Jacques Duclos", "Pont des Jardies", "Rue du Passage"],
            "bridge": [None, None, "yes", None],
        },
        geometry=[
            LineString([(0, 0), (0, 400)]),
            LineString([(0, 1000), (0, 1400)]),
            LineString([(400, 2000), (400, 2400)]),
            LineString([(1200, 2000), (1200, 2400)]),
        ],
        crs=2154,
    )
    sites = candidate_sites({"rues": rues, "coupures": water})
    cross = sites[sites["type"].isin(["pont", "croisement"])]
    kinds = dict(zip(cross["nom"], cross["type"], strict=True))
    assert kinds == {
        "Pont Quai Ouest sur le cours d'eau La Seine (pont présumé : voie d'eau navigable, "
        "qui ne se franchit pas à niveau)": "pont",
        "Rue Jacques Duclos × cours d'eau La Morée (sans pont connu)": "croisement",
        "Pont des Jardies sur la voie ferrée RER C": "pont",  # tagged, not « Pont Pont des … »
        "Rue du Passage × voie ferrée RER C (sans pont connu)": "croisement",
    }
    # a bridge over both arms of the river is one site, not two with the same name
    arms = pd.concat(
        [water, water.iloc[[0]].set_geometry([LineString([(-500, 350), (1500, 350)])])],
        ignore_index=True,
    )
    sites = candidate_sites({"rues": rues, "coupures": arms})
    over = sites[sites["nom"].str.startswith("Pont Quai Ouest")]
    assert len(over) == 1 and over.geometry.iloc[0].y == pytest.approx(275)
    # an untagged street named as a bridge over a railway is one too
    named = rues.assign(bridge=None)
    sites = candidate_sites({"rues": named, "coupures": water})
    assert (
        "Pont des Jardies sur la voie ferrée RER C (pont présumé : la rue porte le nom d'un pont)"
        in set(sites.loc[sites["type"] == "pont", "nom"])
    )


def test_requirements_that_differ_tell_solutions_apart_where_a_site_tests_them():
    """Up&Charge / Electra (12,5 vs 25 m²) and TiQuest / Vytal (schools) part on such sites.

    No site of the four pilots has a known area, so the chargers' commune scores are equal
    there (reported « indiscernable », see test_pilots); a drawn car park of 20 or 30 m² tells
    them apart, as a collège tells the two shop solutions apart.
    """
    quartier = gpd.GeoDataFrame(geometry=[box(X0 - 400, Y0 - 400, X0 + 2400, Y0 + 400)], crs=2154)
    drawn = gpd.GeoDataFrame(
        {
            "type": ["parking", "parking", "college"],
            "nom": ["Deux places", "Trois places", "Collège Jean Moulin"],
            "source": "sites_atelier",
            "origine": "atelier",
        },
        geometry=[
            box(X0, Y0, X0 + 4, Y0 + 5),  # 20 m²
            box(X0 + 100, Y0, X0 + 106, Y0 + 5),  # 30 m²
            Point(X0 + 500, Y0),
        ],
        crs=2154,
    )
    nuisances = gpd.GeoDataFrame(
        {"nb_nuisances": [3]},
        geometry=[box(X0 - 500, Y0 - 500, X0 + 2500, Y0 + 500)],
        crs=2154,
    )
    sites = candidate_sites({"sites": drawn, "quartier": quartier})
    chargers = load_solutions(only=["up-and-charge", "electra"])
    res = assess_sites(
        chargers, sites, context={"quartier": quartier, "nuisances": nuisances}, n_draws=0
    )
    by = res.scores.set_index(["solution_id", "nom_site"])
    assert ("electra", "Deux places") not in by.index  # 20 m² < 25 m²
    motif = res.excluded.set_index(["solution_id", "site_id"])["motif"]
    small = sites.loc[sites["nom"] == "Deux places", "site_id"].item()
    assert motif[("electra", small)] == "surface trop petite : moins de 25 m² au minimum"
    assert by.loc[("up-and-charge", "Trois places"), "surface"] == 1.0  # twice 12,5 m²
    assert by.loc[("electra", "Trois places"), "surface"] < 0.7  # just above 25 m²
    assert (
        by.loc[("up-and-charge", "Trois places"), "total"]
        > by.loc[("electra", "Trois places"), "total"]
    )
    litter = gpd.GeoDataFrame(  # walk annotations « propreté » at the collège's gate
        {"theme": ["proprete"] * 3, "marche": "m1", "source_fichier": "marche.csv"},
        geometry=[Point(X0 + 500 + d, Y0) for d in (5, 10, 15)],
        crs=2154,
    )
    shops = load_solutions(only=["tiquest", "vytal"])
    res = assess_sites(shops, sites, context={"quartier": quartier}, annotations=litter, n_draws=0)
    college = sites.loc[sites["nom"] == "Collège Jean Moulin", "site_id"].item()
    ranked = res.scores.set_index(["solution_id", "site_id"])
    assert ("tiquest", college) not in ranked.index
    excluded = res.excluded.set_index(["solution_id", "site_id"])["motif"]
    assert excluded[("tiquest", college)].startswith("type de site non accepté : École, collège")
    assert ranked.loc[("vytal", college), "rang"] == 1  # the school canteen's gate


def test_a_solutions_first_theme_weighs_more_than_its_co_benefits():
    """TiQuest (receipts: commerce first, litter second) and Vytal (containers: litter first,
    commerce second) rank the same two streets in opposite orders."""
    quartier = gpd.GeoDataFrame(geometry=[box(X0 - 400, Y0 - 400, X0 + 2400, Y0 + 400)], crs=2154)
    rues = gpd.GeoDataFrame(
        {"type": ["rue", "rue"], "nom": ["Rue du Marché", "Rue des Dépôts"]},
        geometry=[
            LineString([(X0, Y0), (X0 + 200, Y0)]),
            LineString([(X0 + 1500, Y0), (X0 + 1700, Y0)]),
        ],
        crs=2154,
    )
    ann = gpd.GeoDataFrame(
        {
            "theme": ["commerces_animation"] * 4 + ["proprete"] * 4,
            "marche": "m1",
            "source_fichier": "marche.csv",
        },
        geometry=[Point(X0 + 50 * k, Y0 + 5) for k in range(4)]
        + [Point(X0 + 1500 + 50 * k, Y0 + 5) for k in range(4)],
        crs=2154,
    )
    sites = candidate_sites({"sites": rues, "quartier": quartier})
    res = assess_sites(
        load_solutions(only=["tiquest", "vytal"]),
        sites,
        context={"quartier": quartier},
        annotations=ann,
        n_draws=0,
    )
    by = res.scores.set_index(["solution_id", "nom_site"])
    first = res.scores[res.scores["rang"] == 1].set_index("solution_id")["nom_site"]
    assert first["tiquest"] == "Rue du Marché" and first["vytal"] == "Rue des Dépôts"
    # the same evidence, weighted by the theme it measures: the need differs, the rest does not
    assert (
        by.loc[("tiquest", "Rue du Marché"), "besoin"]
        == by.loc[("vytal", "Rue des Dépôts"), "besoin"]
    )
    assert (
        by.loc[("tiquest", "Rue des Dépôts"), "besoin"]
        < by.loc[("vytal", "Rue des Dépôts"), "besoin"]
    )
    why = by.loc[("tiquest", "Rue des Dépôts"), "explication"]
    assert "« propreté »" in why and "(thème secondaire de la solution : compte pour moitié)" in why
    assert "compte pour moitié" not in by.loc[("vytal", "Rue des Dépôts"), "explication"]
    assert by.loc[("tiquest", "Rue du Marché"), "theme_principal"] == "commerces_animation"


def test_greening_counts_the_sealed_share_once():
    sites, context, _ = heat_quarter()
    sites = candidate_sites({"sites": sites, "quartier": context["quartier"]})
    sols = load_solutions(only=["vegetalisation-2nde-vie", "cumulusland"])
    res = assess_sites(sols, sites, context=context, n_draws=0)
    summary = res.summary.set_index("solution_id")
    # mineral-ground greening: the sealed share is its mineralisation criterion, not a need too
    assert "impermeable" not in summary.loc["vegetalisation-2nde-vie", "preuves"].split(", ")
    assert summary.loc["cumulusland", "preuves"].split(", ").count("impermeable") <= 1
    more = context | {
        "surfaces_minerales": context["surfaces_minerales"].assign(taux_impermeable=0.9)
    }
    res2 = assess_sites(sols, sites, context=more, n_draws=0)
    veg1 = res.scores[res.scores["solution_id"] == "vegetalisation-2nde-vie"].set_index("nom_site")
    veg2 = res2.scores[res2.scores["solution_id"] == "vegetalisation-2nde-vie"].set_index(
        "nom_site"
    )
    assert (veg1["besoin"] == veg2["besoin"]).all()  # the need does not move with the sealed share
    assert (veg2["mineralisation"] > veg1["mineralisation"]).all()
    # the sealed share enters the total once: Δtotal = w_min × Δshare / Σw
    w = res.weights
    on = ["besoin", "mineralisation", "qpv", "surface"]
    den = sum(w[k] for k in on if not np.isnan(veg1[k].iloc[0]))
    delta = (veg2["total"] - veg1["total"]).iloc[0]
    assert delta == pytest.approx(w["mineralisation"] * 0.3 / den, abs=2e-4)


def test_site_outside_the_quarter_is_listed_not_ranked():
    sites, context, _ = heat_quarter()
    far = gpd.GeoDataFrame(
        {"type": ["parking"], "nom": ["Parking de la commune voisine"], "source": ["osm_sites"]},
        geometry=[box(X0 + 3000, Y0, X0 + 3050, Y0 + 50)],  # 550 m beyond the quarter
        crs=2154,
    )
    near = far.assign(nom="Parking limitrophe").set_geometry(
        [box(X0 + 2450, Y0, X0 + 2480, Y0 + 30)]
    )
    allsites = gpd.GeoDataFrame(pd.concat([sites, far, near], ignore_index=True), crs=2154)
    sites = candidate_sites({"sites": allsites, "quartier": context["quartier"]})
    inside = dict(zip(sites["nom"], sites["dans_quartier"], strict=True))
    assert inside == {
        "Parking de la mairie": True,
        "Parking du stade": True,
        "Parking de la commune voisine": False,
        "Parking limitrophe": True,  # 50 m beyond: within the documented margin (100 m)
    }
    res = assess_sites(load_solutions(only=["purple"]), sites, context=context, n_draws=0)
    assert "Parking de la commune voisine" not in set(res.scores["nom_site"])
    motif = (
        res.excluded.merge(sites, on="site_id")
        .set_index("nom")
        .loc["Parking de la commune voisine", "motif"]
    )
    assert motif.startswith("hors du quartier d'innovation")


def test_solution_whose_needs_nothing_measures_is_not_ranked_on_qpv_alone(quarter):
    eiko_like = load_solutions(only=["worm-generation"])  # propreté, biodiversité
    quarter["sites"]["type"] = ["ecole", "ecole", "ecole"]
    _, res = run(eiko_like, quarter)
    assert (res.scores["statut"] == UNMEASURED).all()
    assert res.scores["total"].isna().all() and res.scores["rang"].isna().all()
    row = res.summary.iloc[0]
    assert row["statut"] == UNMEASURED and row["besoins_non_mesures"] == "propreté, biodiversité"


def test_ties_share_one_rank_and_are_flagged():
    assert competition_rank(np.array([0, 0, 0, 0]), np.array([0.8, 0.5, 0.5, 0.1])).tolist() == [
        1.0,
        2.0,
        2.0,
        4.0,
    ]
    twins = gpd.GeoDataFrame(
        {"type": ["place", "place"], "nom": ["Place B", "Place A"]},
        geometry=[box(0, 0, 50, 50), box(5000, 0, 5050, 50)],
        crs=2154,
    )
    sites = candidate_sites({"sites": twins})
    res = assess_sites(
        load_solutions(only=["mube"]),
        sites,
        context={},
        hotspots=gpd.GeoDataFrame(
            {"theme": ["chaleur", "chaleur"], "n_annotations": [5, 5]},
            geometry=[Point(25, 25), Point(5025, 25)],
            crs=2154,
        ),
        n_draws=10,
    )
    assert res.scores["rang"].tolist() == [1, 1] and res.scores["ex_aequo"].all()
    assert res.scores["nom_site"].tolist() == ["Place A", "Place B"]  # documented order: name
    assert res.summary.iloc[0]["ecart"] == 0.0 and res.summary.iloc[0]["ex_aequo_en_tete"] == 2


def test_too_small_site_is_excluded_with_its_reason(paving, quarter):
    sites, res = run(paving, quarter)
    tiny = sites.loc[sites["nom"] == "Parking minuscule", "site_id"].item()
    assert tiny not in set(res.scores["site_id"])
    row = res.excluded.loc[res.excluded["site_id"] == tiny].iloc[0]
    assert row["motif"] == "surface trop petite : moins de 500 m² au minimum"
    assert row["surface_m2"] == 100


def test_real_catalogue_purple_excludes_park_by_kind(quarter):
    purple = load_solutions(only=["purple"])
    sites, res = run(purple, quarter)
    park = sites.loc[sites["type"] == "parc", "site_id"].item()
    motif = res.excluded.loc[res.excluded["site_id"] == park, "motif"].item()
    assert motif.startswith("type de site non accepté : Parc, jardin (acceptés : Parking")
    assert res.scores["nom_site"].tolist() == ["Parking du marché", "Parking minuscule"]


def test_social_fragility_criterion_and_weights(quarter):
    sols = load_solutions(only=["source-urbaine"])  # qpv favorable, minerale
    quarter["sites"]["type"] = ["place", "place", "place"]
    _, res = run(sols, quarter)
    top = res.scores.iloc[0]
    assert top["qpv"] == 1.0 and "dans le QPV Rose des Vents (ANCT, QPV 2024)" in top["explication"]
    far = res.scores.set_index("nom_site").loc["Parc des Sources"]
    assert far["qpv"] == 0.0
    _, heavy = run(sols, quarter, weights={"qpv": 1.0})
    gap = lambda r: r.scores["total"].max() - r.scores["total"].min()  # noqa: E731
    assert gap(heavy) > gap(res)
    with pytest.raises(SpecError, match="Poids inconnu « qvp »"):
        run(sols, quarter, weights={"qvp": 1.0})


def test_unknown_area_passes_but_is_flagged(paving, quarter):
    quarter["sites"] = quarter["sites"].iloc[:1].set_geometry([Point(652030, 6862020)])
    _, res = run(paving, quarter)
    row = res.scores.iloc[0]
    assert np.isnan(row["surface_m2"]) and row["surface"] == 0.5
    assert row["a_verifier"] == "surface inconnue : à vérifier sur place"
    assert ", surface inconnue ;" in row["explication"]


def test_streets_have_no_invented_area_and_are_merged_by_name():
    rues = gpd.GeoDataFrame(
        {"nom": ["Rue Haute", "Rue Haute", "Rue Basse"]},
        geometry=[
            LineString([(0, 0), (0, 600)]),
            LineString([(0, 600), (0, 1300)]),
            LineString([(50, 0), (50, 90)]),
        ],
        crs=2154,
    )
    sites = candidate_sites({"rues": rues})
    assert sorted(sites["nom"]) == ["Rue Basse", "Rue Haute"]
    haute = sites.set_index("nom").loc["Rue Haute"]
    assert np.isnan(haute["surface_m2"]) and haute["surface_source"] == "inconnue"
    assert haute["longueur_m"] == pytest.approx(1300)
    res = assess_sites(load_solutions(only=["purple"]), sites, context={}, n_draws=0)
    assert not res.scores["explication"].str.contains(r"\d ha\b").any()
    assert (
        res.scores.set_index("nom_site")
        .loc["Rue Haute", "explication"]
        .startswith("Rue « Rue Haute », longueur 1,3 km, surface inconnue")
    )


def test_walk_annotations_and_defis_feed_need(paving, quarter):
    park = quarter["sites"].geometry.iloc[1].centroid
    ann = gpd.GeoDataFrame(
        {
            "marche": ["m1"] * 4 + ["fub_barometre_2017"],
            "theme": ["chaleur"] * 4 + ["velo"],
            "valence": ["negatif"] * 5,
            "intensite": [3] * 5,
            "horodatage": ["2023-05-15T10:00"] * 4 + [None],
            "source_fichier": ["sceaux_marche.gpx"] * 4 + ["fub2017_rues_citees"],
        },
        geometry=[Point(park.x + i, park.y) for i in range(5)],
        crs=2154,
    )
    defis = gpd.GeoDataFrame(
        {"theme": ["eau"], "priorite": [1]}, geometry=[park.buffer(20)], crs=2154
    )
    sites = candidate_sites({"sites": quarter["sites"]})
    res = assess_sites(paving, sites, context={}, annotations=ann, defis=defis, n_draws=0)
    row = res.scores.set_index("nom_site").loc["Parc des Sources"]
    # heat is the paving's purpose, water a co-benefit: its challenge counts half, and says so
    assert row["besoin"] > 0.8 and row["defis"] == pytest.approx(0.5, abs=0.001)
    assert (
        "4 annotations « chaleur » de la marche sensible du 15/05/2023 à moins de 300 m ;"
        in row["explication"]
    )
    assert (
        "dans la zone du défi « eau » de l'atelier (priorité 1) (thème secondaire de la "
        "solution : compte pour moitié)" in row["explication"]
    )
    assert "besoin non mesuré" not in row["explication"]  # the défi measures water
    assert "vélo" not in row["explication"]  # FUB streets are never walk annotations
    assert set(row["sources"].split(";")) >= {"sceaux_marche.gpx", "defis_atelier"}


def test_synthetic_walks_are_named_as_such(paving, quarter):
    park = quarter["sites"].geometry.iloc[1].centroid
    ann = gpd.GeoDataFrame(
        {
            "marche": ["demo"] * 3,
            "theme": ["chaleur"] * 3,
            "valence": ["negatif"] * 3,
            "source_fichier": ["meudon_marche_synthetique.gpx"] * 3,
        },
        geometry=[Point(park.x + i, park.y) for i in range(3)],
        crs=2154,
    )
    sites = candidate_sites({"sites": quarter["sites"]})
    res = assess_sites(paving, sites, context={}, annotations=ann, n_draws=0)
    why = res.scores.set_index("nom_site").loc["Parc des Sources", "explication"]
    assert "marche sensible synthétique « meudon_marche_synthetique.gpx »" in why


def test_break_required_and_score_sites_agree():
    layers = bridge_quarter()
    sites = candidate_sites(layers)
    sols = load_solutions(only=["digiponts92", "ecoflow"])
    res = assess_sites(sols, sites, context=layers, n_draws=0)
    eco = res.scores[res.scores["solution_id"] == "ecoflow"].set_index("nom_site")
    assert "Rue Lointaine" in eco.index
    assert score_sites(sols, sites, context=layers)[["site_id", "total"]].equals(
        res.scores[["site_id", "total"]]
    )


def test_commune_inventory_with_addresses_only_is_a_clear_french_error(tmp_path):
    from qmi_geo.errors import LayerError
    from qmi_geo.layers import read_vector

    csv = tmp_path / "inventaire_sites_synthetique.csv"
    csv.write_text("nom;type;adresse\nParking de la mairie;parking;1 place de la Mairie\n", "utf-8")
    with pytest.raises(LayerError, match="adresses .*pas de coordonnées. Géocodez-le"):
        read_vector(csv)


def test_project_holder_map_says_how_robust_the_ranking_is(tmp_path):
    from qmi_geo.maps import build_solution_map
    from qmi_geo.matching import matches_for_map

    sites, context, hotspots = heat_quarter()
    sites = candidate_sites({"sites": sites, "quartier": context["quartier"]})
    purple = load_solutions(only=["purple"])
    res = assess_sites(purple, sites, context=context, hotspots=hotspots, n_draws=50)
    label = res.summary.iloc[0]["classement"]
    assert label in ("classement robuste", "classement fragile")
    ranked = matches_for_map(res.scores, sites)
    page = build_solution_map(
        purple[0],
        ranked,
        perimeter=context["quartier"].assign(nom="Q"),
        layers=context,
        out_path=tmp_path / "purple.html",
    )
    assert f"Purple — sites candidats à Q — {label}" in page.read_text(encoding="utf-8")
