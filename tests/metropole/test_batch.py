"""The metropolitan batch on a real dask.distributed LocalCluster, on the real layers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyogrio
import pytest

from qmi_geo.diagnostics.coverage import COVERAGE_THRESHOLD
from qmi_geo.layers.communes import communes_2026, metropole_communes, metropole_reference
from qmi_geo.metropole import metropolitan_table, reference_table, run_metropole
from qmi_geo.pipeline import diagnose, indicators_stage, walks_stage
from qmi_geo.spec import load_spec

FEW = ["92071", "94043"]  # Sceaux, Le Kremlin-Bicêtre: small communes, quick


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> object:
    out = tmp_path_factory.mktemp("metropole")
    return run_metropole([*FEW, "00000"], out, n_workers=2, progress=False)


def test_each_commune_is_identical_to_a_single_diagnose(batch: object, tmp_path: Path) -> None:
    results = {r["insee"]: r for r in batch.results}  # type: ignore[attr-defined]
    for code in FEW:
        assert results[code]["ok"], results[code]["erreur"]
        single = diagnose(
            load_spec(code), output_dir=tmp_path / code, stages=[walks_stage, indicators_stage]
        )
        mine = single.products["indicators"][["code", "valeur", "statut", "note"]]
        theirs = pd.DataFrame(results[code]["indicateurs"])[["code", "valeur", "statut", "note"]]
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), theirs)
        assert (batch.output_dir / single.layerset.spec.slug / "indicateurs.csv").exists()  # type: ignore[attr-defined]


def test_a_failing_commune_does_not_stop_the_others(batch: object) -> None:
    failures = batch.failures  # type: ignore[attr-defined]
    assert [f["insee"] for f in failures] == ["00000"]
    assert "inconnu" in failures[0]["erreur"]
    text = (batch.output_dir / "echecs.csv").read_text(encoding="utf-8-sig")  # type: ignore[attr-defined]
    assert "00000" in text


def test_metropolitan_outputs(batch: object) -> None:
    files = batch.files  # type: ignore[attr-defined]
    table = pd.read_csv(files["tableau"], sep=";", decimal=",", dtype={"insee": str})
    assert list(table["insee"].dropna()) == FEW
    assert table["commune"].iloc[-1] == "Médiane de la Métropole"
    pop = communes_2026().loc["92071", "population"]
    assert table.loc[0, "population (habitants)"] == pop
    assert pyogrio.read_info(files["geopackage"], layer="communes")["features"] == 2
    page = files["comparaison"].read_text(encoding="utf-8")
    assert "data:image/png;base64," in page and "http" not in page.split("<body>")[1]
    assert files["carte_population"].stat().st_size > 10_000


def test_committed_reference_matches_a_fresh_computation(batch: object) -> None:
    ref = metropole_reference()
    assert ref is not None and set(ref["insee"]) == set(metropole_communes())
    done = [r for r in batch.results if r["ok"]]  # type: ignore[attr-defined]
    fresh = metropolitan_table(done)
    for code in FEW:
        mine = ref[ref["insee"] == code].set_index("code")["valeur"]
        pd.testing.assert_series_equal(
            fresh.loc[code].reindex(mine.index).astype(float),
            mine.astype(float),
            check_names=False,
            rtol=1e-5,
        )


@pytest.mark.long
def test_whole_metropole_batch_on_the_real_layers(tmp_path: Path) -> None:
    """All 130 communes: figures only on covering sources, IRIS population = INSEE ± 2 %."""
    batch = run_metropole(metropole_communes(), tmp_path, n_workers=2, progress=False)
    assert not batch.failures, batch.failures
    fed_by = {
        "surfaces_minerales": ("part_impermeable", "impermeabilite_moyenne"),
        "nuisances": ("part_nuisances_2plus", "part_points_noirs"),
        "iris": ("population_iris", "revenu_median"),
        "qpv": ("part_qpv", "nb_qpv"),
        "gares": ("distance_gare", "nb_gares"),
    }
    insee = communes_2026()["population"]
    underlaid: list[str] = []
    for res in batch.results:
        table = pd.DataFrame(res["indicateurs"]).set_index("code")
        missing = table[table["statut"] == "non disponible"]
        assert (missing["note"].str.len() > 0).all(), res["insee"]
        assert missing["valeur"].isna().all(), res["insee"]
        for kind, codes in fed_by.items():
            shares = [res["couverture"][s] for s, k in res["sources"].items() if k == kind]
            if shares and max(shares) < COVERAGE_THRESHOLD:
                for code in codes:
                    assert table.loc[code, "statut"] == "non disponible", (res["insee"], code)
                    assert "ne couvre que" in table.loc[code, "note"], (res["insee"], code)
        assert table.loc["population", "valeur"] == insee[res["insee"]]
        # every commune, pilots included: the summed IRIS population reconciles with INSEE
        # (region-wide IRIS: INSEE spread by dwellings; Underlaid's IRIS of the five pilot
        # specs: their RP 2021 counts scaled to the INSEE figure)
        iris = table.loc["population_iris"]
        assert iris["statut"] == "estimé", res["insee"]
        assert abs(iris["valeur"] - insee[res["insee"]]) <= 0.02 * insee[res["insee"]], (
            res["insee"],
            iris["valeur"],
        )
        assert "population INSEE de la commune" in iris["note"], (res["insee"], iris["note"])
        if "iris_indicateurs" in res["sources"]:
            underlaid.append(res["insee"])
    assert len(underlaid) == 5, underlaid  # the pilot specs' IRIS were checked too
    fresh = reference_table(metropolitan_table(batch.results))
    ref = metropole_reference()
    assert ref is not None
    merged = ref.merge(fresh, on=["insee", "code"], suffixes=("", "_frais"))
    assert len(merged) == len(ref)
    assert ((merged["valeur"] - merged["valeur_frais"]).abs().fillna(0) < 1e-3).all()
    assert (merged["rang"].fillna(0) == merged["rang_frais"].fillna(0)).all()
