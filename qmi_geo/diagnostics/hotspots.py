"""Statistically tested hot spots of the sensitive walk: local Getis-Ord Gi* on a grid.

The walk's DBSCAN clusters (:func:`qmi_geo.walks.analysis.hotspots`) and its density raster
describe where annotations gather; they do not say whether a gathering is more than chance.
This module tests it, as spatial statistics textbooks do for point counts:

1. the study area is the quarter, cut to where the walk went (the convex hull of the
   annotations, widened by one cell), so cells nobody walked through do not make every
   visited cell look "hot";
2. annotations are counted on a regular square grid of ``cell_m`` metres over that area
   (default: the side giving about 100 cells, between 75 and 300 m);
3. local Getis-Ord Gi* (Getis & Ord 1992; Ord & Getis 1995) with queen contiguity, binary
   weights and the focal cell included (``star``), computed by PySAL ``esda.G_Local``;
   its one-sided pseudo p-values (more annotations around the cell than chance would put
   there) come from ``permutations`` conditional permutations;
4. the p-values of all cells are corrected for multiple testing by the Benjamini–Hochberg
   false discovery rate procedure (:func:`scipy.stats.false_discovery_control`);
5. a cell is a « point chaud significatif » when its corrected p-value is below ``alpha``
   (0.05) and its Gi* z-score is positive.

Under ``min_annotations`` annotations (default 20) or ``min_cells`` cells (default 9) no
test is run and the result says « trop peu d'annotations ».
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["GiStarResult", "gi_star_hotspots"]

MIN_ANNOTATIONS = 20
MIN_CELLS = 9
TARGET_CELLS = 100


@dataclass
class GiStarResult:
    """Outcome of :func:`gi_star_hotspots`.

    Attributes
    ----------
    grid : geopandas.GeoDataFrame
        One row per cell: ``n_annotations``, ``z_gi`` (Gi* z-score), ``p_sim`` (one-sided
        permutation p-value), ``p_fdr`` (after Benjamini–Hochberg), ``significatif`` (bool).
        Empty when the test was not run.
    tested : bool
        Whether the test ran.
    message : str
        French sentence for the report (result or why no test was run).
    n_annotations, cell_m, permutations, alpha
        The inputs of the test.
    """

    grid: gpd.GeoDataFrame
    tested: bool
    message: str
    n_annotations: int
    cell_m: float
    permutations: int
    alpha: float

    @property
    def significant(self) -> gpd.GeoDataFrame:
        """The significant hot cells (empty when none or not tested)."""
        if not self.tested:
            return self.grid.iloc[0:0]
        return self.grid[self.grid["significatif"]]


def _points(annotations: gpd.GeoDataFrame) -> np.ndarray:
    geoms = annotations.geometry.values
    pts = shapely.point_on_surface(geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)])
    return (
        np.column_stack([shapely.get_x(pts), shapely.get_y(pts)]) if len(pts) else np.empty((0, 2))
    )


def _empty_grid(crs: object) -> gpd.GeoDataFrame:
    cols = {
        "n_annotations": pd.Series([], dtype="int64"),
        "z_gi": pd.Series([], dtype="float64"),
        "p_sim": pd.Series([], dtype="float64"),
        "p_fdr": pd.Series([], dtype="float64"),
        "significatif": pd.Series([], dtype="bool"),
    }
    return gpd.GeoDataFrame(cols, geometry=[], crs=crs)


def _grid(area: shapely.Geometry, cell_m: float) -> np.ndarray:
    x0, y0, x1, y1 = area.bounds
    nx = max(1, math.ceil((x1 - x0) / cell_m))
    ny = max(1, math.ceil((y1 - y0) / cell_m))
    xs = x0 + cell_m * np.arange(nx)
    ys = y0 + cell_m * np.arange(ny)
    gx, gy = np.meshgrid(xs, ys)
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
    keep = shapely.intersects(boxes, area)
    return np.asarray(boxes[keep])


def gi_star_hotspots(
    annotations: gpd.GeoDataFrame,
    perimeter: gpd.GeoDataFrame,
    *,
    cell_m: float | None = None,
    permutations: int = 9999,
    alpha: float = 0.05,
    min_annotations: int = MIN_ANNOTATIONS,
    min_cells: int = MIN_CELLS,
    seed: int = 0,
) -> GiStarResult:
    """Test where the walk's annotations cluster more than chance (Gi*, permutations, FDR).

    Parameters
    ----------
    annotations : geopandas.GeoDataFrame
        The walk's annotations (EPSG:2154); lines and zones count at a point on their surface.
    perimeter : geopandas.GeoDataFrame
        The quarter.
    cell_m : float, optional
        Grid cell side in metres; default: about 100 cells over the walked area, clamped to
        75–300 m.
    permutations : int
        Conditional permutations for the pseudo p-values.
    alpha : float
        Level of the false discovery rate.
    min_annotations, min_cells : int
        Below these, no test is run (« trop peu d'annotations »).
    seed : int
        Seed of the permutations (reproducible reports).

    Returns
    -------
    GiStarResult

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> quarter = gpd.GeoDataFrame(geometry=[box(0, 0, 2000, 2000)], crs=2154)
    >>> few = gpd.GeoDataFrame(geometry=[Point(i * 100, 100) for i in range(5)], crs=2154)
    >>> res = gi_star_hotspots(few, quarter)
    >>> res.tested, res.message.startswith("Trop peu d'annotations")
    (False, True)
    """
    crs = perimeter.crs
    quarter = shapely.union_all(perimeter.geometry.values)
    xy = _points(annotations)
    if len(xy):
        inside = shapely.contains_xy(quarter.buffer(1.0), xy[:, 0], xy[:, 1])
        xy = xy[inside]
    n = len(xy)
    size = float(cell_m) if cell_m else 0.0

    def not_tested(reason: str) -> GiStarResult:
        return GiStarResult(_empty_grid(crs), False, reason, n, size, permutations, alpha)

    if n < min_annotations:
        return not_tested(
            f"Trop peu d'annotations pour un test statistique des points chauds ({n} dans le "
            f"quartier, il en faut au moins {min_annotations}) : les regroupements décrits "
            "ne sont pas testés."
        )
    hull = shapely.convex_hull(shapely.multipoints(xy))
    if not size:
        probe = hull.buffer(100.0).intersection(quarter)
        size = min(300.0, max(75.0, math.sqrt(probe.area / TARGET_CELLS)))
    area = hull.buffer(size).intersection(quarter)
    cells = _grid(area, size)
    if len(cells) < min_cells:
        return not_tested(
            f"Trop peu d'annotations pour un test statistique des points chauds : la marche "
            f"couvre {len(cells)} maille(s) de {size:.0f} m, il en faut au moins {min_cells}."
        )
    tree = shapely.STRtree(cells)
    pts = shapely.points(xy)
    hit_pt, hit_cell = tree.query(pts, predicate="intersects")
    first = pd.Series(hit_cell).groupby(hit_pt).min()  # a point on a shared edge counts once
    counts = np.bincount(first.to_numpy(), minlength=len(cells)).astype(float)
    grid = gpd.GeoDataFrame({"n_annotations": counts.astype(int)}, geometry=cells, crs=crs)

    import warnings

    from esda.getisord import G_Local
    from libpysal.weights import Queen
    from scipy.stats import false_discovery_control

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands / numba notices from libpysal and esda
        w = Queen.from_dataframe(grid, use_index=False)
        gi = G_Local(
            counts,
            w,
            transform="B",
            star=True,
            permutations=permutations,
            seed=seed,
            n_jobs=1,
            keep_simulations=True,
        )
    z = np.asarray(gi.Zs, dtype=float)
    # one-sided (upper tail) pseudo p-values, ties counted against the cell: esda's folded
    # p_sim also calls "extreme" the many empty cells whose simulations tie with them
    sims = np.asarray(gi.rGs, dtype=float)
    observed = np.asarray(gi.Gs, dtype=float)[:, None]
    p_sim = ((sims >= observed - 1e-12).sum(axis=1) + 1.0) / (permutations + 1.0)
    p_fdr = false_discovery_control(p_sim, method="bh")
    grid["z_gi"] = z
    grid["p_sim"] = p_sim
    grid["p_fdr"] = p_fdr
    grid["significatif"] = (p_fdr < alpha) & (z > 0)
    k = int(grid["significatif"].sum())
    where = f"{len(cells)} mailles de {size:.0f} m, {permutations} permutations"
    if k:
        inside_hot = int(grid.loc[grid["significatif"], "n_annotations"].sum())
        message = (
            f"{k} maille(s) en point chaud significatif (p < {_fr(alpha)} après correction du "
            f"taux de fausses découvertes), regroupant {inside_hot} des {n} annotations "
            f"({where})."
        )
    else:
        message = (
            f"Aucun point chaud significatif (p < {_fr(alpha)} après correction du taux de "
            f"fausses découvertes) parmi {n} annotations ({where}) : les regroupements "
            "visibles peuvent être dus au hasard du parcours."
        )
    return GiStarResult(grid, True, message, n, size, permutations, alpha)


def _fr(x: float) -> str:
    return f"{x:g}".replace(".", ",")
