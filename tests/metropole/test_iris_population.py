"""IRIS populations reconcile with the INSEE commune figure, on the real layers."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from qmi_geo.layers.catalogue import load_catalogue
from qmi_geo.layers.communes import (
    POPULATION_METHOD,
    communes_2026,
    iris_codes_by_commune,
    reconcile_iris_population,
)
from qmi_geo.pipeline import load_layers
from qmi_geo.spec import load_spec

NOISY = "93051"  # Underlaid's RP 2021 IRIS sum to 70 376; INSEE 2026: 72 978


def _underlaid() -> gpd.GeoDataFrame:
    src = load_catalogue()["iris_indicateurs"]
    return gpd.read_file(src.path, layer=src.layer).assign(**src.constants)


def test_underlaid_census_counts_are_scaled_to_insee() -> None:
    raw = _underlaid()
    insee = communes_2026()["population"]
    assert raw.loc[raw["insee_com"] == NOISY, "population"].sum() != insee[NOISY]
    out = reconcile_iris_population(raw)
    for code, group in out.groupby("insee_com"):
        before = raw.loc[group.index, "population"].astype(float)
        assert group["population"].sum() == insee[code], code
        assert (group["population"] % 1 == 0).all(), code  # whole people
        # the source's distribution between IRIS is kept (to the rounding of one person)
        expected = before * insee[code] / before.sum()
        assert ((group["population"] - expected).abs() < 1).all(), code
        assert group[POPULATION_METHOD].str.contains("RP 2021").all(), code


def test_a_commune_with_missing_iris_is_left_as_it_is() -> None:
    raw = _underlaid()
    part = raw[raw["insee_com"] == NOISY].iloc[:-1]  # one IRIS of the commune missing
    assert set(part["code_iris"]) < iris_codes_by_commune()[NOISY]
    out = reconcile_iris_population(part)
    pd.testing.assert_series_equal(
        out["population"], part["population"].astype(float), check_names=False
    )
    assert out[POPULATION_METHOD].str.contains("non recalée").all()


def test_pilot_spec_population_iris_is_the_insee_figure() -> None:
    layerset = load_layers(load_spec("noisy-le-grand"), progress=False)
    iris = layerset.layers["iris"]
    own = iris[iris["insee_com"] == NOISY]
    assert own["population"].sum() == communes_2026().loc[NOISY, "population"] == 72_978
    # scaled on the whole layer before clipping: every IRIS kept says how
    assert iris[POPULATION_METHOD].str.startswith("population INSEE de la commune").all()
