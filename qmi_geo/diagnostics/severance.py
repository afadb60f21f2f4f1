"""Pedestrian severance: how much longer the walk is than the straight line across a break.

Method
------
The street lines become a graph (one node per line end, ends closer than ``snap_m``
merged, edges weighted by their length; shortest paths by scipy's Dijkstra). Along each
break, points are drawn at random (seeded, so runs repeat) and a pair of points is placed
on either side, ``offset_m`` from the break along its normal. Each point is attached to
the nearest graph node (pairs farther than ``max_snap_m`` from the network are dropped).
The detour ratio of a pair is

    (network distance between the two nodes + the two snap distances) / straight-line
    distance between the two points,

so 1 means the break is crossed where one wants, and 3 means a walk three times longer
than the crow flies. The indicator is the median ratio over the pairs (method in the spirit
of the "route directness" / "pedestrian route directness" ratio used in walkability
studies, e.g. Stangl 2012, *J. Transport Geography*).

Only the street network given is used: with OSM's *drive* network (the only one bundled,
for Meudon) footbridges and footpaths are missing, so ratios are upper bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo.diagnostics._geom import check_crs, pairs
from qmi_geo.diagnostics.breaks import effective_breaks

__all__ = ["StreetGraph", "detour_ratios", "sample_break_pairs", "severance_ratio", "street_graph"]


@dataclass(frozen=True)
class StreetGraph:
    """An undirected street graph: node coordinates and a sparse matrix of edge lengths.

    ``nodes`` holds the ``(x, y)`` of each node in the order the streets first reach them;
    ``lengths`` is the upper-triangular CSR matrix of the shortest edge between two nodes.
    Shortest paths are scipy's compiled Dijkstra (:mod:`scipy.sparse.csgraph`) instead of a
    networkx graph: networkx's import alone cost ≈ 0.2 s of every diagnostic.
    """

    nodes: np.ndarray
    lengths: Any

    def number_of_nodes(self) -> int:
        """How many nodes (line ends after snapping)."""
        return len(self.nodes)

    def number_of_edges(self) -> int:
        """How many edges (parallel streets between two nodes count once)."""
        return int(self.lengths.nnz)

    def path_lengths(self, sources: np.ndarray) -> np.ndarray:
        """Network distance from each of ``sources`` (node indices) to every node (inf: none)."""
        from scipy.sparse.csgraph import dijkstra

        return np.atleast_2d(dijkstra(self.lengths, directed=False, indices=sources))


def street_graph(streets: gpd.GeoDataFrame | gpd.GeoSeries, *, snap_m: float = 1.0) -> StreetGraph:
    """Undirected graph of a street layer.

    Nodes are line ends rounded to a ``snap_m`` grid; edges weighted by their line's length
    (m), the shortest of parallel edges kept; a line whose two ends snap to one node is left
    out.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> s = gpd.GeoSeries(
    ...     [LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 50)])], crs=2154
    ... )
    >>> g = street_graph(s)
    >>> g.number_of_nodes(), g.number_of_edges()
    (3, 2)
    """
    from scipy.sparse import csr_matrix

    geoms = gpd.GeoSeries(streets.geometry).explode(ignore_index=True).values
    lines = np.asarray(geoms, dtype=object)
    keep = ~(shapely.is_missing(lines) | shapely.is_empty(lines))
    keep[keep] = shapely.get_type_id(lines[keep]) == shapely.GeometryType.LINESTRING
    lines = lines[keep]
    a = np.round(shapely.get_coordinates(shapely.get_point(lines, 0)) / snap_m) * snap_m
    b = np.round(shapely.get_coordinates(shapely.get_point(lines, -1)) / snap_m) * snap_m
    real = ~(a == b).all(axis=1)
    a, b, length = a[real], b[real], shapely.length(lines[real])
    ends = np.empty((2 * len(a), 2))
    ends[0::2], ends[1::2] = a, b
    if not len(ends):
        return StreetGraph(np.empty((0, 2)), csr_matrix((0, 0)))
    # nodes numbered in the order the streets first reach them (each line: start, then end)
    _, first, inverse = np.unique(ends, axis=0, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    node = rank[inverse.reshape(-1)]
    nodes = ends[np.sort(first)]
    i, j = node[0::2], node[1::2]
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    # the shortest of parallel edges: sort by (lo, hi, length), keep each pair's first
    order = np.lexsort((length, hi, lo))
    lo, hi, length = lo[order], hi[order], length[order]
    first_of_pair = np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])]
    n = len(nodes)
    matrix = csr_matrix(
        (length[first_of_pair], (lo[first_of_pair], hi[first_of_pair])), shape=(n, n)
    )
    return StreetGraph(nodes, matrix)


def sample_break_pairs(
    coupures: gpd.GeoDataFrame,
    *,
    n_pairs: int = 50,
    offset_m: float = 100.0,
    seed: int = 0,
    area: object | None = None,
) -> gpd.GeoDataFrame:
    """Pairs of points on either side of the breaks, drawn at random along them.

    Points are drawn uniformly along the total break length (seeded); the pair is placed at
    ``±offset_m`` along the normal of the break at that point. With ``area`` (a polygon),
    pairs whose both points are not inside it are dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``type`` (break kind), ``a``, ``b`` (shapely Points) and geometry (the
        segment a–b).
    """
    lines = gpd.GeoDataFrame(effective_breaks(coupures)).explode(ignore_index=True)
    lines = lines[lines.geom_type == "LineString"]
    empty = gpd.GeoDataFrame({"type": [], "a": [], "b": []}, geometry=[], crs=coupures.crs)
    if not len(lines) or n_pairs <= 0:
        return empty
    # the same draw whatever the order of the rows (a layer cut to the quarter, or the
    # region's layer filtered by an index): lines in the order of their ends (to the mm)
    ends = np.round(
        np.column_stack(
            [
                shapely.get_coordinates(shapely.get_point(lines.geometry.values, 0)),
                shapely.get_coordinates(shapely.get_point(lines.geometry.values, -1)),
            ]
        ),
        3,
    )
    lines = lines.iloc[np.lexsort(ends.T[::-1])]
    lengths = lines.geometry.length.to_numpy()
    total = lengths.sum()
    if total <= 0:
        return empty
    rng = np.random.default_rng(seed)
    draws = np.sort(rng.uniform(0, total, size=n_pairs))
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    which = np.clip(np.searchsorted(cum, draws, side="right") - 1, 0, len(lines) - 1)
    # every draw at once (the same GEOS interpolation as LineString.interpolate)
    geoms = lines.geometry.values[which]
    at = draws - cum[which]
    p0 = shapely.line_interpolate_point(geoms, np.maximum(at - 1.0, 0.0))
    p1 = shapely.line_interpolate_point(geoms, np.minimum(at + 1.0, lengths[which]))
    d = shapely.get_coordinates(p1) - shapely.get_coordinates(p0)
    norm = np.hypot(d[:, 0], d[:, 1])
    ok = norm != 0
    mid = shapely.get_coordinates(shapely.line_interpolate_point(geoms[ok], at[ok]))
    normal = np.column_stack([-d[ok, 1], d[ok, 0]]) / norm[ok, None]
    a_xy, b_xy = mid + normal * offset_m, mid - normal * offset_m
    kept = np.ones(len(mid), dtype=bool)
    if area is not None:
        kept = shapely.contains_xy(area, a_xy[:, 0], a_xy[:, 1]) & shapely.contains_xy(
            area, b_xy[:, 0], b_xy[:, 1]
        )
    if not kept.any():
        return empty
    a_xy, b_xy = a_xy[kept], b_xy[kept]
    a, b = shapely.points(a_xy), shapely.points(b_xy)
    return gpd.GeoDataFrame(
        {
            "type": lines["type"].to_numpy()[which[ok][kept]],
            "a": a,
            "b": b,
        },
        geometry=shapely.linestrings(np.stack([a_xy, b_xy], axis=1)),
        crs=coupures.crs,
    )


def detour_ratios(
    graph: object, pairs_gdf: gpd.GeoDataFrame, *, max_snap_m: float = 150.0
) -> pd.Series:
    """Network / straight-line distance ratio of each pair (NaN if unreachable or off-network).

    Examples
    --------
    Two parallel streets 200 m apart joined by a single cross street at x = 0; a pair at
    x = 500 must walk 500 + 200 + 500 m for 200 m as the crow flies:

    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> s = gpd.GeoSeries(
    ...     [
    ...         LineString([(-1000, 100), (0, 100)]),
    ...         LineString([(0, 100), (500, 100)]),
    ...         LineString([(-1000, -100), (0, -100)]),
    ...         LineString([(0, -100), (500, -100)]),
    ...         LineString([(0, -100), (0, 100)]),
    ...     ],
    ...     crs=2154,
    ... )
    >>> p = gpd.GeoDataFrame(
    ...     {"a": [Point(500, 100)], "b": [Point(500, -100)]},
    ...     geometry=[LineString([(500, 100), (500, -100)])],
    ...     crs=2154,
    ... )
    >>> float(detour_ratios(street_graph(s), p).iloc[0])
    6.0
    """
    out = pd.Series(np.nan, index=pairs_gdf.index, name="ratio_detour")
    if not isinstance(graph, StreetGraph):
        raise TypeError("detour_ratios attend le graphe de street_graph().")
    if graph.number_of_nodes() == 0 or not len(pairs_gdf):
        return out
    tree = shapely.STRtree(shapely.points(graph.nodes))
    snapped: list[tuple[object, int, int, float, float, float]] = []
    for label, a, b in zip(pairs_gdf.index, pairs_gdf["a"], pairs_gdf["b"], strict=True):
        ia, da = tree.query_nearest(a, return_distance=True)
        ib, db = tree.query_nearest(b, return_distance=True)
        if da[0] > max_snap_m or db[0] > max_snap_m:
            continue
        straight = a.distance(b)
        if straight > 0:
            snapped.append((label, int(ia[0]), int(ib[0]), da[0], db[0], straight))
    if not snapped:
        return out
    sources = np.unique([s[1] for s in snapped])
    dist = graph.path_lengths(sources)
    row = {int(src): k for k, src in enumerate(sources)}
    for label, na, nb, da_m, db_m, straight in snapped:
        d = dist[row[na], nb]
        if np.isfinite(d):  # the same sum, in the same order, as before
            out[label] = (float(d) + da_m + db_m) / straight
    return out


def severance_ratio(
    zones: gpd.GeoDataFrame,
    coupures: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    *,
    n_pairs: int = 50,
    offset_m: float = 100.0,
    max_snap_m: float = 150.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Median detour ratio across the breaks of each zone, and the number of pairs used.

    Returns
    -------
    pandas.DataFrame
        Columns ``ratio_detour`` (median) and ``n_paires``, aligned to ``zones.index``.
    """
    check_crs(zones, coupures, "coupures")
    check_crs(zones, streets, "rues")
    ratio = np.full(len(zones), np.nan)
    count = np.zeros(len(zones))
    # A pair can only be measured where a street lies within snapping distance of the zone:
    # zones with none (all communes but those with a street layer) are skipped up front
    # instead of sampling pairs that cannot snap. Same result, without the per-zone work.
    reach = zones.geometry.buffer(max_snap_m + offset_m).to_numpy()
    near = np.zeros(len(zones), dtype=bool)
    if len(streets):
        hit, _ = streets.sindex.query(reach, predicate="intersects")
        near[np.unique(hit)] = True
    if not near.any():
        return pd.DataFrame({"ratio_detour": ratio, "n_paires": count}, index=zones.index)
    graph = street_graph(streets)
    for pos, geom in enumerate(zones.geometry.values):
        if not near[pos]:
            continue
        _, bi = pairs(zones.iloc[[pos]], coupures)
        if not len(bi):
            continue
        local = coupures.iloc[np.unique(bi)].copy()
        local["geometry"] = local.geometry.intersection(geom)
        sample = sample_break_pairs(local, n_pairs=n_pairs, offset_m=offset_m, seed=seed, area=geom)
        ratios = detour_ratios(graph, sample, max_snap_m=max_snap_m).dropna()
        count[pos] = len(ratios)
        if len(ratios):
            ratio[pos] = float(ratios.median())
    return pd.DataFrame({"ratio_detour": ratio, "n_paires": count}, index=zones.index)
