"""The walking network (layer ``rues``) from an osmnx street graph.

:func:`streets_from_graph` turns a downloaded or XML-built graph into one line per street
segment. :func:`walk_graph_from_xml` builds the graph from an OSM XML extract with the very
Overpass filter osmnx uses for ``network_type="walk"`` (parsed by
:func:`parse_overpass_filter`), so that the offline path gives the same network as the
download.
"""

from __future__ import annotations

import bz2
import gzip
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from qmi_geo.layers import _osm_tags as T
from qmi_geo.layers._osm_download import import_osmnx

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "parse_overpass_filter",
    "streets_from_graph",
    "walk_graph_from_xml",
    "ways_matching_filter",
]

CRS = "EPSG:2154"
FilterTerms = list[tuple[str, str | None, str | None]]


def streets_from_graph(
    graph: nx.MultiDiGraph | None, area: BaseGeometry | None
) -> gpd.GeoDataFrame:
    """One line per street segment of an osmnx graph (directions merged).

    A two-way street is two edges (u, v) and (v, u) with the same geometry in osmnx's
    directed graph; one of them is kept. This does what ``ox.convert.to_undirected`` does,
    vectorised (to_undirected compares parallel edges one group at a time, the slowest step
    on a commune's network).
    """
    empty = gpd.GeoDataFrame({"osm_type": []}, geometry=[], crs=CRS)
    if graph is None or graph.number_of_edges() == 0:
        return empty
    ox = import_osmnx()
    edges = ox.convert.graph_to_gdfs(graph, nodes=False)
    u = edges.index.get_level_values(0).to_numpy()
    v = edges.index.get_level_values(1).to_numpy()
    same = pd.DataFrame({
        "a": np.minimum(u, v),
        "b": np.maximum(u, v),
        "shape": edges.geometry.normalize().to_wkb(),
    })  # fmt: skip
    edges = edges[~same.duplicated().to_numpy()]
    edges = edges.reset_index(drop=True).to_crs(CRS)
    if area is not None:
        edges = edges[edges.intersects(area)]
    osmids = edges["osmid"].map(_as_list)
    out = gpd.GeoDataFrame(
        {
            "osm_type": "way",
            "osm_id": osmids.map(lambda ids: ids[0] if ids else None),
            "osm_ids": osmids.map(lambda ids: ";".join(str(i) for i in ids)),
            "nom": _joined(edges, "name"),
            "highway": edges["highway"].map(
                lambda v: min(_as_list(v), key=T.highway_rank) if _as_list(v) else None
            )
            if "highway" in edges
            else None,
            "pont": (
                edges[T.BRIDGE_KEY].map(lambda v: any(x != "no" for x in _as_list(v)))
                if T.BRIDGE_KEY in edges
                else False
            ),
        },
        geometry=edges.geometry,
        crs=CRS,
    )
    out["longueur_m"] = out.geometry.length.round(1)
    return out


def _as_list(value: Any) -> list[Any]:
    """One value, or the list osmnx stores for merged ways, as a list (NaN: empty)."""
    if isinstance(value, list | tuple | set):
        return [v for v in value if not _missing(v)]
    return [] if _missing(value) else [value]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _joined(edges: pd.DataFrame, column: str) -> pd.Series:
    if column not in edges:
        return pd.Series(None, index=edges.index, dtype=object)
    return edges[column].map(lambda v: " / ".join(dict.fromkeys(map(str, _as_list(v)))) or None)


def walk_graph_from_xml(ox: Any, path: Path) -> nx.MultiDiGraph | None:
    """The walking network of an OSM XML file, with osmnx's own ``walk`` filter.

    ``graph_from_xml`` turns every way of the file into edges (railways, building outlines
    too), so the ways are first filtered with the Overpass filter osmnx uses for
    ``network_type="walk"``, keeping both paths consistent.
    """
    terms = parse_overpass_filter(ox._overpass._get_network_filter("walk"))
    with tempfile.TemporaryDirectory(prefix="qmi_osm_") as tmp:
        walk_xml = Path(tmp) / "reseau_pieton.osm"
        if _filter_ways(path, walk_xml, terms) == 0:
            return None
        try:
            return ox.graph_from_xml(walk_xml, retain_all=False)
        except ox._errors.InsufficientResponseError:
            return None


def _filter_ways(src: Path, dst: Path, terms: FilterTerms) -> int:
    """Copy the nodes and the ways passing ``terms`` of an OSM XML file; return ways kept.

    Streams the file (memory stays flat on a commune's extract): nodes are written with
    their coordinates only (graph nodes need no tag of ours), ways with their node refs and
    tags, relations are skipped.
    """
    kept = 0
    opener: Callable[..., Any] = {".bz2": bz2.open, ".gz": gzip.open}.get(src.suffix, open)
    with opener(src, "rb") as fin, dst.open("w", encoding="utf-8") as fout:
        fout.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="qmi_geo">\n'
        )
        context = ET.iterparse(fin, events=("start", "end"))
        _, root = next(context)
        for event, elem in context:
            if event != "end":
                continue
            if elem.tag == "node":
                a = elem.attrib
                fout.write(f'<node id="{a["id"]}" lat="{a["lat"]}" lon="{a["lon"]}"/>\n')
            elif elem.tag == "way":
                tags = {t.get("k", ""): t.get("v", "") for t in elem.iter("tag")}
                if ways_matching_filter(terms, tags):
                    refs = "".join(f'<nd ref="{nd.get("ref")}"/>' for nd in elem.iter("nd"))
                    body = "".join(
                        f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()
                    )
                    fout.write(f'<way id="{elem.get("id")}">{refs}{body}</way>\n')
                    kept += 1
            elif elem.tag != "relation":
                continue
            root.clear()
        fout.write("</osm>\n")
    return kept


_FILTER_TERM = re.compile(r'\["([^"]+)"(?:(!?~)"([^"]*)")?\]')


def parse_overpass_filter(way_filter: str) -> FilterTerms:
    """Split an Overpass way filter into ``(key, operator, regex)`` terms.

    Only the forms osmnx builds are understood: ``["key"]`` (key present),
    ``["key"~"regex"]`` and ``["key"!~"regex"]``.

    Raises
    ------
    RuntimeError
        If the filter holds anything else (so a change of osmnx is noticed, not ignored).

    Examples
    --------
    >>> parse_overpass_filter('["highway"]["foot"!~"no"]')
    [('highway', None, None), ('foot', '!~', 'no')]
    """
    terms = [
        (m[1], m[2] or None, m[3] if m[2] else None) for m in _FILTER_TERM.finditer(way_filter)
    ]
    if _FILTER_TERM.sub("", way_filter).strip():
        msg = f"Unsupported Overpass filter: {way_filter!r}"
        raise RuntimeError(msg)
    return terms


def ways_matching_filter(terms: FilterTerms, tags: Mapping[str, str]) -> bool:
    """Whether a way's tags pass an Overpass filter (Overpass semantics: unanchored regex).

    A ``!~`` term passes when the key is absent, as on the Overpass server.

    Examples
    --------
    >>> terms = parse_overpass_filter('["highway"]["highway"!~"motor|cycleway"]')
    >>> ways_matching_filter(terms, {"highway": "footway"})
    True
    >>> ways_matching_filter(terms, {"highway": "motorway_link"})
    False
    >>> ways_matching_filter(terms, {"railway": "rail"})
    False
    """
    for key, op, regex in terms:
        value = tags.get(key)
        if op is None:
            if value is None:
                return False
        elif op == "~":
            if value is None or re.search(regex or "", value) is None:
                return False
        elif value is not None and re.search(regex or "", value) is not None:
            return False
    return True
