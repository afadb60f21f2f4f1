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
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from qmi_geo.errors import LayerError
from qmi_geo.style import BREAK_KINDS, LAYER_STYLES, SITE_KINDS, THEMES, VALENCES

__all__ = ["A3_LANDSCAPE_IN", "build_print_map"]

A3_LANDSCAPE_IN = (16.54, 11.69)
DPI = 300


def _dash(dash: str | None) -> Any:
    if not dash:
        return "-"
    return (0, tuple(float(x) for x in dash.split()))


def _l93(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if gdf is None or len(gdf) == 0:
        return None
    return gdf.to_crs(2154) if gdf.crs is not None and gdf.crs.to_epsg() != 2154 else gdf


def _nice_length(width_m: float) -> float:
    target = width_m / 5
    for n in (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if n >= target:
            return float(n)
    return 10000.0


def _scale_bar(ax: Axes, extent: tuple[float, float, float, float]) -> None:
    x0, y0, x1, y1 = extent
    length = _nice_length(x1 - x0)
    bx, by = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    h = 0.008 * (y1 - y0)
    for i in range(4):
        ax.add_patch(
            Rectangle(
                (bx + i * length / 4, by),
                length / 4,
                h,
                zorder=30,
                facecolor="black" if i % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.6,
            )
        )
    unit = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx, by + 1.8 * h, "0", ha="center", va="bottom", fontsize=8, zorder=30)
    ax.text(bx + length, by + 1.8 * h, unit, ha="center", va="bottom", fontsize=8, zorder=30)
    ax.text(
        bx,
        by - 1.2 * h,
        "Lambert-93 (EPSG:2154)",
        ha="left",
        va="top",
        fontsize=6.5,
        color="#444444",
        zorder=30,
    )


def _north_arrow(ax: Axes) -> None:
    ax.annotate(
        "N",
        xy=(0.965, 0.955),
        xytext=(0.965, 0.885),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=13,
        fontweight="bold",
        zorder=30,
        arrowprops={
            "arrowstyle": "-|>,head_width=0.5,head_length=0.9",
            "color": "black",
            "linewidth": 2,
        },
    )


def _draw_kind(ax: Axes, kind: str, gdf: gpd.GeoDataFrame, handles: list[Any]) -> None:
    st = LAYER_STYLES[kind]
    if kind == "coupures" and "type" in gdf:
        for code, part in gdf.groupby("type"):
            k = BREAK_KINDS.get(str(code))
            colour, width, dash = (
                (k.colour, k.width, k.dash) if k else (st.colour, st.weight, st.dash)
            )
            part.plot(ax=ax, color=colour, linewidth=width * 0.6, linestyle=_dash(dash), zorder=8)
            handles.append(
                Line2D(
                    [],
                    [],
                    color=colour,
                    linewidth=width * 0.6,
                    linestyle=_dash(dash),
                    label=k.label if k else str(code),
                )
            )
        return
    if kind == "sites" and "type" in gdf:
        for code, part in gdf.groupby("type"):
            sk = SITE_KINDS.get(str(code), SITE_KINDS["autre"])
            pts = part[part.geom_type.isin(["Point", "MultiPoint"])]
            polys = part[~part.geom_type.isin(["Point", "MultiPoint"])]
            if len(polys):
                polys.plot(ax=ax, color=sk.colour, edgecolor="#333333", linewidth=0.5, zorder=9)
            if len(pts):
                pts.plot(
                    ax=ax,
                    color=sk.colour,
                    edgecolor="#333333",
                    marker="s",
                    markersize=30,
                    linewidth=0.6,
                    zorder=12,
                )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="s",
                    linestyle="",
                    markerfacecolor=sk.colour,
                    markeredgecolor="#333333",
                    markersize=7,
                    label=sk.label,
                )
            )
        return
    if kind == "gares":
        gpe = (
            (gdf["reseau"] == "grand_paris_express")
            if "reseau" in gdf
            else pd.Series(False, index=gdf.index)
        )
        gdf[~gpe].plot(
            ax=ax, color="white", edgecolor=st.colour, markersize=28, linewidth=1.4, zorder=13
        )
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor="white",
                markeredgecolor=st.colour,
                markersize=7,
                label="Gare ou station existante",
            )
        )
        if gpe.any():
            gdf[gpe].plot(
                ax=ax, color="white", edgecolor="#6a3d9a", markersize=28, linewidth=1.4, zorder=13
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="o",
                    linestyle="",
                    markerfacecolor="white",
                    markeredgecolor="#6a3d9a",
                    markersize=7,
                    label="Gare du Grand Paris Express (future)",
                )
            )
        if "nom" in gdf:
            seen: set[str] = set()  # one point per station and line: label each name once
            for geom, name in zip(gdf.geometry, gdf["nom"], strict=True):
                if isinstance(name, str) and geom is not None and name not in seen:
                    seen.add(name)
                    ax.annotate(
                        name,
                        (geom.x, geom.y),
                        xytext=(4, 4),
                        textcoords="offset points",
                        fontsize=6.5,
                        color="#08306b",
                        zorder=14,
                    )
        return
    if kind == "surfaces_minerales":
        rate = (
            gdf["taux_impermeable"].fillna(0.5).clip(0, 1)
            if "taux_impermeable" in gdf
            else pd.Series(0.5, index=gdf.index)
        )
        gdf.assign(_r=rate).plot(
            ax=ax, column="_r", cmap="Greys", vmin=0.0, vmax=1.6, alpha=0.4, linewidth=0, zorder=3
        )
        handles.append(Patch(facecolor="#969696", alpha=0.4, label=st.label))
        return
    if kind == "nuisances":
        sel = gdf[gdf["nb_nuisances"].fillna(0) >= 2] if "nb_nuisances" in gdf else gdf
        if len(sel):
            sel.plot(ax=ax, color=st.fill, alpha=0.15, edgecolor="none", zorder=2)
            handles.append(Patch(facecolor=st.fill or st.colour, alpha=0.15, label=st.label))
        return
    if kind == "rues_citees":
        vmax = float(gdf["votes"].max()) if "votes" in gdf and len(gdf) else 1.0
        widths = (1 + 3 * gdf["votes"].fillna(0) / max(vmax, 1.0)) if "votes" in gdf else 2
        gdf.plot(ax=ax, color=st.colour, linewidth=widths, alpha=0.85, zorder=10)
        handles.append(Line2D([], [], color=st.colour, linewidth=2.5, label=st.label))
        return
    geom_types = set(gdf.geom_type)
    if geom_types <= {"Point", "MultiPoint"}:
        gdf.plot(ax=ax, color=st.fill or st.colour, edgecolor=st.colour, markersize=12, zorder=11)
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor=st.fill or st.colour,
                markeredgecolor=st.colour,
                label=st.label,
            )
        )
        return
    if geom_types <= {"LineString", "MultiLineString"} or st.fill is None:
        if geom_types <= {"LineString", "MultiLineString"}:
            gdf.plot(
                ax=ax,
                color=st.colour,
                linewidth=st.weight * 0.6,
                linestyle=_dash(st.dash),
                zorder=6,
            )
        else:
            gdf.boundary.plot(
                ax=ax,
                color=st.colour,
                linewidth=st.weight * 0.6,
                linestyle=_dash(st.dash),
                zorder=6,
            )
        if kind != "rues":
            handles.append(
                Line2D(
                    [],
                    [],
                    color=st.colour,
                    linewidth=st.weight * 0.6,
                    linestyle=_dash(st.dash),
                    label=st.label,
                )
            )
        return
    gdf.plot(
        ax=ax,
        facecolor="none" if st.hatch else st.fill,
        alpha=None if st.hatch else st.fill_opacity,
        edgecolor=st.colour,
        hatch=st.hatch,
        linewidth=st.weight * 0.5,
        zorder=5,
    )
    handles.append(
        Patch(
            facecolor="none" if st.hatch else st.fill,
            edgecolor=st.colour,
            hatch=st.hatch,
            alpha=None if st.hatch else st.fill_opacity,
            label=st.label,
        )
    )


def _draw_annotations(ax: Axes, ann: gpd.GeoDataFrame, handles: list[Any]) -> None:
    pts = ann[ann.geom_type == "Point"]
    used = [t for t in THEMES if t in set(pts.get("theme", pd.Series(dtype=str)))]
    for code, v in VALENCES.items():
        sel = pts[pts["valence"] == code] if "valence" in pts else pts
        if not len(sel):
            continue
        colours = [
            THEMES[t].colour if t in THEMES else THEMES["autre"].colour for t in sel["theme"]
        ]
        ax.scatter(
            sel.geometry.x,
            sel.geometry.y,
            c=colours,
            marker=v.marker,
            s=22,
            edgecolors="#222222",
            linewidths=0.4,
            zorder=20,
        )
    for t in used:
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor=THEMES[t].colour,
                markeredgecolor="#222222",
                markersize=6,
                label=THEMES[t].label,
            )
        )
    for v in VALENCES.values():
        handles.append(
            Line2D(
                [],
                [],
                marker=v.marker,
                linestyle="",
                markerfacecolor="#bbbbbb",
                markeredgecolor="#222222",
                markersize=6,
                label=v.label,
            )
        )
    others = ann[ann.geom_type != "Point"]
    if len(others):
        others.plot(
            ax=ax,
            color=[THEMES.get(t, THEMES["autre"]).colour for t in others["theme"]],
            linewidth=2,
            alpha=0.8,
            zorder=19,
        )


def _sources_text(sources: Sequence[Any]) -> str:
    lines = []
    for s in sources:
        text = getattr(s, "attribution", None) or (s if isinstance(s, str) else None)
        if text and text not in lines:
            lines.append(str(text) + ("" if getattr(s, "real", True) else " (synthétique)"))
    wrapped = [textwrap.fill("• " + line, 58, subsequent_indent="  ") for line in lines]
    return "Sources :\n" + "\n".join(wrapped) if wrapped else ""


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
    per = _l93(perimeter)
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

    handles: list[Any] = []
    terr: list[Any] = []
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
        g = _l93(layers.get(kind))
        if g is not None:
            _draw_kind(ax, kind, g, terr if kind not in ("coupures", "sites") else handles)
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
    if density_tif is not None and Path(density_tif).exists():
        import rasterio

        with rasterio.open(density_tif) as src:
            band = src.read(1, masked=True)
            b = src.bounds
            if src.crs is not None and src.crs.to_epsg() == 2154 and band.max() > 0:
                data = np.ma.masked_less_equal(band.astype(float) / float(band.max()), 0.02)
                ax.imshow(
                    data,
                    extent=(b.left, b.right, b.bottom, b.top),
                    cmap="YlOrRd",
                    alpha=0.55,
                    zorder=4,
                    interpolation="bilinear",
                )
                walk.append(Patch(facecolor="#fd8d3c", alpha=0.55, label="Densité des annotations"))
    g = _l93(routes)
    if g is not None:
        st = LAYER_STYLES["parcours"]
        g.plot(ax=ax, color=st.colour, linewidth=1.8, linestyle=_dash(st.dash), zorder=16)
        walk.append(
            Line2D([], [], color=st.colour, linewidth=1.8, linestyle=_dash(st.dash), label=st.label)
        )
    g = _l93(hotspots)
    if g is not None:
        st = LAYER_STYLES["points_chauds"]
        g.boundary.plot(ax=ax, color=st.colour, linewidth=1.6, linestyle=_dash(st.dash), zorder=17)
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
        walk.append(
            Patch(
                facecolor="white",
                edgecolor=st.colour,
                linestyle="--",
                label=st.label + " (nombre d'annotations)",
            )
        )
    g = _l93(annotations)
    if g is not None:
        _draw_annotations(ax, g, walk)
    g = _l93(matches)
    if g is not None:
        st = LAYER_STYLES["appariements"]
        g.plot(ax=ax, color=st.fill, edgecolor=st.colour, markersize=60, zorder=21)
        handles.append(Patch(facecolor=st.fill, edgecolor=st.colour, label=st.label))
    g = _l93(defis)
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
    _scale_bar(ax, extent)
    _north_arrow(ax)

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
    y = 0.9
    for heading, items in (
        ("Territoire", terr),
        ("Marche sensible", walk),
        ("Coupures, sites et défis", handles),
    ):
        if not items:
            continue
        for item in items:
            item.set_label(textwrap.shorten(item.get_label(), 52, placeholder="…"))
        leg = side.legend(
            handles=items,
            loc="upper left",
            bbox_to_anchor=(0, y),
            title=heading,
            fontsize=7,
            title_fontsize=8.5,
            frameon=False,
            alignment="left",
            ncols=2 if len(items) > 12 else 1,
            handlelength=2.2,
            labelspacing=0.35,
            columnspacing=0.8,
        )
        side.add_artist(leg)
        rows = -(-len(items) // (2 if len(items) > 12 else 1))
        y -= 0.035 + 0.0205 * rows
    footer = _sources_text(sources)
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
    fig.savefig(pdf, metadata={"Title": title, "Creator": "qmi_geo"})
    fig.savefig(png, dpi=DPI)
    return pdf, png
