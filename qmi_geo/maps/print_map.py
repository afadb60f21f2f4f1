"""The print map: A3 landscape, 300 dpi, PDF and PNG, drawn with matplotlib.

Same inputs and the same style definition (:mod:`qmi_geo.style`) as the web map: colours,
dashes and hatches per layer kind, theme colours and valence shapes for the annotations.
Drawn in Lambert-93, so the scale bar is true; title, legend, scale bar, north arrow, sources
and date sit around the map.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from qmi_geo._atomic import atomic_path
from qmi_geo.errors import LayerError
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
    sources_text,
)
from qmi_geo.style import LAYER_STYLES, VALENCES
from qmi_geo.walks.fub import FUB_WALK_ID

__all__ = ["A3_LANDSCAPE_IN", "build_print_map"]

A3_LANDSCAPE_IN = (16.54, 11.69)
DPI = 300


def build_print_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    perimeter: gpd.GeoDataFrame,
    title: str,
    out_stem: Path | str,
    annotations: gpd.GeoDataFrame | None = None,
    routes: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    density_tif: Path | str | None = None,
    indicators: pd.DataFrame | None = None,
    matches: gpd.GeoDataFrame | None = None,
    defis: gpd.GeoDataFrame | None = None,
    sources: Sequence[Any] = (),
    **_: Any,
) -> tuple[Path, Path]:
    """Write the A3 landscape print map as PDF and 300 dpi PNG.

    Takes the same inputs as :func:`qmi_geo.maps.build_web_map` (web-only options are
    ignored).

    Parameters
    ----------
    layers : mapping of str to geopandas.GeoDataFrame
        Analytic layers keyed by kind.
    perimeter : geopandas.GeoDataFrame
        The quarter; the map is framed on it.
    title : str
        Title printed above the legend.
    out_stem : path-like
        Output path without suffix: ``<stem>.pdf`` and ``<stem>.png`` are written.

    Returns
    -------
    tuple of pathlib.Path
        The PDF and PNG paths.
    """
    per = l93(perimeter)
    if per is None:
        raise LayerError("Le périmètre du quartier est vide : impossible de cadrer la carte.")
    out_stem = Path(out_stem)
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=A3_LANDSCAPE_IN, dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.015, 0.025, 0.68, 0.95))
    side = fig.add_axes((0.705, 0.025, 0.285, 0.95))
    side.set_axis_off()

    # frame: the quarter plus a margin, stretched to the axes' aspect ratio
    x0, y0, x1, y1 = per.total_bounds
    pad = 0.08 * max(x1 - x0, y1 - y0)
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    ax_w, ax_h = 0.68 * A3_LANDSCAPE_IN[0], 0.95 * A3_LANDSCAPE_IN[1]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = x1 - x0, y1 - y0
    if w / h < ax_w / ax_h:
        w = h * ax_w / ax_h
    else:
        h = w * ax_h / ax_w
    extent = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    ax.set_facecolor("#f4f3ee")

    handles: list[Any] = []  # workshop and solutions
    terr: list[Any] = []
    moves: list[Any] = []  # breaks and mobility
    labels: list[tuple[float, float, str]] = []
    target = {"coupures": moves, "gares": moves, "rues_citees": moves, "sites": handles}
    for kind in (
        "communes",
        "rues",
        "nuisances",
        "surfaces_minerales",
        "qpv",
        "coupures",
        "rues_citees",
        "arbres",
        "gares",
        "sites",
    ):
        g = l93(layers.get(kind))
        if g is not None:
            draw_kind(ax, kind, g, target.get(kind, terr), labels)
    mask_outside(ax, per, extent)
    per.boundary.plot(ax=ax, color=LAYER_STYLES["quartier"].colour, linewidth=2.2, zorder=15)
    terr.insert(
        0,
        Line2D(
            [],
            [],
            color=LAYER_STYLES["quartier"].colour,
            linewidth=2.2,
            label=LAYER_STYLES["quartier"].label,
        ),
    )
    walk: list[Any] = []
    # the walk's annotations; those made from the FUB barometer are the cited streets layer
    ann = l93(annotations)
    if ann is not None and "marche" in ann:
        ann = l93(ann[ann["marche"].astype("string") != FUB_WALK_ID])
    has_walk = ann is not None
    fub_only = not has_walk and annotations is not None and len(annotations) > 0
    # without a walk, what the FUB alone gives sits with the cited streets
    walk_target = walk if has_walk else moves
    if density_tif is not None and Path(density_tif).exists() and (has_walk or fub_only):
        import rasterio

        with rasterio.open(density_tif) as src:
            band = src.read(1, masked=True)
            b = src.bounds
            if src.crs is not None and src.crs.to_epsg() == 2154 and band.max() > 0:
                data = np.ma.masked_less_equal(band.astype(float) / float(band.max()), 0.05)
                ax.imshow(
                    data,
                    extent=(b.left, b.right, b.bottom, b.top),
                    cmap="YlOrRd",
                    alpha=0.45,
                    zorder=4,
                    interpolation="bilinear",
                )
                walk_target.append(
                    Patch(
                        facecolor="#fd8d3c",
                        alpha=0.45,
                        label="Densité des ressentis de la marche"
                        if has_walk
                        else "Densité des rues citées par les cyclistes (FUB 2017)",
                    )
                )
    g = l93(routes)
    if g is not None:
        st = LAYER_STYLES["parcours"]
        g.plot(ax=ax, color=st.colour, linewidth=1.8, linestyle=dash_pattern(st.dash), zorder=16)
        walk.append(
            Line2D(
                [],
                [],
                color=st.colour,
                linewidth=1.8,
                linestyle=dash_pattern(st.dash),
                label=st.label,
            )
        )
    g = l93(hotspots) if has_walk or fub_only else None
    if g is not None:
        st = LAYER_STYLES["points_chauds"]
        g.boundary.plot(
            ax=ax, color=st.colour, linewidth=1.6, linestyle=dash_pattern(st.dash), zorder=17
        )
        if "n_annotations" in g:
            for p, n in zip(g.geometry.representative_point(), g["n_annotations"], strict=True):
                ax.text(
                    p.x,
                    p.y,
                    str(int(n)),
                    ha="center",
                    va="center",
                    fontsize=8,
                    fontweight="bold",
                    color=st.colour,
                    zorder=18,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": st.colour},
                )
        walk_target.append(
            Patch(
                facecolor="white",
                edgecolor=st.colour,
                linestyle="--",
                label=(
                    st.label
                    if has_walk
                    else "Concentrations de rues citées par les cyclistes (FUB 2017)"
                )
                + " (nombre d'annotations)",
            )
        )
    themes: list[Any] = []
    g = ann
    if g is not None:
        draw_annotations(ax, g, themes)
        # valences (the marker shapes) with the walk's layers; themes in their own block
        valences = {v.label for v in VALENCES.values()}
        walk += [h for h in themes if h.get_label() in valences]
        themes = [h for h in themes if h.get_label() not in valences]
    g = l93(matches)
    if g is not None:
        st = LAYER_STYLES["appariements"]
        # a ring around the site, so the site's kind (its fill colour) still shows
        pts = g[g.geom_type.isin(["Point", "MultiPoint"])]
        if len(pts):
            pts.plot(
                ax=ax,
                facecolor="none",
                edgecolor=st.colour,
                markersize=150,
                linewidth=1.6,
                zorder=21,
            )
        shapes = g[~g.geom_type.isin(["Point", "MultiPoint"])]
        if len(shapes):
            shapes.plot(ax=ax, color=st.colour, linewidth=4.5, alpha=0.45, zorder=8)
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor="none",
                markeredgecolor=st.colour,
                markeredgewidth=1.6,
                markersize=10,
                label=st.label + " (cercle autour du site)",
            )
        )
    g = l93(defis)
    if g is not None:
        st = LAYER_STYLES["defis"]
        g.plot(ax=ax, color=st.colour, alpha=0.6, markersize=50, linewidth=2.5, zorder=22)
        if "priorite" in g:
            for p, n in zip(g.geometry.representative_point(), g["priorite"], strict=True):
                ax.text(
                    p.x,
                    p.y,
                    str(n),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white",
                    fontweight="bold",
                    zorder=23,
                )
        handles.append(Patch(facecolor=st.colour, alpha=0.6, label=st.label + " (n° de priorité)"))

    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    furniture = [scale_bar(ax, extent), north_arrow(ax)]
    place_labels(ax, labels, avoid=furniture)

    side.text(
        0,
        1,
        textwrap.fill(title, 34),
        fontsize=17,
        fontweight="bold",
        va="top",
        transform=side.transAxes,
    )
    side.text(
        0,
        0.925,
        "Carte sensible augmentée — diagnostic territorial QMI",
        fontsize=9,
        va="top",
        color="#444444",
        transform=side.transAxes,
    )
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    side_box = side.get_window_extent(renderer)
    y = 0.9
    for heading, items in (
        ("Territoire", terr),
        ("Coupures et mobilité", moves),
        ("Ressentis de la marche sensible", walk),
        ("Thèmes des ressentis", themes),
        ("Atelier et solutions", handles),
    ):
        if not items:
            continue
        ncols = 2 if len(items) > 14 else 1
        width = 34 if ncols == 2 else 62
        for item in items:  # long labels wrap, never cut
            label = item.get_label()
            if len(label) > width:
                item.set_label(textwrap.fill(label, width, subsequent_indent="  "))
        leg = side.legend(
            handles=items,
            handler_map=GLYPH_HANDLERS,
            loc="upper left",
            bbox_to_anchor=(0, y),
            title=heading,
            fontsize=7,
            title_fontsize=8.5,
            frameon=False,
            alignment="left",
            ncols=ncols,
            handlelength=2.2,
            labelspacing=0.35,
            columnspacing=0.8,
            borderaxespad=0.0,
        )
        side.add_artist(leg)
        side.legend_ = None  # drawn once, as an artist (else the last block is drawn twice)
        # stack the next block right under this one (its real height, not an estimate)
        box = leg.get_window_extent(renderer)
        y -= box.height / side_box.height + 0.012
    footer = sources_text(sources)
    today = dt.date.today().strftime("%d/%m/%Y")
    side.text(
        0,
        0.0,
        f"{footer}\n\nCarte produite le {today} avec qmi_geo.",
        fontsize=6.5,
        va="bottom",
        color="#333333",
        transform=side.transAxes,
        linespacing=1.3,
    )

    pdf = out_stem.with_suffix(".pdf")
    png = out_stem.with_suffix(".png")
    with atomic_path(pdf) as tmp:
        fig.savefig(tmp, format="pdf", metadata={"Title": title, "Creator": "qmi_geo"})
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    return pdf, png
