"""Zones with no street within reach are skipped by severance_ratio, with the same results."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, box

from qmi_geo.diagnostics.severance import severance_ratio

X0, Y0 = 650_000.0, 6_860_000.0


def _streets() -> gpd.GeoDataFrame:
    lines = [LineString([(X0, Y0 + i * 50), (X0 + 1000, Y0 + i * 50)]) for i in range(21)]
    lines += [LineString([(X0 + i * 250, Y0), (X0 + i * 250, Y0 + 1000)]) for i in range(5)]
    return gpd.GeoDataFrame({"nom": [f"r{i}" for i in range(len(lines))]}, geometry=lines, crs=2154)


def test_far_zone_skipped_and_near_zone_unchanged() -> None:
    near = box(X0, Y0, X0 + 1000, Y0 + 1000)
    far = box(X0 + 20_000, Y0, X0 + 21_000, Y0 + 1000)
    zones = gpd.GeoDataFrame({"nom": ["a", "b"]}, geometry=[near, far], crs=2154)
    breaks = gpd.GeoDataFrame(
        {"type": ["rail", "rail"]},
        geometry=[
            LineString([(X0 + 500, Y0 - 10), (X0 + 500, Y0 + 1010)]),
            LineString([(X0 + 20_500, Y0 - 10), (X0 + 20_500, Y0 + 1010)]),
        ],
        crs=2154,
    )
    both = severance_ratio(zones, breaks, _streets(), n_pairs=10)
    alone = severance_ratio(zones.iloc[[0]], breaks, _streets(), n_pairs=10)
    assert both.iloc[1]["n_paires"] == 0 and np.isnan(both.iloc[1]["ratio_detour"])
    assert both.iloc[0]["n_paires"] > 0
    assert both.iloc[0].tolist() == alone.iloc[0].tolist()
    no_streets = severance_ratio(zones, breaks, _streets().iloc[[]], n_pairs=10)
    assert no_streets["n_paires"].tolist() == [0, 0]
