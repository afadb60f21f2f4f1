"""Map controls that folium lacks or that need an offline twist.

* :class:`HtmlControl` places our own HTML (legend, side panel) in a Leaflet control, so it
  sits with the map in fullscreen and prints with it.
* :class:`VectorMiniMap` is Leaflet-MiniMap fed with our own vector outlines (folium's
  ``MiniMap`` needs a tile server, which an offline page does not have).
* :class:`SourcesControl` puts a one-line credit in Leaflet's attribution bar and a button
  opening the full, deduplicated list of sources.
* :class:`GroupedLayers` folds the layer control into titled, collapsible groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from folium.elements import JSCSSMixin
from folium.map import MacroElement
from folium.template import Template

from qmi_geo.maps._escape import escape_text, json_for_script

__all__ = ["GroupedLayers", "HtmlControl", "MetricScale", "SourcesControl", "VectorMiniMap"]

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


class SourcesControl(MacroElement):
    """A one-line credit in the attribution bar and a « Sources (n) » button opening the list.

    Parameters
    ----------
    short : str
        The credit line (« Sources : IGN, INSEE, ANCT… »), plain text.
    list_html : str
        The full list (:func:`qmi_geo.maps.sources.sources_html`, already escaped).
    count : int
        Number of credits in the list.

    The list is a panel over the map, hidden until the button is pressed, and shown when the
    page is printed.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }}, ctl = map.attributionControl;
  ctl.setPrefix("Leaflet");
  var panel = L.DomUtil.create("section", "qmi-sources-panneau", map.getContainer());
  panel.id = "qmi-sources-liste"; panel.hidden = true;
  panel.setAttribute("aria-label", "Sources des données");
  panel.innerHTML = '<button type="button" class="qmi-fermer" aria-label="Fermer">×</button>'
    + "<h2>Sources des données</h2>" + {{ this.list_js }};
  L.DomEvent.disableClickPropagation(panel); L.DomEvent.disableScrollPropagation(panel);
  ctl.addAttribution({{ this.line_js }});
  function toggle(open) {
    panel.hidden = !open;
    var b = document.querySelector(".qmi-sources-bouton");
    if (b) { b.setAttribute("aria-expanded", String(open)); }
  }
  L.DomEvent.on(ctl.getContainer(), "click", function (e) {
    if (e.target.closest && e.target.closest(".qmi-sources-bouton")) {
      L.DomEvent.stop(e); toggle(panel.hidden);
    }
  });
  panel.querySelector(".qmi-fermer").addEventListener("click", function () { toggle(false); });
  window.addEventListener("beforeprint", function () { toggle(true); });
})();
{% endmacro %}
""")

    def __init__(self, short: str, list_html: str, count: int) -> None:
        super().__init__()
        self._name = "SourcesControl"
        line = (
            f'<span class="qmi-credit">{escape_text(short)}</span> '
            '<button type="button" class="qmi-sources-bouton" aria-expanded="false" '
            f'aria-controls="qmi-sources-liste">Sources ({int(count)})</button>'
        )
        self.line_js = json_for_script(line)
        self.list_js = json_for_script(list_html)


class GroupedLayers(MacroElement):
    """Fold the layer control's overlays into titled, collapsible groups.

    Parameters
    ----------
    control : folium.LayerControl
        The control (already added to the map).
    groups : sequence of (str, sequence of str)
        Group title and the overlay names it holds, in display order; overlays in no group
        go to a last « Autres couches » group.

    The control gets a « Couches » button that folds it entirely; on a small screen (less
    than 800 px high) it opens folded, so the map stays visible. Leaflet rebuilds the list
    when a layer is added or removed, so the grouping runs after each rebuild and remembers
    which groups were open.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var ctl = {{ this.control }}, groups = {{ this.groups_js }}, open = {};
  var small = window.innerHeight < 800;
  groups.forEach(function (g) { open[g[0]] = true; });
  function regroup() {
    var list = ctl._overlaysList; if (!list) { return; }
    var labels = Array.from(list.querySelectorAll("label"));
    var byName = {};
    labels.forEach(function (l) { byName[l.textContent.trim()] = l; });
    var used = {};
    list.textContent = "";
    groups.concat([["Autres couches", labels.map(function (l) {
        return l.textContent.trim(); })]]).forEach(function (g) {
      var items = g[1].filter(function (n) { return byName[n] && !used[n]; });
      if (!items.length) { return; }
      var d = document.createElement("details"); d.className = "qmi-groupe";
      d.open = open[g[0]] !== false;
      var s = document.createElement("summary"); s.textContent = g[0]; d.appendChild(s);
      items.forEach(function (n) { used[n] = true; d.appendChild(byName[n]); });
      d.addEventListener("toggle", function () { open[g[0]] = d.open; });
      list.appendChild(d);
    });
  }
  var update = ctl._update;
  ctl._update = function () { var r = update.apply(this, arguments); regroup(); return r; };
  regroup();
  var box = ctl.getContainer();
  box.classList.add("qmi-couches");
  var btn = document.createElement("button");
  btn.type = "button"; btn.className = "qmi-couches-titre"; btn.textContent = "Couches";
  box.insertBefore(btn, box.firstChild);
  function fold(folded) {
    box.classList.toggle("qmi-replie", folded);
    btn.setAttribute("aria-expanded", String(!folded));
  }
  btn.addEventListener("click", function () {
    fold(!box.classList.contains("qmi-replie"));
  });
  fold(small);
})();
{% endmacro %}
""")

    def __init__(self, control: Any, groups: Sequence[tuple[str, Sequence[str]]]) -> None:
        super().__init__()
        self._name = "GroupedLayers"
        self.control = control.get_name()
        self.groups_js = json_for_script([[t, list(names)] for t, names in groups])


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
