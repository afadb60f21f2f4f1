"""Drawing of each layer kind on the print map (matplotlib), from :mod:`qmi_geo.style`.

Each ``_draw_*`` function draws a layer on the map axes and appends its legend handles; the
map furniture (scale bar, north arrow) and the station labels (placed so they do not collide)
are here too. :mod:`qmi_geo.maps.print_map` lays the page out.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from qmi_geo.maps.sources import source_items
from qmi_geo.style import (
    BREAK_KINDS,
    LAYER_STYLES,
    SEALED_SHARE_CLASSES,
    SITE_KINDS,
    THEMES,
    VALENCES,
)

__all__ = [
    "dash_pattern",
    "draw_annotations",
    "draw_kind",
    "l93",
    "north_arrow",
    "place_labels",
    "scale_bar",
    "sources_text",
]

SEALED_CAPTION = LAYER_STYLES["surfaces_minerales"].label.replace(")", " par IRIS) :")
HALO = [patheffects.withStroke(linewidth=2.2, foreground="white")]


def dash_pattern(dash: str | None) -> Any:
    if not dash:
        return "-"
    return (0, tuple(float(x) for x in dash.split()))


def l93(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if gdf is None or len(gdf) == 0:
        return None
    return gdf.to_crs(2154) if gdf.crs is not None and gdf.crs.to_epsg() != 2154 else gdf


def _nice_length(width_m: float) -> float:
    target = width_m / 5
    for n in (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if n >= target:
            return float(n)
    return 10000.0


def scale_bar(ax: Axes, extent: tuple[float, float, float, float]) -> Any:
    """Draw a metric scale bar on a white box (returned, so labels can avoid it)."""
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
    box = ax.add_patch(
        Rectangle(
            (bx - 0.012 * (x1 - x0), by - 4.2 * h),
            length + 0.03 * (x1 - x0),
            8.2 * h,
            facecolor="white",
            edgecolor="#999999",
            linewidth=0.5,
            alpha=0.9,
            zorder=29,
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
    return box


def north_arrow(ax: Axes) -> Any:
    """Draw the north arrow (returned, so labels can avoid it)."""
    return ax.annotate(
        "N",
        xy=(0.965, 0.955),
        xytext=(0.965, 0.885),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=13,
        fontweight="bold",
        zorder=30,
        bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#999999", "alpha": 0.9},
        arrowprops={
            "arrowstyle": "-|>,head_width=0.5,head_length=0.9",
            "color": "black",
            "linewidth": 2,
        },
    )


def place_labels(
    ax: Axes, labels: Sequence[tuple[float, float, str]], avoid: Sequence[Any] = ()
) -> int:
    """Write point labels with a white halo, skipping any that would overlap another.

    Tries four positions around each point (right-above, right-below, left-above,
    left-below); a label that fits nowhere, falls outside the map or would cover one of the
    ``avoid`` artists (scale bar, north arrow) is left out.

    Returns
    -------
    int
        The number of labels written.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    frame = ax.get_window_extent(renderer)
    placed: list[Any] = [a.get_window_extent(renderer) for a in avoid]
    written = 0
    for x, y, text in labels:
        for dx, dy, ha, va in (
            (4, 3, "left", "bottom"),
            (4, -3, "left", "top"),
            (-4, 3, "right", "bottom"),
            (-4, -3, "right", "top"),
        ):
            t = ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                fontsize=6.5,
                color="#08306b",
                ha=ha,
                va=va,
                zorder=14,
                path_effects=HALO,
                annotation_clip=True,
            )
            box = t.get_window_extent(renderer).expanded(1.05, 1.1)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            if inside and not any(box.overlaps(b) for b in placed):
                placed.append(box)
                written += 1
                break
            t.remove()
    return written


def draw_kind(
    ax: Axes,
    kind: str,
    gdf: gpd.GeoDataFrame,
    handles: list[Any],
    labels: list[tuple[float, float, str]] | None = None,
) -> None:
    """Draw one layer kind and append its legend handles (station names go to ``labels``)."""
    if labels is None:
        labels = []
    st = LAYER_STYLES[kind]
    if kind == "coupures" and "type" in gdf:
        for code, part in gdf.groupby("type"):
            k = BREAK_KINDS.get(str(code))
            colour, width, dash = (
                (k.colour, k.width, k.dash) if k else (st.colour, st.weight, st.dash)
            )
            part.plot(
                ax=ax, color=colour, linewidth=width * 0.6, linestyle=dash_pattern(dash), zorder=8
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    color=colour,
                    linewidth=width * 0.6,
                    linestyle=dash_pattern(dash),
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
                    labels.append((geom.x, geom.y, name))
        return
    if kind == "surfaces_minerales":
        from qmi_geo.maps._layers import sealed_class

        rate = gdf["taux_impermeable"] if "taux_impermeable" in gdf else pd.Series(None, gdf.index)
        classes = [sealed_class(v) for v in rate]
        colours = [c.colour if c else "none" for c in classes]
        gdf.plot(ax=ax, color=colours, alpha=0.6, edgecolor="#8c7b65", linewidth=0.3, zorder=3)
        handles.append(Patch(facecolor="none", edgecolor="none", label=SEALED_CAPTION))
        for c in SEALED_SHARE_CLASSES:
            handles.append(
                Patch(facecolor=c.colour, alpha=0.6, edgecolor="#8c7b65", label="   " + c.label)
            )
        return
    if kind == "nuisances":
        sel = gdf[gdf["nb_nuisances"].fillna(0) >= 2] if "nb_nuisances" in gdf else gdf
        if len(sel):
            sel.plot(ax=ax, color=st.fill, alpha=0.25, edgecolor="none", zorder=2)
            handles.append(Patch(facecolor=st.fill or st.colour, alpha=0.25, label=st.label))
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
                linestyle=dash_pattern(st.dash),
                zorder=6,
            )
        else:
            gdf.boundary.plot(
                ax=ax,
                color=st.colour,
                linewidth=st.weight * 0.6,
                linestyle=dash_pattern(st.dash),
                zorder=6,
            )
        if kind != "rues":
            handles.append(
                Line2D(
                    [],
                    [],
                    color=st.colour,
                    linewidth=st.weight * 0.6,
                    linestyle=dash_pattern(st.dash),
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


def draw_annotations(ax: Axes, ann: gpd.GeoDataFrame, handles: list[Any]) -> None:
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


def sources_text(sources: Sequence[Any], width: int = 58) -> str:
    """Return the deduplicated list of credits, wrapped for the side panel."""
    lines = [i.text + ("" if i.real else " (synthétique)") for i in source_items(sources)]
    wrapped = [textwrap.fill("• " + line, width, subsequent_indent="  ") for line in lines]
    return "Sources :\n" + "\n".join(wrapped) if wrapped else ""
