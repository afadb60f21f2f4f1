"""The « carte sur table » drawing tool carried by the web map.

Participants draw points, lines and polygons (Leaflet.draw, French labels); each shape gets a
theme, a priority (1 = most important) and a comment through a small French form; the
« Exporter les défis » button downloads the shapes as RFC 7946 GeoJSON (EPSG:4326, 6
decimals) with the properties ``id, theme, theme_libelle, priorite, commentaire, cree_le``.
A « site proposé » mode (the form's first field) lets city staff draw a candidate deployment
site instead — its kind from a French list, its name and its owner; such features carry
``nature = "site"`` and ``id, type_site, type_libelle, nom, proprietaire, commentaire, cree_le``
in the same export, after the défis; :func:`qmi_geo.maps.read_sites_export` reads them back
(area from the drawn shape). Défis imported earlier are loaded into the same editable layer with their ``id``, so a second
workshop edits them and :func:`qmi_geo.maps.save_defis` updates rather than duplicates.

Everything a participant types is put on screen with ``textContent`` only.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from qmi_geo.maps._assets import OWN_PREFIX
from qmi_geo.maps._escape import json_for_script
from qmi_geo.maps._geojson import web_features
from qmi_geo.style import LAYER_STYLES, SITE_KINDS, THEMES

__all__ = ["DEFI_PROPERTIES", "AtelierLayer"]

DEFI_PROPERTIES = ("id", "theme", "theme_libelle", "priorite", "commentaire", "cree_le")
_NOT_PROPOSED = ("croisement", "autre")
_DRAW = "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/"

_JS = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = qmiAtelierLayer({{ this._parent.get_name() }}, {{ this.themes_js }},
    {{ this.style_js }}, {{ this.existing_js }}, {{ this.slug_js }}, {{ this.kinds_js }});
{% endmacro %}
"""


class AtelierLayer(JSCSSMixin, Layer):
    """Editable layer of défis with the drawing tool, the French form and the export button.

    Parameters
    ----------
    defis : geopandas.GeoDataFrame, optional
        Défis already imported (``id, theme, priorite, commentaire``), shown and editable.
    sites : geopandas.GeoDataFrame, optional
        Sites proposed at an earlier workshop (``sites_atelier.gpkg``: ``id, type, nom,
        proprietaire, commentaire``), shown and editable in « site proposé » mode; exported
        again with their ``id``, so a new import updates them instead of adding copies.
    slug : str
        Commune slug, used in the exported file name.
    name : str
        Name in the layer control.
    """

    _template = Template(_JS)
    default_js: list[tuple[str, str]] = [  # noqa: RUF012
        ("leaflet_draw_js", _DRAW + "leaflet.draw.js"),
        ("qmi_atelier", OWN_PREFIX + "qmi_atelier.js"),
    ]
    default_css: list[tuple[str, str]] = [  # noqa: RUF012
        ("leaflet_draw_css", _DRAW + "leaflet.draw.css"),
    ]

    def __init__(
        self,
        defis: gpd.GeoDataFrame | None = None,
        *,
        sites: gpd.GeoDataFrame | None = None,
        slug: str = "quartier",
        name: str = LAYER_STYLES["defis"].label,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "QmiAtelier"
        existing: dict[str, Any] = {"type": "FeatureCollection", "features": []}
        if defis is not None and len(defis):
            existing = web_features(
                defis, ["id", "theme", "priorite", "commentaire", "cree_le"], escape=False
            )
        if sites is not None and len(sites):
            proposed = sites.rename(columns={"type": "type_site"}).assign(nature="site")
            cols = ["id", "nature", "type_site", "nom", "proprietaire", "commentaire", "cree_le"]
            existing["features"] += web_features(
                proposed, [c for c in cols if c in proposed.columns], escape=False
            )["features"]
        st = LAYER_STYLES["defis"]
        self.existing_js = json_for_script(existing)
        self.themes_js = json_for_script([[t.code, t.label] for t in THEMES.values()])
        # « site proposé » mode: the kinds a commune can propose (never a derived crossing)
        self.kinds_js = json_for_script(
            [[k.code, k.label] for k in SITE_KINDS.values() if k.code not in _NOT_PROPOSED]
        )
        self.style_js = json_for_script(
            {
                "colour": st.colour,
                "fill": st.fill,
                "fill_opacity": st.fill_opacity,
                "weight": st.weight,
            }
        )
        self.slug_js = json_for_script(slug)
