"""The matching on the four pilot communes' real layers: sources, ties, discrimination."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from qmi_geo.matching import allocate, matches_for_map
from qmi_geo.matching.communes import rank_communes
from qmi_geo.matching.suitability import CRITERIA
from qmi_geo.pipeline import analyse, matching_stage, walks_stage
from qmi_geo.spec import load_spec

PILOTS = ("93005", "92048", "93051", "92071")


@pytest.fixture(scope="module")
def pilots(tmp_path_factory):
    out = {}
    base = tmp_path_factory.mktemp("pilotes")
    for insee in PILOTS:
        spec = load_spec(insee)
        res = analyse(
            spec,
            output_dir=Path(base) / insee,
            progress=False,
            stages=[walks_stage, matching_stage],
        )
        out[spec.name] = res
    return out


def _known_sources(res):
    layerset = res.layerset
    names = {s.name for s in layerset.sources if layerset.counts.get(s.name, 0) > 0}
    ann = res.extra_layers.get("annotations")
    if ann is not None and len(ann):
        names |= set(ann["source_fichier"].astype(str))
    from qmi_geo.layers.catalogue import load_tables

    # tables of layers/ joined by code (Cerema LCZ per postal code), not geometry layers
    return names | {"defis_atelier"} | set(load_tables())


def test_every_reason_names_a_source_present_in_the_data(pilots):
    checked = 0
    for res in pilots.values():
        known = _known_sources(res)
        scores = res.products["matching"].suitability.scores
        written = scores[scores["explication"].notna()]
        for sources in written["sources"]:
            for src in filter(None, str(sources).split(";")):
                assert src in known, (res.layerset.spec.name, src)
                checked += 1
        # FUB streets are never walk annotations; no street area from length × width
        assert not written["explication"].str.contains("annotations? « vélo »").any()
        assert not written["explication"].str.contains(r"≈").any()
        services = res.products.get("services")
        if services is not None:
            for sources in services["sources"]:
                assert all(s in known for s in filter(None, str(sources).split(";")))
    assert checked > 500


def test_sceaux_and_noisy_have_no_walk_annotations_in_reasons(pilots):
    for name in ("Sceaux", "Noisy-le-Grand"):
        scores = pilots[name].products["matching"].suitability.scores
        assert not scores["explication"].dropna().str.contains("marche sensible").any()


def test_ties_are_the_same_rank_in_every_output(pilots):
    by_commune = {n: r.products["matching"].suitability.scores for n, r in pilots.items()}
    alloc = allocate(by_commune, min_per_commune=1, max_per_commune=8)
    for row in alloc.assignments.itertuples():
        scores = by_commune[row.commune]
        own = scores[
            (scores["solution_id"] == row.solution_id) & (scores["site_id"] == row.site_id)
        ]
        assert int(own["rang"].iloc[0]) == int(row.rang)
    for name, res in pilots.items():
        matched = res.products["matching"]
        ranked = matches_for_map(matched.suitability.scores, matched.sites, top_n=None)
        merged = ranked.merge(
            matched.suitability.scores,
            left_on=["solution", "site_nom"],
            right_on=["solution_id", "nom_site"],
        )
        assert (merged["rang_x"].astype(int) == merged["rang_y"].astype(int)).all(), name
    ties = sum(int(s["ex_aequo"].sum()) for s in by_commune.values())
    assert ties > 0  # real ties exist (e.g. sites sharing one IRIS) and are flagged


def _commune_ranking(pilots):
    rows = []
    for name, res in pilots.items():
        scores = res.products["matching"].suitability.scores
        rows.append(scores[scores["rang"] == 1].drop_duplicates("solution_id").assign(commune=name))
        if res.products.get("services") is not None:
            rows.append(res.products["services"])
    solutions = next(iter(pilots.values())).products["matching"].solutions
    return rank_communes(pd.concat(rows, ignore_index=True), n_draws=50, solutions=solutions)


#: The pairs whose catalogue requirements differ only where no layer of the pilots can test
#: them: a minimum area (12,5 vs 25 m²; no site of the pilots has a known area). Every other
#: pair must be told apart.
UNTESTABLE_PAIRS = {frozenset({"up-and-charge", "electra"})}


def test_solutions_with_identical_score_vectors_are_reported_indistinguishable(pilots):
    from qmi_geo.matching.communes import requirement_differences

    ranking = _commune_ranking(pilots)
    table = ranking.pivot_table(index="solution_id", columns="commune", values="total")
    key = table.round(4).fillna(-1).apply(tuple, axis=1)
    solutions = {s.id: s for s in next(iter(pilots.values())).products["matching"].solutions}
    first = ranking.drop_duplicates("solution_id").set_index("solution_id")
    flagged, why = first["indiscernable_de"], first["indiscernable_pourquoi"]
    groups = key.groupby(key).groups
    distinct = sum(1 for g in groups.values() if len(g) == 1)
    assert distinct >= len(table) - 2  # 19 of 23 solutions before LCZ water/biodiversity
    # the greening pair (water need), the service pair (biodiversity need) and, since a
    # solution's first theme weighs more than its co-benefits, TiQuest (commerce first) and
    # Vytal (cleanliness first) are apart
    for a, b in (
        ("source-urbaine", "vegetalisation-2nde-vie"),
        ("kunagi", "evolukid"),
        ("tiquest", "vytal"),
    ):
        assert key[a] != key[b], (a, b)
    for members in (m for m in groups.values() if len(m) > 1):
        if table.loc[list(members)].isna().all(axis=None):
            continue  # ranked nowhere: « besoin non mesuré » in every commune
        for a in members:
            others = set(filter(None, flagged[a].split(", ")))
            assert others == set(members) - {a}
            for b in others:
                diff = requirement_differences(solutions[a], solutions[b])
                if diff:
                    assert frozenset({a, b}) in UNTESTABLE_PAIRS, (a, b, diff)
                    assert "ne diffère de" in why[a] and solutions[b].nom in why[a]
                else:
                    assert "exigences identiques" in why[a]
            if table.loc[a].isna().all():
                continue  # ranked nowhere: « besoin non mesuré » in every commune
            for b in set(members) - {a}:
                ra, rb = solutions[a].exigences, solutions[b].exigences
                # what differs is nothing these layers measure: unmeasured themes, a minimum
                # area, site kinds that never hold the best site
                for name, res in pilots.items():
                    # the same evidence, criterion by criterion, at their n°1 sites
                    sc = res.products["matching"].suitability.scores
                    top = (
                        sc[sc["rang"] == 1].drop_duplicates("solution_id").set_index("solution_id")
                    )
                    if a in top.index and b in top.index:
                        va, vb = top.loc[a, list(CRITERIA)], top.loc[b, list(CRITERIA)]
                        assert va.fillna(-1).equals(vb.fillna(-1)), (a, b, name)
                used = (
                    ("qpv", "densite")
                    if ra.sans_site
                    else ("qpv", "gares", "densite", "coupures", "surface_requise")
                )
                assert all(getattr(ra, f) == getattr(rb, f) for f in used), (a, b)


def test_commune_ranking_has_gaps_and_stability(pilots):
    ranking = _commune_ranking(pilots)
    first = ranking[ranking["rang"] == 1].drop_duplicates("solution_id")
    assert (
        first["classement"]
        .isin(
            [
                "classement robuste",
                "classement fragile",
                "une seule commune où le besoin est mesuré",
            ]
        )
        .all()
    )
    assert (first["ecart"].dropna() >= 0).all() and first["ecart"].notna().sum() >= 10
    services = ranking[ranking["statut"] == "service sans site"]
    assert set(services["solution_id"]) <= {
        "evolukid",
        "kunagi",
        "eiko",
        "circular-place",
        "tracemob",
    }
    assert "nom_site" not in services.columns or services["nom_site"].isna().all()


def test_untestable_pair_is_equal_only_because_no_pilot_site_tests_it(pilots):
    """Why Up&Charge / Electra score alike, checked on the data rather than asserted.

    No site they accept has a known area in the four pilots, so Electra's 25 m² minimum never
    binds (a drawn car park does tell them apart: test_suitability). The school requirement
    that separates Vytal from TiQuest is tested site by site: Vytal ranks the collèges.
    """
    schools_ranked = 0
    for name, res in pilots.items():
        sc = res.products["matching"].suitability.scores
        chargers = sc[sc["solution_id"].isin(["up-and-charge", "electra"])]
        assert chargers["surface_m2"].isna().all(), name
        assert not sc.loc[sc["solution_id"] == "tiquest", "type_site"].eq("ecole").any(), name
        schools_ranked += int(sc.loc[sc["solution_id"] == "vytal", "type_site"].eq("ecole").sum())
    assert schools_ranked > 0
