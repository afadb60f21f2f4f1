"""The long indicator table: contract, sources, CSV, per-IRIS table, real pilot layers."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from qmi_geo.diagnostics import compute_indicators, iris_indicators, write_indicators

KM2 = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=2154)


@dataclass
class FakeSource:  # the attributes the layers stage's Source carries
    kind: str
    attribution: str
    real: bool = True


def test_columns_and_statuses():
    table = compute_indicators({}, perimeter=KM2)
    assert list(table.columns) == [
        "code",
        "theme",
        "libelle",
        "valeur",
        "unite",
        "statut",
        "note",
        "source",
    ]
    assert set(table["statut"]) <= {"ok", "estimé", "non disponible"}
    assert set(table["theme"]) == {
        "Contexte",
        "QPV",
        "Surfaces minéralisées",
        "Coupures",
        "Nuisances",
        "Perceptions",
        "Sites",
    }
    missing = table[table["valeur"].isna()]
    assert (missing["statut"] == "non disponible").all()
    assert (missing["note"].str.len() > 0).all()


def test_sources_attribution_and_synthetic_flag():
    qpv = gpd.GeoDataFrame({"code_qp": ["QN1"]}, geometry=[box(0, 0, 500, 1000)], crs=2154)
    sites = gpd.GeoDataFrame({"type": ["parking"]}, geometry=[box(0, 0, 10, 10)], crs=2154)
    src = [
        FakeSource("qpv", "ANCT – QPV 2024"),
        FakeSource("sites", "Sites de démonstration (synthetique)", real=False),
    ]
    table = compute_indicators({"qpv": qpv, "sites": sites}, perimeter=KM2, sources=src).set_index(
        "code"
    )
    assert table.loc["part_qpv", "source"] == "ANCT – QPV 2024"
    assert "données synthétiques" in table.loc["sites", "note"]
    assert "synthétiques" not in table.loc["part_qpv", "note"]


def test_kind_with_a_source_but_nothing_here_is_zero_not_missing():
    src = [FakeSource("qpv", "ANCT – QPV 2024")]
    table = compute_indicators({}, perimeter=KM2, sources=src).set_index("code")
    assert table.loc["part_qpv", "valeur"] == 0
    assert table.loc["part_qpv", "statut"] == "ok"
    assert table.loc["nb_qpv", "note"] == "aucun QPV"


def test_write_indicators_csv_for_french_excel(tmp_path):
    table = compute_indicators({}, perimeter=KM2)
    path = write_indicators(table, tmp_path / "out")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw.decode("utf-8-sig").splitlines()[0]
    assert header == "Code;Thème;Indicateur;Valeur;Unité;Statut;Note;Source"
    back = pd.read_csv(path, sep=";", encoding="utf-8-sig", decimal=",")
    assert len(back) == len(table)
    assert back.loc[back["Code"] == "surface_km2", "Valeur"].iloc[0] == pytest.approx(1.0)


def test_iris_indicators_cut_by_perimeter():
    iris = gpd.GeoDataFrame(
        {
            "code_iris": ["1", "2"],
            "nom_iris": ["Ouest", "Est"],
            "population": [1000.0, 400.0],
            "revenu_median": [20000.0, 30000.0],
        },
        geometry=[box(0, 0, 500, 1000), box(500, 0, 1500, 1000)],
        crs=2154,
    )
    qpv = gpd.GeoDataFrame({"code_qp": ["QN1"]}, geometry=[box(0, 0, 250, 1000)], crs=2154)
    res = iris_indicators({"iris": iris, "qpv": qpv}, perimeter=KM2).set_index("code_iris")
    assert res.loc["2", "part_iris_dans_quartier"] == pytest.approx(50.0)
    assert res.loc["2", "population"] == pytest.approx(200.0)
    assert res.loc["1", "part_qpv"] == pytest.approx(50.0)
    assert res.loc["2", "part_qpv"] == pytest.approx(0.0)
    assert res.crs.to_epsg() == 2154


@pytest.mark.slow
@pytest.mark.parametrize("slug", ["aulnay-sous-bois", "meudon", "noisy-le-grand", "sceaux"])
def test_pilot_quarters_from_real_layers(slug, pilot_specs):
    from qmi_geo.pipeline import load_layers
    from qmi_geo.spec import load_spec

    spec = load_spec(pilot_specs[slug])
    ls = load_layers(spec, progress=False)
    table = compute_indicators(
        ls.layers, perimeter=ls.perimeter, sources=ls.sources, buffer_m=spec.buffer_m
    ).set_index("code")
    area = float(ls.perimeter.area.iloc[0]) / 1e6
    assert table.loc["surface_km2", "valeur"] == pytest.approx(area)
    assert 0 <= table.loc["part_qpv", "valeur"] <= 100
    assert 20 <= table.loc["part_impermeable", "valeur"] <= 100
    assert table.loc["population", "valeur"] > 10_000
    assert (table["source"].str.len() > 0).all()
    assert not table["valeur"].isna().all()
    if slug == "meudon":  # the only pilot with an OSM street network
        assert table.loc["franchissements", "valeur"] > 0
        assert table.loc["ratio_detour", "valeur"] >= 1
        assert table.loc["part_qpv", "valeur"] == 0  # Meudon has no QPV
    else:
        assert table.loc["ratio_detour", "statut"] == "non disponible"
    if slug == "aulnay-sous-bois":
        assert "QN09349M Rougemont" in table.loc["nb_qpv", "note"]
    assert np.isfinite(table.loc["distance_gare", "valeur"])
