"""The carte sensible augmentée: one self-contained, offline HTML page per commune.

:func:`build_web_map` draws what the other stages computed (layers, annotations, hot spots,
density, indicators, matches, défis); it computes nothing itself. The page:

* inlines every script and stylesheet (:mod:`qmi_geo.maps._assets`): no CDN, and no tile
  server unless ``basemap`` asks for one — by default the background is our own vector layers;
* groups each kind of information in a layer that the layer control switches on and off;
* shows a French, printable legend, the key indicators and every data source;
* carries the « carte sur table » drawing tool and its export button.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.plugins import Fullscreen, MeasureControl

from qmi_geo._atomic import write_text
from qmi_geo.errors import LayerError
from qmi_geo.maps._annotations import AnnotationLayer
from qmi_geo.maps._assets import LEAFLET_CSS, LEAFLET_JS, inline_assets
from qmi_geo.maps._controls import (
    GroupedLayers,
    HtmlControl,
    MetricScale,
    SourcesControl,
    VectorMiniMap,
)
from qmi_geo.maps._escape import escape_text
from qmi_geo.maps._geojson import web_features
from qmi_geo.maps._layers import HATCH_DEFS, add_kind
from qmi_geo.maps._page import PageBehaviour
from qmi_geo.maps._ranked import RankedSites, ranked_list_html
from qmi_geo.maps._render import StaticElement, render_page, rendered_text
from qmi_geo.maps.draw import AtelierLayer
from qmi_geo.maps.legend import (
    PAGE_CSS,
    LegendEntry,
    density_entry,
    fill_entry,
    layer_entry,
    legend_html,
    line_entry,
    panel_html,
    theme_entries,
)
from qmi_geo.maps.sources import short_credit, source_items, sources_html
from qmi_geo.style import LAYER_STYLES, THEMES, VALENCES
from qmi_geo.walks.fub import FUB_WALK_ID

__all__ = ["BASEMAPS", "OfflineMap", "build_web_map"]

#: Online basemaps offered by ``--fond`` (tile URL, attribution).
BASEMAPS: dict[str, tuple[str, str, str]] = {
    "ign": (
        "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM"
        "&FORMAT=image/png&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}",
        "Plan IGN (Géoplateforme)",
        "© IGN – Plan IGN",
    ),
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "OpenStreetMap",
        "© les contributeurs d'OpenStreetMap",
    ),
}

# Drawing order, bottom to top (background first).
_ORDER = (
    "communes",
    "espaces_verts",
    "batiments",
    "rues",
    "iris",
    "nuisances",
    "surfaces_minerales",
    "qpv",
    "coupures",
    "rues_citees",
    "arbres",
    "gares",
    "sites",
)
_DENSITY_LABEL = "Densité des ressentis de la marche"
#: Layer names when there was no walk: what is drawn then comes from the FUB barometer only.
_FUB_DENSITY_LABEL = "Densité des rues citées par les cyclistes (FUB 2017)"
_FUB_HOTSPOTS_LABEL = "Concentrations de rues citées par les cyclistes (FUB 2017)"
#: Headings of the layer control and of the legend, and the kinds each one holds.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Territoire",
        (
            "quartier",
            "communes",
            "surfaces_minerales",
            "qpv",
            "iris",
            "nuisances",
            "espaces_verts",
            "batiments",
            "arbres",
            "rues",
        ),
    ),
    ("Coupures et mobilité", ("coupures", "gares", "rues_citees")),
    ("Ressentis", ("annotations", "parcours", "points_chauds", "densite")),
    ("Atelier et solutions", ("sites", "appariements", "defis")),
)


def _layer_name(kind: str) -> str:
    return _DENSITY_LABEL if kind == "densite" else LAYER_STYLES[kind].label


_DENSITY_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


class OfflineMap(folium.Map):
    """A folium map that loads Leaflet only (no jQuery, Bootstrap or Font Awesome).

    Markers are inline SVG, so the 0.9 MB of icon fonts and Bootstrap folium adds by default
    are not needed; the remaining assets are inlined by :func:`inline_assets`.
    """

    default_js: list[tuple[str, str]] = [("leaflet", LEAFLET_JS)]  # noqa: RUF012
    default_css: list[tuple[str, str]] = [("leaflet_css", LEAFLET_CSS)]  # noqa: RUF012

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        with rendered_text():  # the new Figure's fixed <meta> is not compiled as a template
            super().__init__(*args, **kwargs)


def _colour_ramp(values: np.ndarray, colours: Sequence[str]) -> np.ndarray:
    """RGBA floats (0-1) of ``values`` (0-1) on a linear ramp through ``colours`` (``#rrggbb``).

    The same ramp as matplotlib's ``LinearSegmentedColormap.from_list``, without importing
    matplotlib for a web map.

    Examples
    --------
    >>> _colour_ramp(np.array([0.0, 0.5, 1.0]), ("#000000", "#ffffff"))[:, 0].tolist()
    [0.0, 0.5, 1.0]
    """
    rgb = np.array([[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in colours])
    stops = np.linspace(0.0, 1.0, len(colours))
    flat = np.clip(np.asarray(values, dtype="float64"), 0, 1).ravel()
    out = np.ones((flat.size, 4))
    for channel in range(3):
        out[:, channel] = np.interp(flat, stops, rgb[:, channel])
    return out.reshape(*np.shape(values), 4)


def _png_rgba(pixels: np.ndarray) -> bytes:
    """A PNG file (8-bit RGBA, no filter) of a ``(height, width, 4)`` uint8 array."""
    import struct
    import zlib

    height, width = pixels.shape[:2]
    rows = np.zeros((height, 1 + 4 * width), dtype=np.uint8)  # filter byte 0 per row
    rows[:, 1:] = pixels.reshape(height, 4 * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def _density_overlay(
    m: folium.Map, density_tif: Path | str, *, name: str = _DENSITY_LABEL, show: bool = True
) -> LegendEntry | None:
    """Add the annotation density raster as a transparent colour image."""
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

    path = Path(density_tif)
    if not path.exists():
        raise LayerError(f"Raster de densité introuvable : {path}. Relancez le diagnostic.")
    with rasterio.open(path) as src:
        band = src.read(1, masked=True).astype("float64")
        if src.crs is None:
            raise LayerError(f"{path} : le raster de densité n'a pas de système de coordonnées.")
        dst_crs = "EPSG:3857"
        transform, width, height = calculate_default_transform(
            src.crs, dst_crs, src.width, src.height, *src.bounds
        )
        out = np.zeros((height, width), dtype="float64")
        reproject(
            band.filled(0.0),
            out,
            src_transform=src.transform,
            src_crs=src.crs,
            dst_transform=transform,
            dst_crs=dst_crs,
            resampling=Resampling.bilinear,
        )
    vmax = float(np.nanmax(out)) if out.size else 0.0
    if vmax <= 0:
        return None
    norm = np.clip(out / vmax, 0, 1)
    rgba = _colour_ramp(norm, _DENSITY_COLOURS)
    rgba[..., 3] = np.where(norm > 0.02, 0.25 + 0.5 * norm, 0.0)
    png = _png_rgba(np.round(rgba * 255).astype(np.uint8))
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    west = transform.c
    north = transform.f
    east = west + transform.a * width
    south = north + transform.e * height
    w, s, e, n = transform_bounds(dst_crs, "EPSG:4326", west, south, east, north)
    group = folium.FeatureGroup(name=name, show=show)
    folium.raster_layers.ImageOverlay(
        uri, bounds=[[s, w], [n, e]], opacity=1.0, interactive=False, zindex=2
    ).add_to(group)
    group.add_to(m)
    return density_entry(f"{name} (faible → forte)", _DENSITY_COLOURS)


def _hotspots(
    m: folium.Map, hotspots: gpd.GeoDataFrame, *, name: str | None = None
) -> list[LegendEntry]:
    st = LAYER_STYLES["points_chauds"]
    label = name or st.label
    g = hotspots.copy()
    theme_col = "theme_dominant" if "theme_dominant" in g else "theme"
    g["theme_libelle"] = [THEMES[t].label if t in THEMES else (t or "") for t in g[theme_col]]
    if "part_negative" in g:
        g["part_txt"] = [
            f"{100 * float(v):.0f} %" if pd.notna(v) else None for v in g["part_negative"]
        ]
    data = web_features(
        g, ["theme_libelle", "n_annotations", "part_txt", "intensite_moyenne"], simplify_m=1.0
    )
    group = folium.FeatureGroup(name=label, show=name is None)
    folium.GeoJson(
        data,
        style_function=lambda f: {
            "color": st.colour,
            "weight": st.weight,
            "dashArray": st.dash,
            "fillColor": st.fill,
            "fillOpacity": st.fill_opacity,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=[
                f
                for f in ("theme_libelle", "n_annotations", "part_txt")
                if f in g.columns or f == "theme_libelle"
            ],
            aliases=["Thème dominant", "Annotations", "Part négative"][
                : 1 + ("n_annotations" in g.columns) + ("part_txt" in g.columns)
            ],
        ),
    ).add_to(group)
    pts = g.to_crs(2154).geometry.representative_point().to_crs(4326)
    counts = g["n_annotations"] if "n_annotations" in g else pd.Series(np.nan, index=g.index)
    for p, n in zip(pts, counts, strict=True):
        if pd.isna(n):
            continue
        folium.Marker(
            [round(p.y, 6), round(p.x, 6)],
            icon=folium.DivIcon(
                html=f'<div class="qmi-etiquette-chaud" title="Annotations dans la zone">'
                f"{int(n)}</div>",
                icon_size=(28, 18),
                icon_anchor=(14, 9),
                class_name="qmi-marqueur",
            ),
        ).add_to(group)
    group.add_to(m)
    return [
        fill_entry(
            label + " (nombre d'annotations)", st.colour, st.fill, st.fill_opacity, dash=st.dash
        )
    ]


def _routes(m: folium.Map, routes: gpd.GeoDataFrame) -> list[LegendEntry]:
    st = LAYER_STYLES["parcours"]
    cols = [c for c in ("marche", "nom") if c in routes.columns]
    data = web_features(routes, cols, simplify_m=1.0)
    group = folium.FeatureGroup(name=st.label, show=True)
    folium.GeoJson(
        data,
        style_function=lambda f: {"color": st.colour, "weight": st.weight, "dashArray": st.dash},
        tooltip=folium.GeoJsonTooltip(fields=cols, aliases=["Marche", "Nom"][: len(cols)])
        if cols
        else None,
    ).add_to(group)
    group.add_to(m)
    return [line_entry(st.label, st.colour, st.weight, st.dash)]


def _matches(
    m: folium.Map, matches: gpd.GeoDataFrame, name: str, *, per_site: bool
) -> list[LegendEntry]:
    # On the carte sensible the solutions are a discreet ring, off at opening (the project
    # holders have their own maps); on a project-holder map they are the subject.
    RankedSites(matches, name=name, per_site=per_site, show=not per_site).add_to(m)
    what = "nombre de solutions recommandées sur le site" if per_site else "rang du site"
    if per_site:
        badge = (
            '<circle cx="14" cy="11" r="8" fill="#fff" stroke="#006d2c" stroke-width="2"/>'
            '<text x="14" y="11" dy="0.35em" text-anchor="middle" font-size="10" '
            'font-weight="bold" fill="#006d2c">1</text>'
        )
    else:
        badge = (
            '<circle cx="14" cy="11" r="9" fill="#006d2c" stroke="#fff" stroke-width="1.5"/>'
            '<text x="14" y="11" dy="0.35em" text-anchor="middle" font-size="11" '
            'font-weight="bold" fill="#fff">1</text>'
        )
    return [
        LegendEntry(
            f"{name} (n° = {what})",
            f'<svg width="28" height="22" viewBox="0 0 28 22" aria-hidden="true">{badge}</svg>',
        )
    ]


def _walk_only(annotations: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """The annotations that come from a walk (not from the FUB barometer)."""
    if annotations is None or not len(annotations) or "marche" not in annotations:
        return annotations
    return annotations[annotations["marche"].astype("string") != FUB_WALK_ID]


def _minimap_features(
    layers: Mapping[str, gpd.GeoDataFrame], perimeter: gpd.GeoDataFrame
) -> dict[str, Any]:
    parts = []
    if "communes" in layers and len(layers["communes"]):
        c = layers["communes"][["geometry"]].copy()
        c["couleur"] = "#888888"
        parts.append(c.to_crs(perimeter.crs))
    p = perimeter[["geometry"]].copy()
    p["couleur"] = LAYER_STYLES["quartier"].colour
    parts.append(p)
    g = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=perimeter.crs)
    return web_features(g, ["couleur"], simplify_m=25.0, escape=False)


# On a small screen (a 1280 x 720 projector, a laptop), the panels open folded so the map
# shows; a print opens everything.
_SMALL_SCREEN_JS = """
setTimeout(function () {
  if (window.innerHeight < 800 || window.innerWidth < 1300) {
    document.querySelectorAll(".qmi-indicateurs-bloc").forEach(function (d) { d.open = false; });
  }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll(".qmi-legende details, .qmi-panneau details")
      .forEach(function (d) { d.open = true; });
  });
}, 0);
"""


def build_web_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    perimeter: gpd.GeoDataFrame,
    title: str,
    out_path: Path | str,
    annotations: gpd.GeoDataFrame | None = None,
    routes: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    density_tif: Path | str | None = None,
    indicators: pd.DataFrame | None = None,
    matches: gpd.GeoDataFrame | None = None,
    defis: gpd.GeoDataFrame | None = None,
    workshop_sites: gpd.GeoDataFrame | None = None,
    sources: Sequence[Any] = (),
    basemap: str | None = None,
    slug: str = "quartier",
    drawing: bool = True,
    frame: gpd.GeoDataFrame | None = None,
    matches_name: str | None = None,
    ranked_list: bool = False,
    hidden: Sequence[str] = (),
    photo_dirs: Sequence[Path | str] = (),
) -> Path:
    """Write the offline carte sensible augmentée of one quarter.

    Parameters
    ----------
    layers : mapping of str to geopandas.GeoDataFrame
        Analytic layers keyed by kind (``communes``, ``qpv``, ``surfaces_minerales``,
        ``coupures``, ``gares``, ``sites``, ``iris``, ``nuisances``, ``rues``,
        ``rues_citees``, ``arbres``); absent kinds are skipped.
    perimeter : geopandas.GeoDataFrame
        The quarter (one polygon); the map opens on it.
    title : str
        Page and panel title.
    out_path : path-like
        The HTML file to write (parent folders are created).
    annotations, routes, hotspots : geopandas.GeoDataFrame, optional
        Walk annotations (walks schema), walk routes, hot spots. Annotations made from the
        FUB barometer (walk id ``fub_barometre_2017``) are not drawn as walk annotations
        (the cited streets are their own layer); with no walk at all, the density and hot
        spots are named after the FUB, never « marche sensible ».
    density_tif : path-like, optional
        GeoTIFF of annotation density, drawn as a transparent colour overlay.
    indicators : pandas.DataFrame, optional
        Long indicator table (``code, libelle, valeur, unite, statut, note``).
    matches : geopandas.GeoDataFrame, optional
        Recommended solution–site pairs (site geometry, ``solution_nom``, ``rang``...).
    defis : geopandas.GeoDataFrame, optional
        Défis already imported from a workshop; shown and editable.
    workshop_sites : geopandas.GeoDataFrame, optional
        Sites proposed at an earlier workshop (``sites_atelier.gpkg``); shown and editable in
        the drawing tool (they are also in ``layers["sites"]``, drawn with the other sites).
    sources : sequence
        Objects with an ``attribution`` string (or plain strings); all are shown.
    basemap : {"ign", "osm"}, optional
        Add an online basemap (needs a network when the page is opened).
    slug : str
        Commune slug (names the défis export file).
    drawing : bool
        Carry the « carte sur table » drawing tool.
    frame : geopandas.GeoDataFrame, optional
        What the map opens on (default: the perimeter), e.g. a solution's ranked sites.
    matches_name : str, optional
        Layer name of ``matches`` (default: « Solutions recommandées »).
    ranked_list : bool
        List the ranked ``matches`` in the side panel (the project-holder view).
    hidden : sequence of str
        Layer kinds drawn but switched off at opening.
    photo_dirs : sequence of path-like
        Folders where the walk's photos are looked for (embedded as thumbnails).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    if perimeter is None or len(perimeter) == 0:
        raise LayerError("Le périmètre du quartier est vide : impossible de cadrer la carte.")
    if basemap is not None and basemap not in BASEMAPS:
        raise LayerError(f"Fond de carte inconnu : {basemap!r}. Choisissez « ign » ou « osm ».")
    out_path = Path(out_path)
    per = perimeter.to_crs(4326)
    w, s, e, n = per.total_bounds
    if frame is not None and len(frame):
        fw, fs, fe, fn = frame.to_crs(4326).total_bounds
        pad_x, pad_y = max((fe - fw) * 0.08, 0.002), max((fn - fs) * 0.08, 0.0015)
        w, s, e, n = fw - pad_x, fs - pad_y, fe + pad_x, fn + pad_y
    m = OfflineMap(
        location=[(s + n) / 2, (w + e) / 2],
        zoom_start=14,
        tiles=None,
        control_scale=False,
        maxZoom=20,
        minZoom=9,
    )
    m.get_root().title = escape_text(title)  # type: ignore[attr-defined]
    m.fit_bounds([[s, w], [n, e]])
    # what came from a walk, and what only from the FUB barometer (never « marche sensible »)
    walk_ann = _walk_only(annotations)
    has_walk = walk_ann is not None and len(walk_ann) > 0
    fub_only = not has_walk and annotations is not None and len(annotations) > 0
    # first: bounded popups (for every popup created later), mask, labels, search, drawer
    PageBehaviour(perimeter, layers, has_comments=has_walk).add_to(m)
    # tools first so they sit under the zoom buttons, before the drawing tool
    Fullscreen(
        position="topleft",
        title="Plein écran",
        title_cancel="Quitter le plein écran",
        force_separate_button=True,
    ).add_to(m)
    MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
        localization="fr",
    ).add_to(m)
    MetricScale().add_to(m)
    extra_credits: list[str] = []
    if basemap:
        url, name, attr = BASEMAPS[basemap]
        folium.TileLayer(
            url, name=name, attr=escape_text(attr), max_zoom=20, max_native_zoom=19
        ).add_to(m)
        extra_credits.append(attr)

    legend: dict[str, list[LegendEntry]] = {title: [] for title, _ in GROUPS}
    group_of = {kind: title for title, kinds in GROUPS for kind in kinds}
    names = {kind: _layer_name(kind) for kind in group_of}
    drawn: set[str] = {"quartier"}  # kinds with a layer on the map
    iris = layers.get("iris")
    iris_names = (
        {str(c): str(n) for c, n in zip(iris["code_iris"], iris["nom_iris"], strict=True)}
        if iris is not None and {"code_iris", "nom_iris"} <= set(iris.columns)
        else {}
    )
    for kind in _ORDER:
        if kind in layers and layers[kind] is not None and len(layers[kind]):
            show = False if kind in hidden else None
            entries = add_kind(m, kind, layers[kind], show=show, names=iris_names)
            legend[group_of[kind]] += entries
            if entries:
                drawn.add(kind)
    add_kind(m, "quartier", perimeter, show=True)
    legend["Territoire"].insert(0, layer_entry("quartier"))

    walk: list[LegendEntry] = []
    moves = legend["Coupures et mobilité"]
    if density_tif is not None and (has_walk or fub_only):
        dname = _DENSITY_LABEL if has_walk else _FUB_DENSITY_LABEL
        entry = _density_overlay(m, density_tif, name=dname, show=has_walk)
        names["densite"] = dname
        if entry:
            (walk if has_walk else moves).append(entry)
            drawn.add("densite")
    if routes is not None and len(routes):
        walk += _routes(m, routes)
        drawn.add("parcours")
    if hotspots is not None and len(hotspots) and (has_walk or fub_only):
        if has_walk:
            walk += _hotspots(m, hotspots)
        else:
            moves += _hotspots(m, hotspots, name=_FUB_HOTSPOTS_LABEL)
            names["points_chauds"] = _FUB_HOTSPOTS_LABEL
        drawn.add("points_chauds")
    if has_walk:
        assert walk_ann is not None
        AnnotationLayer(walk_ann, photo_dirs=photo_dirs).add_to(m)
        drawn.add("annotations")
        present = set(walk_ann.get("theme", pd.Series(dtype=str)))
        valences = set(walk_ann.get("valence", pd.Series(dtype=str)))
        used = [t for t in THEMES if t in present]
        if present - set(THEMES) and "autre" not in used:
            used.append("autre")
        walk += theme_entries(used, [v for v in VALENCES if v in valences], filters=True)
    legend["Ressentis"] += walk
    if matches is not None and len(matches):
        names["appariements"] = matches_name or names["appariements"]
        legend["Atelier et solutions"] += _matches(
            m, matches, names["appariements"], per_site=not ranked_list
        )
        drawn.add("appariements")
    if drawing:
        AtelierLayer(defis, sites=workshop_sites, slug=slug).add_to(m)
        drawn.add("defis")
        st = LAYER_STYLES["defis"]
        legend["Atelier et solutions"].append(
            fill_entry(st.label + " (n° de priorité)", st.colour, st.fill, st.fill_opacity)
        )
    elif defis is not None and len(defis):
        add_kind_defis = web_features(defis, ["theme", "priorite", "commentaire"])
        folium.GeoJson(add_kind_defis, name=LAYER_STYLES["defis"].label).add_to(m)

    # controls: tools on the left, reading aids on the right, legend bottom left
    VectorMiniMap(_minimap_features(layers, perimeter)).add_to(m)
    items = source_items(sources, extra_credits)
    SourcesControl(short_credit(items), sources_html(items), len(items)).add_to(m)
    today = dt.date.today().strftime("%d/%m/%Y")
    extra = ranked_list_html(matches) if ranked_list and matches is not None else ""
    HtmlControl(
        panel_html(title, indicators, subtitle=f"Carte produite le {today}", extra_html=extra),
        position="topright",
    ).add_to(m)
    HtmlControl(
        legend_html(list(legend.items()), title=title, sources_list=sources_html(items)),
        position="bottomleft",
    ).add_to(m)
    control = folium.LayerControl(position="topright", collapsed=False)
    control.add_to(m)
    groups = {title: [k for k in kinds if k in drawn] for title, kinds in GROUPS}
    if not has_walk:  # what the FUB alone gives sits with the cited streets
        for kind in ("densite", "points_chauds"):
            if kind in groups["Ressentis"]:
                groups["Ressentis"].remove(kind)
                groups["Coupures et mobilité"].append(kind)
    GroupedLayers(
        control, [(title, [names[k] for k in kinds]) for title, kinds in groups.items()]
    ).add_to(m)
    m.get_root().script.add_child(  # type: ignore[attr-defined]
        StaticElement(_SMALL_SCREEN_JS), name="qmi_small_screen"
    )

    root: Any = m.get_root()
    root.header.add_child(StaticElement(f"<style>{PAGE_CSS}</style>"), name="qmi_css")
    root.header.add_child(
        StaticElement('<meta name="generator" content="qmi_geo">'), name="qmi_meta"
    )
    root.html.add_child(StaticElement(HATCH_DEFS), name="qmi_hatch")
    html = inline_assets(render_page(root))
    html = html.replace("<html>", '<html lang="fr">', 1)
    write_text(out_path, html)
    return out_path
