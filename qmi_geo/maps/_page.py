"""Page-wide behaviour of the web map: popups, recentring, mask, labels, search, drawer.

:class:`PageBehaviour` carries :mod:`qmi_geo.maps.assets` ``qmi_carte.js`` and its data: the
quarter's bounds and outline, the mask that fades everything outside the quarter, the labels
of streets, stations and sites (our own layers, so one can find one's way with no basemap)
and the named places the search box finds. It must be the first element added to the map,
so popups created later get the bounded height.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from folium.elements import JSCSSMixin
from folium.map import MacroElement
from folium.template import Template

from qmi_geo.maps._assets import OWN_PREFIX
from qmi_geo.maps._escape import json_for_script
from qmi_geo.maps._geojson import to_wgs84, web_features
from qmi_geo.style import LAYER_STYLES

__all__ = ["PageBehaviour", "labels_and_places", "outside_mask"]

#: kind -> (label class, zoom from which the label shows, French kind in search results)
_LABELLED: dict[str, tuple[str, int, str]] = {
    "gares": ("gare", 14, "Gare"),
    "sites": ("site", 16, "Site"),
    "rues": ("rue", 16, "Rue"),
    "rues_citees": ("rue", 15, "Rue citée (FUB)"),
}
_MIN_STREET_M = 80.0


def outside_mask(perimeter: gpd.GeoDataFrame, margin_m: float = 40_000.0) -> dict[str, Any]:
    """A polygon covering a wide box around the quarter, with the quarter as a hole (WGS84).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> per = gpd.GeoDataFrame(geometry=[box(650000, 6860000, 652000, 6862000)], crs=2154)
    >>> outside_mask(per)["features"][0]["geometry"]["type"]
    'Polygon'
    """
    per = perimeter.to_crs(2154)
    geom = shapely.union_all(per.geometry.values)
    outer = shapely.box(*geom.bounds).buffer(margin_m, join_style="mitre")
    mask = gpd.GeoDataFrame(geometry=[outer.difference(geom)], crs=2154)
    return web_features(mask, [], simplify_m=2.0, escape=False)


def _anchor(geom: shapely.Geometry) -> shapely.Point:
    if geom.geom_type in ("LineString", "MultiLineString"):
        parts = getattr(geom, "geoms", [geom])
        longest = max(parts, key=lambda g: g.length)
        return longest.interpolate(0.5, normalized=True)
    if geom.geom_type in ("Point",):
        return geom
    return geom.representative_point()


def labels_and_places(
    layers: Mapping[str, gpd.GeoDataFrame], perimeter: gpd.GeoDataFrame
) -> tuple[list[list[Any]], list[list[Any]]]:
    """Labels ``[lat, lon, text, class, min_zoom]`` and places ``[lat, lon, name, kind]``.

    One label per distinct name and kind (a street split in many ways is named once, on its
    longest piece); streets shorter than 80 m and unnamed features get none. Only features
    within 1 km of the quarter are labelled.
    """
    labels: list[list[Any]] = []
    places: list[list[Any]] = []
    per = perimeter.to_crs(2154)
    near = shapely.union_all(per.geometry.values).buffer(1000)
    for kind, (cls, zoom, what) in _LABELLED.items():
        g = layers.get(kind)
        if g is None or not len(g) or "nom" not in g.columns:
            continue
        g = g.to_crs(2154)
        g = g[g["nom"].notna() & g.geometry.notna() & g.intersects(near)]
        if kind == "rues":
            g = g[g.geometry.length >= _MIN_STREET_M]
        if not len(g):
            continue
        best: dict[str, shapely.Geometry] = {}
        spelled: dict[str, str] = {}  # « Noisy-Champs » and « Noisy - Champs » are one name
        for name, geom in zip(g["nom"].astype(str), g.geometry, strict=True):
            name = name.strip()
            if not name or name.lower() in ("nan", "none"):
                continue
            key = "".join(ch for ch in name.lower() if ch.isalnum())
            name = spelled.setdefault(key, name)
            old = best.get(name)
            if old is None or geom.length > old.length:
                best[name] = geom
        if not best:
            continue
        pts = gpd.GeoDataFrame(
            {"nom": list(best)}, geometry=[_anchor(v) for v in best.values()], crs=2154
        )
        wgs = to_wgs84(pts)
        for name, p in zip(wgs["nom"], wgs.geometry, strict=True):
            lat, lon = round(p.y, 6), round(p.x, 6)
            labels.append([lat, lon, name, cls, zoom])
            places.append([lat, lon, name, what])
    return labels, places


_TEMPLATE = """
{% macro script(this, kwargs) %}
qmiCarte({{ this._parent.get_name() }}, {{ this.data_js }});
{% endmacro %}
"""


class PageBehaviour(JSCSSMixin, MacroElement):
    """Popups, recentring, mask, labels, search and the phone drawer (``qmi_carte.js``).

    Parameters
    ----------
    perimeter : geopandas.GeoDataFrame
        The quarter.
    layers : mapping of str to geopandas.GeoDataFrame
        The analytic layers (their names give the labels and the searchable places).
    has_comments : bool
        Whether the walk's comments are searchable too (changes the search box's wording).
    mask : bool
        Fade everything outside the quarter.
    """

    _template = Template(_TEMPLATE)
    default_js: list[tuple[str, str]] = [("qmi_carte", OWN_PREFIX + "qmi_carte.js")]  # noqa: RUF012

    def __init__(
        self,
        perimeter: gpd.GeoDataFrame,
        layers: Mapping[str, gpd.GeoDataFrame],
        *,
        has_comments: bool = False,
        mask: bool = True,
    ) -> None:
        super().__init__()
        self._name = "QmiCarte"
        per = to_wgs84(perimeter.to_crs(2154)[["geometry"]], simplify_m=1.0)
        w, s, e, n = (float(v) for v in per.total_bounds)
        labels, places = labels_and_places(layers, perimeter)
        what = "un lieu ou un commentaire" if has_comments else "un lieu"
        hint = (
            "ex. : gare, parvis, ombre, trottoir…" if has_comments else "ex. : gare, rue, collège…"
        )
        self.data_js = json_for_script(
            {
                "bounds": [[s, w], [n, e]],
                "quarter": web_features(per, [], escape=False),
                "quarterColour": LAYER_STYLES["quartier"].colour,
                "mask": outside_mask(perimeter) if mask else None,
                "labels": labels,
                "places": places,
                "searchLabel": f"Rechercher {what}",
                "searchHint": hint,
            }
        )


def is_empty(frame: pd.DataFrame | None) -> bool:
    """Whether a (Geo)DataFrame is missing or has no row."""
    return frame is None or len(frame) == 0
