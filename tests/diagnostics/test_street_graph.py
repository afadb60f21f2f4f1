"""The street graph without networkx: the same nodes, edges and detour ratios as networkx's.

``street_graph`` used to build a :mod:`networkx` graph (its import alone cost ≈ 0.2 s of
every ``qmi diagnose``); it is now node coordinates and a scipy sparse matrix, with scipy's
Dijkstra. The reference below is the former networkx code, kept verbatim: on hand-made
networks and on Meudon's real OSM streets (with the breaks' sampled pairs), both give the
same nodes in the same order, the same edges and the same ratios, to the last bit.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, Point

from qmi_geo.diagnostics.severance import (
    StreetGraph,
    detour_ratios,
    sample_break_pairs,
    street_graph,
)
from qmi_geo.layers.catalogue import load_catalogue


def nx_street_graph(streets: gpd.GeoDataFrame, *, snap_m: float = 1.0) -> nx.Graph:
    """The former implementation (networkx)."""
    geoms = gpd.GeoSeries(streets.geometry).explode(ignore_index=True).values
    graph = nx.Graph()
    for line in geoms:
        if line is None or line.is_empty or line.geom_type != "LineString":
            continue
        coords = shapely.get_coordinates(line)
        a = tuple(np.round(coords[0] / snap_m) * snap_m)
        b = tuple(np.round(coords[-1] / snap_m) * snap_m)
        if a == b:
            continue
        length = float(line.length)
        for node in (a, b):
            graph.add_node(node, x=node[0], y=node[1])
        if not graph.has_edge(a, b) or graph.edges[a, b]["length"] > length:
            graph.add_edge(a, b, length=length)
    return graph


def nx_detour_ratios(
    graph: nx.Graph, pairs_gdf: gpd.GeoDataFrame, *, max_snap_m: float = 150.0
) -> pd.Series:
    """The former implementation (networkx's Dijkstra, pair by pair)."""
    out = pd.Series(np.nan, index=pairs_gdf.index, name="ratio_detour")
    if graph.number_of_nodes() == 0 or not len(pairs_gdf):
        return out
    nodes = list(graph.nodes)
    tree = shapely.STRtree(shapely.points(np.array(nodes, dtype=float)))
    for label, a, b in zip(pairs_gdf.index, pairs_gdf["a"], pairs_gdf["b"], strict=True):
        ia, da = tree.query_nearest(a, return_distance=True)
        ib, db = tree.query_nearest(b, return_distance=True)
        if da[0] > max_snap_m or db[0] > max_snap_m:
            continue
        na, nb = nodes[int(ia[0])], nodes[int(ib[0])]
        try:
            dist = nx.shortest_path_length(graph, na, nb, weight="length")
        except nx.NetworkXNoPath:
            continue
        straight = a.distance(b)
        if straight > 0:
            out[label] = (float(dist) + da[0] + db[0]) / straight
    return out


def assert_same_graph(ours: StreetGraph, ref: nx.Graph) -> None:
    assert ours.number_of_nodes() == ref.number_of_nodes()
    assert ours.number_of_edges() == ref.number_of_edges()
    assert [tuple(p) for p in ours.nodes.tolist()] == [tuple(map(float, n)) for n in ref.nodes]
    index = {n: k for k, n in enumerate(ref.nodes)}
    coo = ours.lengths.tocoo()
    mine = {(int(i), int(j)): float(w) for i, j, w in zip(coo.row, coo.col, coo.data, strict=True)}
    theirs = {
        (min(index[a], index[b]), max(index[a], index[b])): float(d["length"])
        for a, b, d in ref.edges(data=True)
    }
    assert mine == theirs


def frame(*lines: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"nom": [f"r{i}" for i in range(len(lines))]}, geometry=list(lines), crs=2154
    )


def test_hand_made_network_same_as_networkx() -> None:
    streets = frame(
        LineString([(0, 0), (100, 0)]),
        LineString([(100, 0), (100, 50)]),
        LineString([(100, 0.3), (100, 50.2), (0, 0)]),  # parallel, longer: dropped
        LineString([(0, 0), (0, 0.2)]),  # both ends snap to one node: left out
        MultiLineString([[(300, 0), (400, 0)], [(400, 0), (400, 80)]]),  # exploded
        LineString(),  # empty
        None,
        Point(5, 5),  # not a line
        LineString([(100, 50), (0, 0)]),  # parallel to the 2nd path, shorter: kept
    )
    g = street_graph(streets)
    assert_same_graph(g, nx_street_graph(streets))
    pairs = gpd.GeoDataFrame(
        {
            "a": gpd.GeoSeries.from_xy([0, 0, 350, 0], [1, 1, 1, 1000]).values,
            "b": gpd.GeoSeries.from_xy([100, 350, 400, 100], [49, 1, 79, 49]).values,
        },
        geometry=[LineString([(0, 0), (1, 1)])] * 4,
        crs=2154,
    )
    ours = detour_ratios(g, pairs)
    ref = nx_detour_ratios(nx_street_graph(streets), pairs)
    assert ours.isna().tolist() == [False, True, False, True]  # other component; too far
    assert ours.to_numpy().tobytes() == ref.to_numpy().tobytes()


def test_empty_street_layer() -> None:
    g = street_graph(frame(LineString([(0, 0), (0, 0.1)])))
    assert g.number_of_nodes() == 0 and g.number_of_edges() == 0
    pairs = gpd.GeoDataFrame(
        {"a": [Point(0, 0)], "b": [Point(1, 1)]}, geometry=[LineString([(0, 0), (1, 1)])], crs=2154
    )
    assert detour_ratios(g, pairs).isna().all()


def test_detour_ratios_refuses_another_graph() -> None:
    pairs = gpd.GeoDataFrame({"a": [], "b": []}, geometry=[], crs=2154)
    with pytest.raises(TypeError):
        detour_ratios(nx.Graph(), pairs)


def test_meudon_real_streets_same_as_networkx() -> None:
    """Meudon's OSM drive network and pairs across its real breaks: bit-identical ratios."""
    cat = load_catalogue()
    src = cat["rues_osm_meudon"]
    streets = gpd.read_file(src.path, layer=src.layer).to_crs(2154)
    g = street_graph(streets)
    ref = nx_street_graph(streets)
    assert g.number_of_nodes() > 500
    assert_same_graph(g, ref)
    rail = cat["rail_idfm"]
    hull = shapely.box(*streets.total_bounds)
    breaks = gpd.read_file(rail.path, layer=rail.layer, where=rail.where).to_crs(2154)
    breaks = breaks[breaks.intersects(hull)].assign(type="rail")
    assert len(breaks)
    pairs = sample_break_pairs(breaks, n_pairs=200, seed=0, area=hull)
    ours = detour_ratios(g, pairs)
    theirs = nx_detour_ratios(ref, pairs)
    assert ours.notna().sum() > 50
    assert ours.to_numpy().tobytes() == theirs.to_numpy().tobytes()
