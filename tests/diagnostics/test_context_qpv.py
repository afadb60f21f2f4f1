"""Context and QPV indicators on geometries whose answer is known by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from qmi_geo.diagnostics.context import (
    distance_to_nearest,
    iris_weighted_mean,
    iris_weighted_sum,
    quarter_area,
    rail_stations,
)
from qmi_geo.diagnostics.qpv import population_in_qpv, qpv_list, qpv_share
from qmi_geo.errors import LayerError

KM2 = box(0, 0, 1000, 1000)


def zones(*geoms):
    return gpd.GeoDataFrame(
        {"nom": [f"z{i}" for i in range(len(geoms))]},
        geometry=list(geoms),
        crs=2154,
        index=[f"z{i}" for i in range(len(geoms))],
    )


def test_area_and_series_alignment():
    z = zones(KM2, box(0, 0, 2000, 2000))
    area = quarter_area(z)
    assert area.name == "surface_km2"
    assert list(area.index) == ["z0", "z1"]
    assert area.tolist() == pytest.approx([1.0, 4.0])


def test_population_is_area_weighted_when_iris_is_cut():
    # one IRIS of 2 km², 3 000 residents; the quarter covers half of it and all of another
    iris = gpd.GeoDataFrame(
        {"population": [3000.0, 500.0]},
        geometry=[box(0, 0, 2000, 1000), box(-1000, 0, 0, 1000)],
        crs=2154,
    )
    q = zones(box(-1000, 0, 1000, 1000))
    assert iris_weighted_sum(q, iris).iloc[0] == pytest.approx(1500 + 500)


def test_population_unknown_is_nan_not_zero():
    iris = gpd.GeoDataFrame({"population": [np.nan]}, geometry=[KM2], crs=2154)
    assert np.isnan(iris_weighted_sum(zones(KM2), iris).iloc[0])


def test_income_weighted_by_population_inside():
    iris = gpd.GeoDataFrame(
        {"revenu_median": [20000.0, 40000.0, np.nan], "population": [1000.0, 1000.0, 5000.0]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(2000, 0, 3000, 1000)],
        crs=2154,
    )
    # quarter: all of IRIS 1, half of IRIS 2 (so 500 residents), IRIS 3 has no income
    q = zones(box(0, 0, 1500, 1000), box(2000, 0, 3000, 1000))
    res = iris_weighted_mean(q, iris)
    assert res.iloc[0] == pytest.approx((20000 * 1000 + 40000 * 500) / 1500)
    assert np.isnan(res.iloc[1])


def test_distance_to_nearest_from_centroid():
    pts = gpd.GeoDataFrame(geometry=[Point(500, 1500), Point(3000, 500)], crs=2154)
    d = distance_to_nearest(zones(KM2, box(2000, 0, 3000, 1000)), pts)
    assert d.tolist() == pytest.approx([1000.0, 500.0])


def test_rail_stations_keep_rer_and_train_only():
    gares = gpd.GeoDataFrame(
        {
            "nom": ["a", "b", "c", "d"],
            "mode": ["RER", "METRO", "TRAIN / RER / TRAM", "RER"],
            "reseau": ["existant", "existant", "existant", "grand_paris_express"],
        },
        geometry=[Point(0, 0)] * 4,
        crs=2154,
    )
    assert rail_stations(gares)["nom"].tolist() == ["a", "c"]


def test_half_square_in_qpv_is_50_percent():
    qpv = gpd.GeoDataFrame(
        {"code_qp": ["QN09301M"], "lib_qp": ["Demi"]}, geometry=[box(500, 0, 1500, 1000)], crs=2154
    )
    assert qpv_share(zones(KM2), qpv).iloc[0] == pytest.approx(50.0)


def test_overlapping_qpv_are_not_counted_twice():
    qpv = gpd.GeoDataFrame(
        {"code_qp": ["A", "B"]}, geometry=[box(0, 0, 600, 1000), box(400, 0, 1000, 1000)], crs=2154
    )
    assert qpv_share(zones(KM2), qpv).iloc[0] == pytest.approx(100.0)


def test_qpv_list_ignores_slivers_and_names_codes():
    qpv = gpd.GeoDataFrame(
        {"code_qp": ["QN2", "QN1"], "lib_qp": ["Bas", "Haut"]},
        geometry=[box(0, 0, 1000, 500), box(0, 999.5, 1000, 2000)],
        crs=2154,
    )
    assert qpv_list(zones(KM2), qpv).iloc[0] == "QN2 Bas"


def test_population_in_qpv():
    qpv = gpd.GeoDataFrame({"code_qp": ["QN1"]}, geometry=[box(0, 0, 1000, 250)], crs=2154)
    iris = gpd.GeoDataFrame(
        {"population": [1000.0, 2000.0]},
        geometry=[box(0, 0, 1000, 500), box(0, 500, 1000, 1000)],
        crs=2154,
    )
    assert population_in_qpv(zones(KM2), qpv, iris).iloc[0] == pytest.approx(500.0)


def test_crs_mismatch_raises_in_french():
    qpv = gpd.GeoDataFrame({"code_qp": ["QN1"]}, geometry=[box(2.3, 48.8, 2.4, 48.9)], crs=4326)
    with pytest.raises(LayerError, match="reprojetez"):
        qpv_share(zones(KM2), qpv)


def test_clipped_iris_weighted_by_their_original_area():
    # an IRIS of 2 km² (2 000 residents) clipped upstream to the 1 km² inside a buffer
    iris = gpd.GeoDataFrame(
        {"population": [2000.0], "surface_origine_m2": [2e6]},
        geometry=[box(0, 0, 1000, 1000)],
        crs=2154,
    )
    assert iris_weighted_sum(zones(box(0, 0, 500, 1000)), iris).iloc[0] == pytest.approx(500.0)
