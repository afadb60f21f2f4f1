"""Thumbnail maps of several quarters at one common scale, for the comparison page.

Each quarter is drawn in a square of the same ground size (the largest quarter plus a
margin), so the thumbnails compare sizes truthfully; the layers and colours are the print
map's (:mod:`qmi_geo.maps._print_layers`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import geopandas as gpd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from qmi_geo.maps._print_layers import draw_kind, l93, mask_outside, scale_bar
from qmi_geo.style import LAYER_STYLES

__all__ = ["quarter_thumbnails"]

_KINDS = ("communes", "surfaces_minerales", "qpv", "coupures", "gares")


def quarter_thumbnails(
    quarters: Mapping[str, tuple[gpd.GeoDataFrame, Mapping[str, gpd.GeoDataFrame]]],
    *,
    size_in: float = 2.6,
    dpi: int = 110,
) -> tuple[dict[str, bytes], str]:
    """Draw one PNG thumbnail per quarter, all at the same scale.

    Parameters
    ----------
    quarters : mapping
        Quarter name → (perimeter, analytic layers by kind).
    size_in : float
        Side of each square thumbnail in inches.
    dpi : int
        Resolution of the PNGs.

    Returns
    -------
    tuple
        Name → PNG bytes, and the French caption giving the common scale.
    """
    pers = {n: l93(p) for n, (p, _) in quarters.items()}
    spans = [
        max(p.total_bounds[2] - p.total_bounds[0], p.total_bounds[3] - p.total_bounds[1])
        for p in pers.values()
        if p is not None
    ]
    if not spans:
        return {}, ""
    side = 1.12 * max(spans)
    out: dict[str, bytes] = {}
    for name, (_, layers) in quarters.items():
        per = pers[name]
        if per is None:
            continue
        x0, y0, x1, y1 = per.total_bounds
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        extent = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
        fig = Figure(figsize=(size_in, size_in), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_facecolor("#f4f3ee")
        for kind in _KINDS:
            g = l93(layers.get(kind))
            if g is not None:
                draw_kind(ax, kind, g, [], [])
        mask_outside(ax, per, extent)
        per.boundary.plot(ax=ax, color=LAYER_STYLES["quartier"].colour, linewidth=1.8, zorder=15)
        ax.set_xlim(extent[0], extent[2])
        ax.set_ylim(extent[1], extent[3])
        ax.set_aspect("equal")
        ax.set_axis_off()
        scale_bar(ax, extent)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        out[name] = buf.getvalue()
    km = side / 1000
    caption = (
        f"Toutes les vignettes sont à la même échelle : chaque carré couvre "
        f"{km:.1f} km de côté".replace(".", ",")
        + " (quartier en orange, QPV hachurés, coupures et gares ; Lambert-93)."
    )
    return out, caption
