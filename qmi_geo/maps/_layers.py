"""Analytic layers on the web map.

One folium layer group per kind, styled from :mod:`qmi_geo.style`, with French tooltips.

Each ``add_*`` function adds its layer to the map and returns the legend entries it needs.
Property values shown in popups are HTML-escaped by :func:`web_features` (folium fills popups
with ``innerHTML``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from qmi_geo.maps._geojson import web_features
from qmi_geo.maps._numbers import fr_number
from qmi_geo.maps._symbols import site_svg
from qmi_geo.maps.legend import (
    LegendEntry,
    break_entries,
    fill_entry,
    layer_entry,
    line_entry,
    point_entry,
    sealed_entries,
    site_entries,
)
from qmi_geo.style import (
    BREAK_KINDS,
    LAYER_STYLES,
    SEALED_SHARE_CLASSES,
    SITE_KINDS,
    GraduatedClass,
)

__all__ = ["HATCH_DEFS", "add_kind", "sealed_class"]

#: Hidden SVG definitions referenced by ``fillColor: url(#...)`` (Leaflet's SVG renderer
#: writes fillColor into the path's ``fill`` attribute, so a pattern fill works offline).
HATCH_DEFS = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="qmi-hachure-qpv" width="8" height="8" patternUnits="userSpaceOnUse" '
    f'patternTransform="rotate(45)"><rect width="8" height="8" fill="{LAYER_STYLES["qpv"].fill}" '
    'fill-opacity="0.08"/><line x1="0" y1="0" x2="0" y2="8" '
    f'stroke="{LAYER_STYLES["qpv"].colour}" stroke-width="2.5" stroke-opacity="0.7"/></pattern>'
    "</defs></svg>"
)

# kind -> (fields, French aliases) for tooltips
_FIELDS: dict[str, tuple[list[str], list[str]]] = {
    "communes": (["nom", "insee"], ["Commune", "Code INSEE"]),
    "quartier": (["nom"], ["Quartier"]),
    "qpv": (["lib_qp", "code_qp"], ["QPV", "Code"]),
    "surfaces_minerales": (["zone_nom", "part_txt"], ["IRIS", "Part imperméabilisée"]),
    "coupures": (["type_libelle", "nom", "sous_type"], ["Coupure", "Nom", "Précision"]),
    "gares": (["nom", "ligne", "reseau_libelle"], ["Gare", "Ligne", "Réseau"]),
    "sites": (
        ["nom", "type_libelle", "surface_txt", "proprietaire"],
        ["Site", "Type", "Surface", "Propriétaire"],
    ),
    "iris": (["nom_iris", "code_iris", "revenu_txt"], ["IRIS", "Code", "Revenu médian"]),
    "nuisances": (
        ["nb_nuisances", "point_noir_txt"],
        ["Nuisances cumulées", "Point noir environnemental"],
    ),
    "rues": (["nom"], ["Rue"]),
    "rues_citees": (["nom", "votes"], ["Rue citée", "Répondants la citant"]),
    "arbres": (["nom"], ["Arbre"]),
}

# Kinds shown when the page opens; the others are one click away in the layer control.
_SHOWN = {
    "communes",
    "quartier",
    "qpv",
    "surfaces_minerales",
    "coupures",
    "gares",
    "sites",
    "rues",
    "rues_citees",
}
_SIMPLIFY = {
    "communes": 5.0,
    "quartier": 1.0,
    "qpv": 2.0,
    "surfaces_minerales": 5.0,
    "iris": 5.0,
    "nuisances": 0.0,
    "coupures": 2.0,
    "rues": 1.0,
    "rues_citees": 2.0,
    "sites": 1.0,
}


def _fmt_num(value: Any, unit: str, digits: int = 0) -> str | None:
    if value is None or pd.isna(value):
        return None
    text = fr_number(float(value), digits)
    return f"{text}\u202f%" if unit == "%" else f"{text} {unit}"


def _prepare(
    kind: str, gdf: gpd.GeoDataFrame, names: Mapping[str, str] | None = None
) -> gpd.GeoDataFrame:
    """Add the display-only columns (French labels, formatted numbers, names for codes)."""
    g = gdf.copy()
    if kind == "surfaces_minerales" and "taux_impermeable" in g:
        g["part_txt"] = [
            _fmt_num(100 * v, "%", 1) if pd.notna(v) else None for v in g["taux_impermeable"]
        ]
        if "code_zone" in g:  # a name, never a bare IRIS code, in the hover
            lookup = names or {}
            g["zone_nom"] = [
                lookup.get(str(c), f"IRIS {c}") if pd.notna(c) else None for c in g["code_zone"]
            ]
    elif kind == "coupures" and "type" in g:
        g["type_libelle"] = [BREAK_KINDS[t].label if t in BREAK_KINDS else t for t in g["type"]]
    elif kind == "gares":
        res = g["reseau"] if "reseau" in g else pd.Series("existant", index=g.index)
        g["reseau_libelle"] = [
            "Grand Paris Express (future)" if r == "grand_paris_express" else "Réseau existant"
            for r in res
        ]
    elif kind == "sites" and "type" in g:
        g["type_libelle"] = [SITE_KINDS[t].label if t in SITE_KINDS else t for t in g["type"]]
        if "surface_m2" in g:
            g["surface_txt"] = [_fmt_num(v, "m²") for v in g["surface_m2"]]
    elif kind == "iris" and "revenu_median" in g:
        g["revenu_txt"] = [_fmt_num(v, "€ / UC") for v in g["revenu_median"]]
    elif kind == "nuisances" and "point_noir" in g:
        g["point_noir_txt"] = ["oui" if bool(v) else "non" for v in g["point_noir"].fillna(False)]
    return g


def sealed_class(rate: Any) -> GraduatedClass | None:
    """Return the class of :data:`qmi_geo.style.SEALED_SHARE_CLASSES` of a 0–1 rate.

    Examples
    --------
    >>> sealed_class(0.0).label, sealed_class(0.2).label, sealed_class(1.0).label
    ('moins de 20 %', '20 à 40 %', '80 % et plus')
    >>> sealed_class(None) is None
    True
    """
    if rate is None or pd.isna(rate):
        return None
    r = max(0.0, min(1.0, float(rate)))
    for c in SEALED_SHARE_CLASSES:
        if r < c.upper:
            return c
    return SEALED_SHARE_CLASSES[-1]


def _style_fn(kind: str, g: gpd.GeoDataFrame) -> Callable[[dict[str, Any]], dict[str, Any]]:
    st = LAYER_STYLES[kind]
    base: dict[str, Any] = {
        "color": st.colour,
        "weight": st.weight,
        "opacity": 0.9,
        "fillColor": st.fill or st.colour,
        "fillOpacity": st.fill_opacity,
        "fill": st.fill is not None,
    }
    if st.dash:
        base["dashArray"] = st.dash
    if kind == "qpv":
        base.update(fillColor="url(#qmi-hachure-qpv)", fillOpacity=1.0, fill=True)
    if kind == "surfaces_minerales":

        def mineral(f: dict[str, Any]) -> dict[str, Any]:
            c = sealed_class(f["properties"].get("taux_impermeable"))
            if c is None:  # no rate: outline only
                return {**base, "fill": False, "weight": 0.5}
            return {**base, "fillColor": c.colour, "fillOpacity": 0.6, "color": "#8c7b65"}

        return mineral
    if kind == "coupures":

        def brk(f: dict[str, Any]) -> dict[str, Any]:
            k = BREAK_KINDS.get(f["properties"].get("type", ""))
            if k is None:
                return base
            return {**base, "color": k.colour, "weight": k.width, "dashArray": k.dash}

        return brk
    if kind == "nuisances":

        def nuis(f: dict[str, Any]) -> dict[str, Any]:
            n = f["properties"].get("nb_nuisances") or 0
            noir = f["properties"].get("point_noir_txt") == "oui"
            return {
                **base,
                "fillOpacity": round(0.12 * float(n), 2),
                "color": "#b30000" if noir else st.colour,
                "weight": 2 if noir else 0.5,
            }

        return nuis
    if kind == "rues_citees":
        vmax = float(np.nanmax(g["votes"])) if "votes" in g and len(g) else 1.0

        def fub(f: dict[str, Any]) -> dict[str, Any]:
            v = f["properties"].get("votes") or 0
            return {**base, "weight": round(2 + 6 * float(v) / max(vmax, 1.0), 1)}

        return fub
    if kind == "sites":

        def site(f: dict[str, Any]) -> dict[str, Any]:
            code = f["properties"].get("type", "")
            k = SITE_KINDS.get(code, SITE_KINDS["autre"])
            return {
                **base,
                "color": "#333333",
                "fillColor": k.colour,
                "fillOpacity": 0.8,
                "weight": 1.2,
                # a point site is a DivIcon: the print map's shape and colour for its kind
                "html": site_svg(code),
            }

        return site
    if kind == "gares":

        def gare(f: dict[str, Any]) -> dict[str, Any]:
            gpe = f["properties"].get("reseau_libelle", "").startswith("Grand Paris")
            return {
                **base,
                "color": "#6a3d9a" if gpe else st.colour,
                "fillOpacity": 1.0,
                "dashArray": "3 2" if gpe else None,
            }

        return gare
    return lambda f: base


def add_kind(
    m: folium.Map,
    kind: str,
    gdf: gpd.GeoDataFrame,
    *,
    name: str | None = None,
    show: bool | None = None,
    names: Mapping[str, str] | None = None,
) -> list[LegendEntry]:
    """Add one analytic layer kind to the map and return its legend entries.

    Parameters
    ----------
    m : folium.Map
        The map.
    kind : str
        A key of :data:`qmi_geo.style.LAYER_STYLES` (``qpv``, ``coupures``, ``sites``...).
    gdf : geopandas.GeoDataFrame
        The layer (Lambert-93 in the pipeline).
    name : str, optional
        Layer-control label (default: the style's French label).
    show : bool, optional
        Whether the layer is on at opening (default depends on the kind).
    names : mapping of str to str, optional
        IRIS code → IRIS name, so hovers show names (sealed share per IRIS).
    """
    if gdf is None or len(gdf) == 0:
        return []
    st = LAYER_STYLES[kind]
    g = _prepare(kind, gdf, names)
    if kind == "nuisances" and "nb_nuisances" in g:
        g = g[g["nb_nuisances"].fillna(0) >= 2]
        if not len(g):
            return []
    fields, aliases = _FIELDS.get(kind, (["nom"], ["Nom"]))
    keep = [f for f in fields if f in g.columns]
    al = [a for f, a in zip(fields, aliases, strict=True) if f in g.columns]
    extra = [c for c in ("type", "taux_impermeable", "votes") if c in g.columns]
    data = web_features(g, list(dict.fromkeys(keep + extra)), simplify_m=_SIMPLIFY.get(kind))
    group = folium.FeatureGroup(
        name=name or st.label, show=(kind in _SHOWN) if show is None else show
    )
    marker: folium.Marker | folium.CircleMarker | None = None
    if kind in ("gares", "arbres"):
        marker = folium.CircleMarker(radius=6 if kind != "arbres" else 4)
    elif kind == "sites":  # shape + colour per kind (html from the style function)
        marker = folium.Marker(
            icon=folium.DivIcon(icon_size=(16, 16), icon_anchor=(8, 8), class_name="qmi-site")
        )
    tooltip = (
        folium.GeoJsonTooltip(fields=keep, aliases=al, sticky=True)
        if keep and kind != "rues"
        else None
    )
    folium.GeoJson(
        data,
        style_function=_style_fn(kind, g),
        marker=marker,
        tooltip=tooltip,
        name=name or st.label,
        smooth_factor=1.0,
    ).add_to(group)
    group.add_to(m)
    if kind == "coupures" and "type" in g:
        return break_entries(sorted(set(g["type"].dropna())))
    if kind == "sites" and "type" in g:
        return site_entries(sorted(set(g["type"].dropna())))
    if kind == "gares":
        out = [point_entry("Gare ou station existante", st.colour)]
        if "reseau" in g and (g["reseau"] == "grand_paris_express").any():
            out.append(point_entry("Gare du Grand Paris Express (future)", "#6a3d9a"))
        return out
    if kind == "surfaces_minerales":
        return sealed_entries()
    if kind == "nuisances":
        return [
            fill_entry(st.label, st.colour, st.fill, 0.3),
            fill_entry("Point noir environnemental", "#b30000", st.fill, 0.3),
        ]
    if kind == "rues_citees":
        return [line_entry(st.label + " (épaisseur : nombre de citations)", st.colour, 4)]
    return [layer_entry(kind)]

