"""Acceptance, as a user runs it: ``qmi diagnose Saint-Denis`` on the real layers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from qmi_geo.pipeline import DiagnoseResult, analyse, indicators_stage, walks_stage
from qmi_geo.spec import load_spec


@pytest.fixture(scope="module")
def saint_denis(tmp_path_factory: pytest.TempPathFactory) -> DiagnoseResult:
    out = tmp_path_factory.mktemp("saint-denis")
    return analyse(load_spec("Saint-Denis"), output_dir=out, stages=[walks_stage, indicators_stage])


def test_population_is_the_insee_figure(saint_denis: DiagnoseResult) -> None:
    table = saint_denis.products["indicators"].set_index("code")
    assert table.loc["population", "valeur"] == 149_077
    assert table.loc["population", "statut"] == "ok"
    iris = table.loc["population_iris"]
    assert iris["statut"] == "estimé" and "logements" in iris["note"]
    assert abs(iris["valeur"] - 149_077) <= 0.02 * 149_077
    assert float(iris["valeur"]).is_integer()


def test_qpv_are_those_of_the_anct_list(saint_denis: DiagnoseResult, layers_dir: Path) -> None:
    anct = pd.read_csv(layers_dir / "anct_qpv2024_liste/qpv2024_idf_commune_qpv.csv", dtype=str)
    expected = set(anct.loc[anct["insee_com"].isin(["93066", "93059"]), "code_qp"])
    note = saint_denis.products["indicators"].set_index("code").loc["nb_qpv", "note"]
    found = {part.split()[0] for part in note.split(" ; ")}
    assert found == expected


def test_stations_inside_the_commune(saint_denis: DiagnoseResult) -> None:
    note = saint_denis.products["indicators"].set_index("code").loc["nb_gares", "note"]
    for station in (
        "Saint-Denis (TRAIN H / RER D",
        "Stade de France-Saint-Denis (RER D)",
        "La Plaine-Stade de France (RER B)",
        "Basilique de Saint-Denis (METRO 13",
        "Saint-Denis - Porte de Paris (METRO 13",
        "Saint-Denis - Université (METRO 13)",
        "Carrefour Pleyel (METRO 13)",
        "Saint-Denis - Pleyel (METRO 14)",
    ):
        assert station in note, station


def test_nothing_computed_under_the_coverage_threshold(saint_denis: DiagnoseResult) -> None:
    ls = saint_denis.layerset
    assert ls.coverage["cours_eau_ddt95"] < 0.95
    table = saint_denis.products["indicators"].set_index("code")
    eau = table.loc["densite_coupures_eau"]
    assert eau["statut"] == "non disponible" and "ne couvre que" in eau["note"]
    # the rail density is computed on IDFM (covers the region) and says what was left out
    rail = table.loc["densite_coupures_rail"]
    assert rail["statut"] == "ok" and "DDT 95" in rail["note"]
    assert "DDT 95" not in rail["source"]


def test_indicators_sit_beside_the_metropole(saint_denis: DiagnoseResult) -> None:
    csv = pd.read_csv(
        saint_denis.files["indicateurs"], sep=";", decimal=",", encoding="utf-8-sig"
    ).set_index("Code")
    pop = csv.loc["population"]
    assert pop["Valeur de la commune"] == 149_077
    assert pop["Rang parmi les communes de la Métropole (1 = la plus élevée)"] == 2  # after Paris
    assert pop["Communes classées"] == 130
    assert pop["Médiane de la Métropole"] > 10_000
