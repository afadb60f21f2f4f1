"""The report's static maps and charts (matplotlib, PNG embedded in the HTML and the PDF).

Maps are drawn with the print map's drawing functions (:mod:`qmi_geo.maps._print_layers`),
so colours, dashes, hatches and valence shapes are those of the A3 map and the web map:
readable in black-and-white print and by colour-blind readers (shapes, hatching, dashes and
labels carry the meaning, never colour alone). This module only composes them for the A4
page; it computes nothing.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from qmi_geo.maps._print_layers import (
    GLYPH_HANDLERS,
    dash_pattern,
    draw_annotations,
    draw_kind,
    l93,
    mask_outside,
    north_arrow,
    place_labels,
    scale_bar,
)
from qmi_geo.style import LAYER_STYLES, THEMES, VALENCES

__all__ = ["MAPS", "quarter_map", "small_multiples", "theme_chart", "to_data_uri"]

DPI = 150
MAP_SIZE_IN = (7.1, 4.1)
MAP_AXES = (0.005, 0.01, 0.63, 0.98)

#: The report's maps: key -> (title, layer kinds drawn under the overlays, in order).
MAPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "situation": ("Situation du quartier", ("communes", "rues", "coupures", "gares")),
    "qpv": ("Quartiers prioritaires de la politique de la ville", ("communes", "rues", "qpv")),
    "mineral": ("Surfaces minéralisées", ("surfaces_minerales", "rues")),
    "coupures": ("Coupures urbaines et franchissements", ("rues", "coupures", "gares")),
    "nuisances": ("Nuisances et chaleur", ("rues", "nuisances")),
    "sites": ("Sites de déploiement candidats", ("rues", "sites")),
    "marche": ("Marche sensible : ressentis et points chauds", ("rues",)),
    "atelier": ("Atelier « carte sur table » : défis et sites", ("rues", "sites")),
}

CROSSING_LABEL = "Franchissement d'une coupure par une rue"
GI_LABEL = "Point chaud significatif (Gi*, p < 0,05 après correction)"


class _Canvas(FigureCanvasAgg):
    """An Agg canvas that paints a figure once, when it is saved.

    geopandas requests a redraw after every layer it plots (``canvas.draw_idle()``): each map
    of the livrable was painted (or laid out) once per layer, then once more by ``savefig``.
    Here a request only marks the figure as unsettled; :meth:`settle` lays it out
    (:meth:`~matplotlib.figure.Figure.draw_without_rendering`: the axes' aspect box, text
    sizes) where a later step reads that state, the label placement of the situation map.
    ``savefig`` draws from the artists, whatever was drawn before: the PNG is the same.
    """

    unsettled = False

    def draw_idle(self, *args: Any, **kwargs: Any) -> None:
        """Note the request; the figure is laid out by :meth:`settle`, painted by savefig."""
        self.unsettled = True

    def settle(self) -> None:
        """Lay the figure out as the last requested redraw would have."""
        if self.unsettled:
            self.figure.draw_without_rendering()
            self.unsettled = False


def to_data_uri(png: bytes) -> str:
    """A ``data:`` URI for a PNG, so the HTML stays one self-contained file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": "qmi_geo"})
    return buf.getvalue()


def _frame(
    perimeter: gpd.GeoDataFrame, aspect: float, span: float | None = None
) -> tuple[float, float, float, float]:
    return _frame_bounds(tuple(perimeter.total_bounds), aspect, span)


def _frame_bounds(
    bounds: tuple[float, ...], aspect: float, span: float | None = None
) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if span is None:
        pad = 0.06 * max(x1 - x0, y1 - y0)
        w, h = x1 - x0 + 2 * pad, y1 - y0 + 2 * pad
    else:
        w = h = span
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _walk_frame(
    aspect: float,
    annotations: gpd.GeoDataFrame | None,
    routes: gpd.GeoDataFrame | None,
) -> tuple[float, float, float, float] | None:
    """Frame the walk map on where the walk went (at least 800 m across)."""
    parts = [g for g in (l93(annotations), l93(routes)) if g is not None]
    if not parts:
        return None
    b = np.array([g.total_bounds for g in parts])
    bounds = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    span = max(bounds[2] - bounds[0], bounds[3] - bounds[1], 800.0) * 1.15
    return _frame_bounds(bounds, aspect, span)


def _finish_axes(ax: Any, extent: tuple[float, float, float, float]) -> None:
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_facecolor("#f4f3ee")


def quarter_map(
    key: str,
    layers: Mapping[str, gpd.GeoDataFrame],
    perimeter: gpd.GeoDataFrame,
    *,
    crossings: gpd.GeoDataFrame | None = None,
    annotations: gpd.GeoDataFrame | None = None,
    routes: gpd.GeoDataFrame | None = None,
    clusters: gpd.GeoDataFrame | None = None,
    gi_cells: gpd.GeoDataFrame | None = None,
    matches: gpd.GeoDataFrame | None = None,
    defis: gpd.GeoDataFrame | None = None,
) -> bytes:
    """One of the report's maps (:data:`MAPS`) as PNG bytes, legend on the right."""
    per = l93(perimeter)
    assert per is not None
    fig = Figure(figsize=MAP_SIZE_IN, dpi=DPI)
    canvas = _Canvas(fig)
    ax = fig.add_axes(MAP_AXES)
    aspect = (MAP_AXES[2] * MAP_SIZE_IN[0]) / (MAP_AXES[3] * MAP_SIZE_IN[1])
    extent = _frame(per, aspect)
    if key == "marche":
        extent = _walk_frame(aspect, annotations, routes) or extent
    handles: list[Any] = []
    labels: list[tuple[float, float, str]] = []
    for kind in MAPS[key][1]:
        g = l93(layers.get(kind))
        if g is not None:
            kind_handles: list[Any] = []
            draw_kind(ax, kind, g, kind_handles, labels if key == "situation" else None)
            if kind != "rues":
                handles += kind_handles
    if key != "situation":  # the situation map shows the neighbours as they are
        mask_outside(ax, per, extent)
    per.boundary.plot(ax=ax, color=LAYER_STYLES["quartier"].colour, linewidth=2.0, zorder=15)
    handles.insert(
        0,
        Line2D(
            [],
            [],
            color=LAYER_STYLES["quartier"].colour,
            lw=2,
            label=LAYER_STYLES["quartier"].label,
        ),
    )
    if key == "coupures":
        g = l93(crossings)
        if g is not None:
            ax.scatter(
                g.geometry.x,
                g.geometry.y,
                marker="s",
                s=16,
                facecolor="white",
                edgecolor="black",
                linewidths=0.9,
                zorder=19,
            )
        handles.append(
            Line2D(
                [],
                [],
                marker="s",
                linestyle="",
                markerfacecolor="white",
                markeredgecolor="black",
                label=CROSSING_LABEL + (f" ({len(g)})" if g is not None else " (aucun)"),
            )
        )
    if key == "nuisances":
        g = l93(annotations)
        if g is not None and "theme" in g:
            heat = g[g["theme"].isin(["chaleur", "bruit", "pollution"])]
            if len(heat):
                draw_annotations(ax, heat, handles)
    if key == "sites":
        g = l93(matches)
        if g is not None:
            pts = g[g.geom_type.isin(["Point", "MultiPoint"])]
            if len(pts):
                pts.plot(
                    ax=ax, facecolor="none", edgecolor="#006d2c", markersize=90, lw=1.4, zorder=21
                )
            lines = g[~g.geom_type.isin(["Point", "MultiPoint"])]
            if len(lines):
                lines.plot(ax=ax, color="#006d2c", linewidth=3.5, alpha=0.5, zorder=8)
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="",
                    markerfacecolor="none",
                    markeredgecolor="#006d2c",
                    markersize=9,
                    label="Meilleur site d'une solution (cercle)",
                )
            )
    if key == "marche":
        _walk_overlays(ax, handles, annotations, routes, clusters, gi_cells)
    if key == "atelier":
        g = l93(defis)
        if g is not None:
            st = LAYER_STYLES["defis"]
            g.plot(ax=ax, color=st.colour, alpha=0.6, markersize=50, linewidth=2.5, zorder=22)
            if "priorite" in g:
                for p, n in zip(g.geometry.representative_point(), g["priorite"], strict=True):
                    ax.text(p.x, p.y, str(n), ha="center", va="center", fontsize=7, zorder=23)
            handles.append(Patch(facecolor=st.colour, alpha=0.6, label=st.label + " (priorité)"))
    if labels:  # the label placement reads the layout the last plot's redraw left
        canvas.settle()
    _finish_axes(ax, extent)
    furniture = [scale_bar(ax, extent), north_arrow(ax)]
    if labels:
        place_labels(ax, labels, avoid=furniture)
    legend_ax = fig.add_axes((0.645, 0.01, 0.35, 0.98))
    legend_ax.set_axis_off()
    seen: set[str] = set()
    unique = []
    for h in handles:
        label = h.get_label()
        if label not in seen and not label.startswith("_"):
            seen.add(label)
            unique.append(h)
    # the valence shapes before the theme colours, so they are never cut off
    valences = {v.label for v in VALENCES.values()}
    unique = [h for h in unique if h.get_label() in valences] + [
        h for h in unique if h.get_label() not in valences
    ]
    if unique:
        legend_ax.legend(
            handles=unique[:26],
            handler_map=GLYPH_HANDLERS,
            loc="upper left",
            fontsize=6.5,
            frameon=False,
            handlelength=2.0,
            labelspacing=0.4,
            borderaxespad=0.0,
        )
    return _png(fig)


def _walk_overlays(
    ax: Any,
    handles: list[Any],
    annotations: gpd.GeoDataFrame | None,
    routes: gpd.GeoDataFrame | None,
    clusters: gpd.GeoDataFrame | None,
    gi_cells: gpd.GeoDataFrame | None,
) -> None:
    g = l93(gi_cells)
    if g is not None:
        g.plot(ax=ax, facecolor="none", edgecolor="#b2182b", hatch="xxx", linewidth=1.4, zorder=12)
        handles.append(Patch(facecolor="none", edgecolor="#b2182b", hatch="xxx", label=GI_LABEL))
    g = l93(routes)
    if g is not None:
        st = LAYER_STYLES["parcours"]
        g.plot(ax=ax, color=st.colour, linewidth=1.6, linestyle=dash_pattern(st.dash), zorder=16)
        handles.append(
            Line2D([], [], color=st.colour, lw=1.6, ls=dash_pattern(st.dash), label=st.label)
        )
    g = l93(clusters)
    if g is not None:
        st = LAYER_STYLES["points_chauds"]
        g.boundary.plot(ax=ax, color=st.colour, linewidth=1.2, linestyle=":", zorder=17)
        handles.append(
            Line2D([], [], color=st.colour, lw=1.2, ls=":", label="Regroupement décrit (DBSCAN)")
        )
    g = l93(annotations)
    if g is not None:
        draw_annotations(ax, g, handles)


def theme_chart(counts: pd.DataFrame) -> bytes:
    """Annotations per theme and valence: stacked horizontal bars, hatched per valence."""
    data = counts.iloc[::-1]
    height = 0.9 + 0.28 * len(data)
    fig = Figure(figsize=(7.1, height), dpi=DPI)
    _Canvas(fig)
    ax = fig.add_axes((0.36, 0.9 / height * 0.6, 0.6, 1 - 0.9 / height))
    left = np.zeros(len(data))
    hatches = {"negatif": "////", "neutre": "", "positif": "...."}
    shades = {"negatif": "#4d4d4d", "neutre": "#bababa", "positif": "#f7f7f7"}
    for code, val in VALENCES.items():
        if code not in data:
            continue
        vals = data[code].to_numpy(dtype=float)
        ax.barh(
            range(len(data)),
            vals,
            left=left,
            color=shades[code],
            edgecolor="black",
            hatch=hatches[code],
            linewidth=0.6,
            label=val.label,
        )
        left += vals
    ax.set_yticks(range(len(data)))
    ax.set_yticklabels(
        [THEMES[t].label if t in THEMES else str(t) for t in data.index], fontsize=7.5
    )
    ax.set_xlabel("Nombre d'annotations", fontsize=8)
    ax.tick_params(axis="x", labelsize=7.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    return _png(fig)


def small_multiples(
    quarters: Sequence[tuple[str, Mapping[str, gpd.GeoDataFrame], gpd.GeoDataFrame]],
) -> bytes:
    """The same map (sealed share, QPV, breaks) of each quarter, all at the same scale."""
    n = len(quarters)
    cols = 3 if n > 4 else 2
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(7.1, 3.0 * rows + 0.9), dpi=DPI)
    _Canvas(fig)
    span = 0.0
    for _, _, per in quarters:
        x0, y0, x1, y1 = per.total_bounds
        span = max(span, x1 - x0, y1 - y0)
    span *= 1.08
    handles: list[Any] = []
    for i, (name, layers, per) in enumerate(quarters):
        r, c = divmod(i, cols)
        top = 1 - (r * 3.0 + 0.3) / (3.0 * rows + 0.9)
        hgt = 2.6 / (3.0 * rows + 0.9)
        ax = fig.add_axes((c / cols + 0.01, top - hgt, 1 / cols - 0.02, hgt))
        extent = _frame(per, (1 / cols - 0.02) * 7.1 / (hgt * (3.0 * rows + 0.9)), span)
        kh: list[Any] = []
        for kind in ("surfaces_minerales", "qpv", "coupures"):
            g = l93(layers.get(kind))
            if g is not None:
                draw_kind(ax, kind, g, kh)
        per.boundary.plot(ax=ax, color=LAYER_STYLES["quartier"].colour, linewidth=1.6, zorder=15)
        _finish_axes(ax, extent)
        if i == 0:
            scale_bar(ax, extent)
        ax.set_title(name, fontsize=9, fontweight="bold", pad=3)
        handles += kh
    by_label: dict[str, Any] = {}
    for h in handles:
        by_label.setdefault(h.get_label(), h)
    unique = list(by_label.values())
    fig.legend(handles=unique[:14], loc="lower center", ncols=3, fontsize=6, frameon=False)
    return _png(fig)
