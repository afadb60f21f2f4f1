"""Marker symbols shared by the web map and the print map.

Font Awesome cannot be used offline without shipping a 700 kB font, so each theme has a
glyph (:attr:`qmi_geo.style.Theme.glyph`) present in DejaVu Sans (matplotlib's default font,
and common in browsers' symbol fonts), drawn in a disc of the theme's colour. The valence is
carried by the marker's border (solid / dotted / double, :data:`qmi_geo.style.VALENCES`) on
the web and by the marker's shape on paper, so meaning never rests on colour alone.
"""

from __future__ import annotations

import math

from qmi_geo.maps._escape import escape_text
from qmi_geo.style import SITE_KINDS, THEMES, VALENCES

__all__ = ["SITE_SHAPES", "THEME_GLYPHS", "glyph", "glyph_colour", "marker_svg", "site_svg"]

THEME_GLYPHS: dict[str, str] = {code: t.glyph for code, t in THEMES.items()}
"""Theme code to glyph, from :attr:`qmi_geo.style.Theme.glyph` (kept for callers)."""


def glyph(theme: str) -> str:
    """Return the glyph of a theme code (``"?"`` for an unknown code).

    Examples
    --------
    >>> glyph("chaleur"), glyph("inconnu")
    ('☀', '?')
    """
    return THEME_GLYPHS.get(theme, "?")


def glyph_colour(background: str) -> str:
    """Return the glyph colour readable on a disc of ``background``: white or near-black.

    Uses the WCAG relative luminance: light discs (yellow, pink, pale teal) get a dark glyph.

    Examples
    --------
    >>> glyph_colour("#d7301f"), glyph_colour("#fdb863")
    ('#ffffff', '#1a1a1a')
    """
    h = background.lstrip("#")
    rgb = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    # contrast with white (1.05 / (L + 0.05)) against contrast with #1a1a1a
    dark = 0.0103
    return "#ffffff" if 1.05 / (lum + 0.05) >= (lum + 0.05) / (dark + 0.05) else "#1a1a1a"


def marker_svg(theme: str, valence: str = "neutre", size: int = 22) -> str:
    """Return an inline SVG marker: a disc of the theme's colour with its glyph.

    The border says the valence: solid for negative, dotted for neutral, double for positive.

    Parameters
    ----------
    theme : str
        Theme code of :data:`qmi_geo.style.THEMES`.
    valence : str
        Valence code of :data:`qmi_geo.style.VALENCES`.
    size : int
        Width and height in CSS pixels.

    Returns
    -------
    str
        An ``<svg>`` element as text.

    Examples
    --------
    >>> svg = marker_svg("bruit", "positif")
    >>> svg.startswith("<svg") and "#6a3d9a" in svg
    True
    """
    colour = THEMES[theme].colour if theme in THEMES else THEMES["autre"].colour
    border = VALENCES[valence].border if valence in VALENCES else "solid"
    r = size / 2 - 2
    c = size / 2
    if border == "dotted":
        ring = (
            f'<circle cx="{c}" cy="{c}" r="{r}" fill="{colour}" stroke="#222" '
            'stroke-width="2" stroke-dasharray="2 2"/>'
        )
    elif border == "double":
        ring = (
            f'<circle cx="{c}" cy="{c}" r="{r}" fill="{colour}" stroke="#222" '
            f'stroke-width="1.2"/><circle cx="{c}" cy="{c}" r="{r - 2.5}" fill="none" '
            'stroke="#fff" stroke-width="1.2"/>'
        )
    else:
        ring = f'<circle cx="{c}" cy="{c}" r="{r}" fill="{colour}" stroke="#222" stroke-width="2"/>'
    text = (
        f'<text x="{c}" y="{c}" dy="0.35em" text-anchor="middle" font-size="{size * 0.55}" '
        f'fill="{glyph_colour(colour)}" '
        'font-family="DejaVu Sans, Segoe UI Symbol, Apple Symbols, sans-serif">'
        f"{escape_text(glyph(theme))}</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" aria-hidden="true">{ring}{text}</svg>'
    )


def _regular(n: int, start_deg: float, r: float = 1.0) -> list[tuple[float, float]]:
    step = 2 * math.pi / n
    a0 = math.radians(start_deg)
    return [(r * math.cos(a0 + k * step), r * math.sin(a0 + k * step)) for k in range(n)]


def _plus(w: float = 0.36) -> list[tuple[float, float]]:
    return [(-w, -1), (w, -1), (w, -w), (1, -w), (1, w), (w, w), (w, 1), (-w, 1), (-w, w),
            (-1, w), (-1, -w), (-w, -w)]  # fmt: skip


def _star(points: int = 5, inner: float = 0.42) -> list[tuple[float, float]]:
    outer = _regular(points, -90)
    inside = _regular(points, -90 + 180 / points, inner)
    return [p for pair in zip(outer, inside, strict=True) for p in pair]


#: Outline (unit box, y down) of each matplotlib marker used by
#: :attr:`qmi_geo.style.SiteKind.marker` on the print map, so the web map draws the same shape.
SITE_SHAPES: dict[str, list[tuple[float, float]]] = {
    "s": [(-0.85, -0.85), (0.85, -0.85), (0.85, 0.85), (-0.85, 0.85)],
    "D": [(0, -1), (0.8, 0), (0, 1), (-0.8, 0)],
    "8": _regular(8, -90 + 22.5),
    "p": _regular(5, -90),
    "h": _regular(6, -90),
    "P": _plus(),
    "X": [((x - y) / math.sqrt(2), (x + y) / math.sqrt(2)) for x, y in _plus(0.3)],
    "*": _star(),
    "o": _regular(24, 0),
}


def site_svg(kind: str, size: int = 16) -> str:
    """Return an inline SVG symbol of a candidate site kind: its print-map shape and colour.

    The shape and colour come from :data:`qmi_geo.style.SITE_KINDS` (``marker`` and
    ``colour``), the definition the print map uses, so both maps say the same thing; the
    palette test checks that kinds sharing a shape stay apart in colour.

    Examples
    --------
    >>> svg = site_svg("parc")
    >>> svg.startswith("<svg") and 'fill="#33a02c"' in svg and "<polygon" in svg
    True
    >>> site_svg("inconnu") == site_svg("autre")
    True
    """
    k = SITE_KINDS.get(kind, SITE_KINDS["autre"])
    pts = SITE_SHAPES.get(k.marker, SITE_SHAPES["o"])
    coords = " ".join(f"{x:.3f},{y:.3f}" for x, y in pts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="-1.25 -1.25 2.5 2.5" aria-hidden="true" focusable="false">'
        f'<polygon points="{coords}" fill="{escape_text(k.colour)}" stroke="#333333" '
        f'stroke-width="0.22" stroke-linejoin="round"/></svg>'
    )
