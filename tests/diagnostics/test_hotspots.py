"""Gi* hot spots with permutation inference and FDR correction, on hand-made point patterns."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from qmi_geo.diagnostics.hotspots import gi_star_hotspots

QUARTER = gpd.GeoDataFrame(geometry=[box(0, 0, 2000, 2000)], crs=2154)


def _points(xy: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=shapely.points(xy), crs=2154)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dense_corner_cluster_is_significant(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xy = np.vstack([rng.uniform(0, 2000, (30, 2)), rng.uniform(0, 300, (30, 2))])
    res = gi_star_hotspots(_points(xy), QUARTER, seed=seed)
    assert res.tested
    hot = res.significant
    assert len(hot) >= 1
    # every significant cell is in the south-west corner, where the cluster is
    centres = hot.geometry.centroid
    assert (centres.x < 700).all() and (centres.y < 700).all()
    assert (hot["p_fdr"] < 0.05).all() and (hot["z_gi"] > 0).all()
    assert "point chaud significatif (p < 0,05 après correction" in res.message


@pytest.mark.parametrize("seed", range(6))
def test_uniform_random_points_are_not_significant_after_fdr(seed: int) -> None:
    xy = np.random.default_rng(100 + seed).uniform(0, 2000, (60, 2))
    res = gi_star_hotspots(_points(xy), QUARTER, seed=seed)
    assert res.tested
    assert len(res.significant) == 0
    assert res.message.startswith("Aucun point chaud significatif")
    # FDR-adjusted p-values are never smaller than the raw ones
    assert (res.grid["p_fdr"] >= res.grid["p_sim"] - 1e-12).all()


def test_five_annotations_are_too_few() -> None:
    xy = np.array([[100.0, 100.0], [120, 130], [150, 90], [1500, 1500], [1800, 200]])
    res = gi_star_hotspots(_points(xy), QUARTER)
    assert not res.tested
    assert "trop peu d'annotations" in res.message.lower()
    assert "5 dans le quartier" in res.message
    assert len(res.significant) == 0


def test_counts_cover_every_annotation_once() -> None:
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 2000, (80, 2))
    xy[:5] = [[0, 0], [500, 500], [1000, 1000], [2000, 2000], [1500, 0]]  # on cell edges
    res = gi_star_hotspots(_points(xy), QUARTER, cell_m=250)
    assert res.grid["n_annotations"].sum() == 80
    assert res.cell_m == 250
