"""The k-d tree DBSCAN gives scikit-learn's labels: cores, borders, noise, cluster numbers."""

from __future__ import annotations

import numpy as np
import pytest

from qmi_geo.walks.analysis import dbscan_labels

sklearn_cluster = pytest.importorskip("sklearn.cluster")  # test-only reference


def _sklearn(xy: np.ndarray, eps: float, min_samples: int) -> np.ndarray:
    model = sklearn_cluster.DBSCAN(eps=eps, min_samples=min_samples, algorithm="kd_tree")
    return np.asarray(model.fit_predict(xy), dtype=np.int64)


def _synthetic_blobs(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 3000, size=(8, 2))
    blobs = centres[rng.integers(0, 8, n)] + rng.normal(0, 90, size=(n, 2))
    noise = rng.uniform(-500, 3500, size=(n // 4, 2))
    return np.round(np.vstack([blobs, noise]), 1)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize(("eps", "min_samples"), [(150.0, 4), (60.0, 3), (250.0, 10), (40.0, 1)])
def test_same_labels_as_sklearn_on_synthetic_blobs(seed: int, eps: float, min_samples: int) -> None:
    xy = _synthetic_blobs(seed, 600)
    ours = dbscan_labels(xy, eps=eps, min_samples=min_samples)
    theirs = _sklearn(xy, eps, min_samples)
    assert (theirs == -1).any() or min_samples == 1  # the fixture has noise
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("right_first", [True, False])
def test_border_point_between_two_clusters_joins_the_first_like_sklearn(right_first: bool) -> None:
    # (0, 0) is within eps=2 of the core (-2, 0) of one group and the core (2, 0) of the
    # other, with 3 neighbours itself (< min_samples=4): a border point reached by both.
    left = [[-2, 0], [-3, 0], [-2, 1], [-2, -1]]
    right = [[2, 0], [3, 0], [2, 1], [2, -1]]
    groups = [right, left] if right_first else [left, right]
    xy = np.array([*groups[0], [0, 0], *groups[1], [50, 50]], dtype=float)
    ours = dbscan_labels(xy, eps=2.0, min_samples=4)
    theirs = _sklearn(xy, 2.0, 4)
    np.testing.assert_array_equal(ours, theirs)
    assert ours.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, -1]  # border -> first cluster; noise


def test_distance_exactly_eps_counts_as_neighbour() -> None:
    # integer coordinates: distances are exact, so "within eps" means <= eps on both sides
    xy = np.array([[0, 0], [150, 0], [300, 0], [0, 150], [1000, 0]], dtype=float)
    ours = dbscan_labels(xy, eps=150.0, min_samples=3)
    np.testing.assert_array_equal(ours, _sklearn(xy, 150.0, 3))
    assert ours.tolist() == [0, 0, 0, 0, -1]


def test_duplicates_noise_only_and_empty() -> None:
    dup = np.array([[10, 10]] * 5 + [[500, 500]], dtype=float)
    np.testing.assert_array_equal(dbscan_labels(dup, eps=1, min_samples=4), _sklearn(dup, 1, 4))
    sparse = np.array([[0, 0], [100, 0], [0, 100]], dtype=float)
    assert dbscan_labels(sparse, eps=10, min_samples=2).tolist() == [-1, -1, -1]
    assert dbscan_labels(np.empty((0, 2)), eps=10, min_samples=2).tolist() == []
