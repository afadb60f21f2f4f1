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
from matplotlib.legend_handler import HandlerBase
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text

from qmi_geo.maps._symbols import glyph, glyph_colour
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
    "GLYPH_HANDLERS",
    "GlyphMarker",
    "dash_pattern",
    "draw_annotations",
    "draw_kind",
    "l93",
    "mask_outside",
    "north_arrow",
    "place_labels",
    "scale_bar",
    "sources_text",
]

SEALED_CAPTION = LAYER_STYLES["surfaces_minerales"].label.replace(")", " par IRIS) :")
HALO = [patheffects.withStroke(linewidth=2.2, foreground="white")]


class GlyphMarker(Line2D):
    """A legend handle drawn as a marker of the theme's colour with the theme's glyph."""

    def __init__(self, colour: str, glyph_text: str, label: str, marker: str = "o") -> None:
        super().__init__(
            [],
            [],
            marker=marker,
            linestyle="",
            markerfacecolor=colour,
            markeredgecolor="#222222",
            markersize=9,
            label=label,
        )
        self.glyph_text = glyph_text
        self.ink = glyph_colour(colour)


class _GlyphHandler(HandlerBase):
    def create_artists(  # type: ignore[override]
        self,
        legend: Any,
        orig_handle: GlyphMarker,
        xdescent: float,
        ydescent: float,
        width: float,
        height: float,
        fontsize: float,
        trans: Any,
    ) -> list[Any]:
        cx, cy = width / 2 - xdescent, height / 2 - ydescent
        disc = Line2D(
            [cx],
            [cy],
            marker=orig_handle.get_marker(),
            linestyle="",
            markerfacecolor=orig_handle.get_markerfacecolor(),
            markeredgecolor="#222222",
            markeredgewidth=0.5,
            markersize=9.5,
            transform=trans,
        )
        text = Text(
            cx,
            cy,
            orig_handle.glyph_text,
            ha="center",
            va="center_baseline",
            fontsize=6,
            color=orig_handle.ink,
            fontweight="bold",
            transform=trans,
        )
        return [disc, text]


#: ``handler_map`` for legends holding :class:`GlyphMarker` handles.
GLYPH_HANDLERS: dict[type, HandlerBase] = {GlyphMarker: _GlyphHandler()}


def mask_outside(ax: Axes, perimeter: gpd.GeoDataFrame, extent: Sequence[float]) -> None:
    """Fade everything outside the quarter (a pale veil with the quarter as a hole)."""
    import shapely

    frame = shapely.box(*extent).buffer(1000, join_style="mitre")
    veil = frame.difference(shapely.union_all(perimeter.geometry.values))
    gpd.GeoSeries([veil], crs=perimeter.crs).plot(
        ax=ax, color="#f4f3ee", alpha=0.6, edgecolor="none", zorder=14
    )


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
                zorder=24,
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
                    marker=sk.marker,
                    markersize=34,
                    linewidth=0.6,
                    zorder=12,
                )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker=sk.marker,
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
                key = "".join(ch for ch in str(name).lower() if ch.isalnum())
                if isinstance(name, str) and geom is not None and key not in seen:
                    seen.add(key)
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
    import matplotlib as mpl

    with mpl.rc_context({"hatch.linewidth": 1.1, "hatch.color": st.colour}):
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
    """Draw the walk's annotations: a marker of the theme's colour carrying its glyph.

    The marker's shape says the valence (:attr:`qmi_geo.style.Valence.marker`), the colour
    and the glyph say the theme, so no theme rests on colour alone. Appends one
    :class:`GlyphMarker` per theme present and one grey marker per valence present.
    """
    pts = ann[ann.geom_type == "Point"]
    themes = pts.get("theme", pd.Series(dtype=str))
    themes = themes.where(themes.isin(list(THEMES)), "autre") if len(pts) else themes
    present = set(themes)
    used = [t for t in THEMES if t in present]
    vals = pts["valence"] if "valence" in pts else pd.Series("neutre", index=pts.index)
    for code, v in VALENCES.items():
        sel = vals == code
        if not sel.any():
            continue
        part = pts[sel]
        codes = themes[sel]
        colours = [THEMES[t].colour for t in codes]
        ax.scatter(
            part.geometry.x,
            part.geometry.y,
            c=colours,
            marker=v.marker,
            s=58,
            edgecolors="#222222",
            linewidths=0.45,
            zorder=20,
        )
        dy = {"v": 4.0, "^": -4.0}.get(v.marker, 0.0)  # the glyph sits in the shape's body
        for x, y, t in zip(part.geometry.x, part.geometry.y, codes, strict=True):
            ax.annotate(
                glyph(t),
                (x, y),
                xytext=(0, dy * 0.35),
                textcoords="offset points",
                ha="center",
                va="center_baseline",
                fontsize=4.2,
                fontweight="bold",
                color=glyph_colour(THEMES[t].colour),
                zorder=21,
                annotation_clip=True,
            )
    for t in used:
        handles.append(GlyphMarker(THEMES[t].colour, glyph(t), THEMES[t].label))
    for code, v in VALENCES.items():
        if (vals == code).any():
            handles.append(
                Line2D(
                    [],
                    [],
                    marker=v.marker,
                    linestyle="",
                    markerfacecolor="#bbbbbb",
                    markeredgecolor="#222222",
                    markersize=7,
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
