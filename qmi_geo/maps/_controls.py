"""Map controls that folium lacks or that need an offline twist.

* :class:`HtmlControl` places our own HTML (legend, side panel) in a Leaflet control, so it
  sits with the map in fullscreen and prints with it.
* :class:`VectorMiniMap` is Leaflet-MiniMap fed with our own vector outlines (folium's
  ``MiniMap`` needs a tile server, which an offline page does not have).
* :class:`Attributions` adds every data source to Leaflet's attribution line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from folium.elements import JSCSSMixin
from folium.map import MacroElement
from folium.template import Template

from qmi_geo.maps._escape import escape_text, json_for_script

__all__ = ["Attributions", "HtmlControl", "MetricScale", "VectorMiniMap"]

_MINIMAP = "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/"


class HtmlControl(MacroElement):
    """A Leaflet control holding a block of (already escaped) HTML.

    Parameters
    ----------
    html : str
        Markup built by :mod:`qmi_geo.maps.legend` (participant text already escaped).
    position : str
        Leaflet control position.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var Ctl = L.Control.extend({
    options: {position: {{ this.position|tojson }}},
    onAdd: function () {
      var div = L.DomUtil.create("div", "leaflet-control");
      div.innerHTML = {{ this.html_js }};
      L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
      return div;
    }
  });
  new Ctl().addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
""")

    def __init__(self, html: str, position: str = "bottomleft") -> None:
        super().__init__()
        self._name = "HtmlControl"
        self.position = position
        # The markup is ours and already escaped; the JSON escaping only keeps it a string.
        self.html_js = json_for_script(html)


class VectorMiniMap(JSCSSMixin, MacroElement):
    """Leaflet-MiniMap showing a GeoJSON outline layer instead of tiles.

    Parameters
    ----------
    features : dict
        A small FeatureCollection (commune outlines, the quarter) in EPSG:4326.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var layer = L.geoJSON({{ this.features_js }}, {style: function (f) {
      return {color: f.properties.couleur || "#666", weight: 1, fill: false}; }});
  new L.Control.MiniMap(layer, {toggleDisplay: true, position: "bottomright",
      width: 140, height: 120, zoomLevelOffset: -4,
      strings: {hideText: "Masquer la carte de situation",
                showText: "Afficher la carte de situation"}
  }).addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
""")
    default_js: list[tuple[str, str]] = [("minimap", _MINIMAP + "Control.MiniMap.js")]  # noqa: RUF012
    default_css: list[tuple[str, str]] = [  # noqa: RUF012
        ("minimap_css", _MINIMAP + "Control.MiniMap.css")
    ]

    def __init__(self, features: dict[str, Any]) -> None:
        super().__init__()
        self._name = "VectorMiniMap"
        self.features_js = json_for_script(features)


class Attributions(MacroElement):
    """Add each source's attribution (escaped) to the map's attribution control."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var ctl = {{ this._parent.get_name() }}.attributionControl;
  ctl.setPrefix({{ this.prefix }});
  {{ this.items }}.forEach(function (a) { ctl.addAttribution(a); });
})();
{% endmacro %}
""")

    def __init__(self, attributions: Sequence[str]) -> None:
        super().__init__()
        self._name = "Attributions"
        unique = list(dict.fromkeys(a for a in attributions if a))
        self.items = json_for_script([escape_text(a) for a in unique])
        self.prefix = json_for_script("Leaflet")


class MetricScale(MacroElement):
    """A metric-only scale bar (Leaflet's default also shows feet and miles)."""

    _template = Template("""
{% macro script(this, kwargs) %}
L.control.scale({metric: true, imperial: false, maxWidth: 160, position: "bottomleft"})
  .addTo({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"
