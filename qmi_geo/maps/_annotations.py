"""The walk's annotations on the web map: one data block, markers built in the browser.

folium's usual way (one ``folium.Marker`` and one ``folium.Popup`` per annotation) writes a
few hundred bytes of JavaScript per point and creates every popup up front. Here the
annotations travel as one compact JSON table; the page builds light ``L.marker`` objects with
a cached inline-SVG ``divIcon`` per theme and valence, puts them in a MarkerCluster group with
chunked loading, and builds a popup only when it is opened. Participant text is put on screen
with ``textContent`` (never ``innerHTML``), so a comment is always text.

Clusters show the dominant theme's colour and glyph (never a lookalike of the numbered
solution badges); the legend's theme and valence entries filter the markers. The page's
search box (:mod:`qmi_geo.maps.assets.qmi_carte`) also searches the comments, zooms to the
matching annotation and opens its popup. Photos found next to the walk file are embedded as
thumbnails (:mod:`qmi_geo.maps._photos`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from qmi_geo.maps._assets import OWN_PREFIX
from qmi_geo.maps._escape import json_for_script
from qmi_geo.maps._geojson import json_value, to_wgs84, web_features
from qmi_geo.maps._photos import photo_table
from qmi_geo.maps._symbols import glyph_colour, marker_svg
from qmi_geo.style import LAYER_STYLES, THEMES, VALENCES

__all__ = ["AnnotationLayer", "annotation_payload"]

_MC = "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/"


def _undated(value: Any) -> bool:
    """True for a missing date, whatever form it took (NaT, NA, None, "", "NaT")."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return True
    return isinstance(value, str) and value.strip() in ("", "NaT", "<NA>", "nan", "None")


def _date_text(value: Any) -> str:
    """``YYYY-MM-DD HH:MM`` of a timestamp, or "" when undated."""
    if _undated(value):
        return ""
    t = json_value(value)
    return "" if t is None else str(t).replace("T", " ")[:16]


def _text(value: Any) -> str:
    v = json_value(value)
    return "" if v is None else str(v)


def annotation_payload(
    annotations: gpd.GeoDataFrame, photo_dirs: Sequence[Path | str] = ()
) -> dict[str, Any]:
    """Return the compact table the page turns into markers.

    Parameters
    ----------
    annotations : geopandas.GeoDataFrame
        Annotations following the walks schema (``theme``, ``valence``, ``intensite``,
        ``commentaire``, ``horodatage``, ``photo``...), any CRS.
    photo_dirs : sequence of path-like
        Folders where the photos named by the walk are looked for.

    Returns
    -------
    dict
        ``themes`` and ``valences`` (label, glyph and icon per code), ``points`` rows
        ``[lat, lon, theme, valence, intensite, commentaire, date, photo]``, ``formes``
        (a GeoJSON FeatureCollection of the line and polygon annotations) and ``photos``
        (what each photo value shows, see :func:`qmi_geo.maps._photos.photo_table`).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> a = gpd.GeoDataFrame(
    ...     {
    ...         "theme": ["bruit"],
    ...         "valence": ["negatif"],
    ...         "intensite": [2],
    ...         "commentaire": ["<b>fort</b>"],
    ...     },
    ...     geometry=[Point(652000, 6862000)],
    ...     crs=2154,
    ... )
    >>> p = annotation_payload(a)
    >>> p["points"][0][2:6]
    ['bruit', 'negatif', 2, '<b>fort</b>']
    """
    wgs = to_wgs84(annotations, simplify_m=1.0)
    n = len(wgs)

    def col(name: str, fn: Any = None) -> list[Any]:
        # through ``fn`` once per distinct value: 50,000 rows hold a few dozen themes,
        # dates or intensities, so the per-value work is done a few dozen times
        if name not in wgs.columns:
            return [fn(None) if fn else None] * n
        values = wgs[name]
        if fn is None:
            return list(values.to_numpy(dtype=object))
        if fn is _text and pd.api.types.is_string_dtype(values):
            # free text (comments: all distinct): strings as they are, missing as ""
            return values.astype(object).where(values.notna(), "").tolist()
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        done = [fn(u) for u in np.asarray(uniques, dtype=object)]
        return [done[c] for c in codes.tolist()]

    themes = col("theme", lambda t: t if t in THEMES else "autre")
    valences = col("valence", lambda v: v if v in VALENCES else "neutre")
    intens = col("intensite", json_value)
    # undated annotations (NaT, NA, empty) get no date line in their popup
    dates = col("horodatage", _date_text)
    geoms = np.asarray(wgs.geometry.values)
    is_point = shapely.get_type_id(geoms) == 0
    xs = shapely.get_x(geoms[is_point]).tolist()
    ys = shapely.get_y(geoms[is_point]).tolist()
    comments = col("commentaire", _text)
    photos = col("photo", _text)
    index = np.flatnonzero(is_point).tolist()
    points = [
        [y, x, themes[i], valences[i], intens[i], comments[i], dates[i], photos[i]]
        for i, x, y in zip(index, xs, ys, strict=True)
    ]
    shapes = wgs[~is_point].copy()
    if len(shapes):
        shapes["theme"] = [themes[i] for i in np.flatnonzero(~is_point)]
        shapes["valence"] = [valences[i] for i in np.flatnonzero(~is_point)]
        shapes["intensite"] = [intens[i] for i in np.flatnonzero(~is_point)]
        shapes["commentaire"] = [comments[i] for i in np.flatnonzero(~is_point)]
        shapes["date"] = [dates[i] for i in np.flatnonzero(~is_point)]
        shapes["photo"] = [photos[i] for i in np.flatnonzero(~is_point)]
    formes = web_features(
        shapes, ["theme", "valence", "intensite", "commentaire", "date", "photo"], escape=False
    )
    used = sorted(set(themes))
    return {
        "themes": {
            t: {
                "label": THEMES[t].label,
                "colour": THEMES[t].colour,
                "glyph": THEMES[t].glyph,
                "ink": glyph_colour(THEMES[t].colour),
                "icons": {v: marker_svg(t, v) for v in VALENCES},
            }
            for t in used
        },
        "valences": {code: v.label for code, v in VALENCES.items()},
        "points": points,
        "formes": formes,
        "photos": photo_table(photos, photo_dirs),
    }


# The table travels as a JSON block read with JSON.parse: quicker for the browser than the
# same data as a JavaScript literal inside the page's script (which V8 must parse as code).
# json_for_script leaves no "<" in it, so nothing in the data can close the block.
_JS = """
{% macro html(this, kwargs) %}
<script type="application/json" id="{{ this.get_name() }}_data">{{ this.payload }}</script>
{% endmacro %}
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = qmiAnnotationLayer({{ this._parent.get_name() }},
    JSON.parse(document.getElementById("{{ this.get_name() }}_data").textContent));
{% endmacro %}
"""


class AnnotationLayer(JSCSSMixin, Layer):
    """Clustered annotation markers with lazy popups, filters and comment search.

    Parameters
    ----------
    annotations : geopandas.GeoDataFrame
        Annotations following the walks schema.
    name : str
        Name in the layer control.
    show : bool
        Whether the layer is on when the page opens.
    photo_dirs : sequence of path-like
        Folders where the walk's photos are looked for.
    """

    _template = Template(_JS)
    default_js: list[tuple[str, str]] = [  # noqa: RUF012
        ("markercluster", _MC + "leaflet.markercluster.js"),
        ("qmi_annotations", OWN_PREFIX + "qmi_annotations.js"),
    ]
    default_css: list[tuple[str, str]] = [  # noqa: RUF012
        ("markercluster_css", _MC + "MarkerCluster.css"),
        ("markercluster_default_css", _MC + "MarkerCluster.Default.css"),
    ]

    def __init__(
        self,
        annotations: gpd.GeoDataFrame,
        *,
        name: str = LAYER_STYLES["annotations"].label,
        show: bool = True,
        photo_dirs: Sequence[Path | str] = (),
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "QmiAnnotations"
        self.data = annotation_payload(annotations, photo_dirs)
        self.payload = json_for_script(self.data)
