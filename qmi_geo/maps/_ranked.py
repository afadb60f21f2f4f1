"""Ranked solution sites on the web map: numbered markers, reasons in popups, a list.

The matching stage ranks candidate sites per solution (``rang`` 1 = best) and explains each
rank (``raisons``). Each site gets a marker showing its rank; its popup gives the solution,
the site, its kind, the score and the reasons. On the carte sensible, where several solutions
share a site, one marker per site shows how many solutions are recommended there and its
popup lists them; on the project-holder map a numbered list in
the side panel zooms to each site. Line and polygon sites are drawn as well, the number sits
on a point of the site. Every text goes on screen with ``textContent``.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
from folium.map import Layer
from folium.template import Template

from qmi_geo.maps._escape import escape_text, json_for_script
from qmi_geo.maps._geojson import json_value, to_wgs84, web_features
from qmi_geo.style import LAYER_STYLES, SITE_KINDS

__all__ = ["RankedSites", "ranked_list_html"]


def _site_name(row: dict[str, Any]) -> str:
    for key in ("site_nom", "nom"):
        v = json_value(row.get(key))
        if v:
            return str(v)
    return "Site sans nom"


def _kind_label(value: Any) -> str:
    v = json_value(value)
    if v is None:
        return ""
    return SITE_KINDS[v].label if v in SITE_KINDS else str(v)


def _prepared(matches: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    g = matches[~(matches.geometry.isna() | matches.geometry.is_empty)].copy()
    if "rang" in g:
        g = g.sort_values("rang", kind="stable")
    if "score" in g:
        g["score_txt"] = [
            None if pd.isna(v) else f"{float(v):.2f}".replace(".", ",") + " / 1" for v in g["score"]
        ]
    if "type_site" in g:
        g["type_site"] = [_kind_label(v) for v in g["type_site"]]
    return g


class RankedSites(Layer):
    """Numbered markers (and shapes) of ranked sites, with the reasons in the popups.

    Parameters
    ----------
    matches : geopandas.GeoDataFrame
        ``solution_nom``, ``site_nom``, ``type_site``, ``rang``, ``score``, ``raisons``.
    name : str
        Name in the layer control.
    per_site : bool
        One marker per site showing how many solutions are recommended there (the carte
        sensible, drawn as a discreet ring); otherwise one marker per row showing its rank
        (the project-holder map).
    show : bool
        Whether the layer is on when the page opens.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function (map, data) {
  var st = data.style, group = L.featureGroup();
  L.geoJSON(data.shapes, {style: function () {
      return {color: st.colour, weight: data.discreet ? 3 : 6, opacity: data.discreet ? 0.6 : 0.85,
              fillColor: st.fill, fillOpacity: data.discreet ? 0.15 : 0.45}; },
    pointToLayer: function (f, ll) { return L.circleMarker(ll, {radius: 0, opacity: 0}); }
  }).addTo(group);
  function el(tag, text, parent, cls) {
    var e = document.createElement(tag); e.textContent = text;
    if (cls) { e.className = cls; } parent.appendChild(e); return e;
  }
  function popup(r) {
    var div = document.createElement("div"); div.className = "qmi-popup";
    el("h3", r.site, div);
    if (r.type) { el("p", r.type, div, "qmi-type-site"); }
    r.entries.forEach(function (x) {
      el("h4", (x.rang !== null ? "n° " + x.rang + " pour " : "") + x.solution, div);
      var dl = el("dl", "", div);
      if (x.score) { el("dt", "Score", dl); el("dd", x.score, dl); }
      if (x.raisons) { el("dt", "Pourquoi ce site", dl); el("dd", x.raisons, dl); }
    });
    return div;
  }
  var markers = data.rows.map(function (r) {
    var icon = document.createElement("div");
    icon.className = data.discreet ? "qmi-rang qmi-rang-discret" : "qmi-rang";
    icon.textContent = r.label;
    var m = L.marker([r.lat, r.lon], {icon: L.divIcon({html: icon.outerHTML,
        className: "qmi-marqueur", iconSize: data.discreet ? [22, 22] : [28, 28],
        iconAnchor: data.discreet ? [11, 11] : [14, 14]}),
        title: r.title, alt: r.title, riseOnHover: true, zIndexOffset: r.z});
    m.bindPopup(function () { return popup(r); }, {maxWidth: 340});
    m.addTo(group); return m;
  });
  group.qmiMarkers = markers;
  // the side list is built after this layer: listen on the document
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest(".qmi-classement button[data-i]");
    if (!b) { return; }
    var m = markers[Number(b.getAttribute("data-i"))]; if (!m) { return; }
    map.setView(m.getLatLng(), Math.max(map.getZoom(), 16)); m.openPopup();
  });
  window.qmiSitesClasses = group;
  return group;
})({{ this._parent.get_name() }}, {{ this.data_js }});
{% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
{% endmacro %}
""")

    def __init__(
        self,
        matches: gpd.GeoDataFrame,
        *,
        name: str = LAYER_STYLES["appariements"].label,
        per_site: bool = False,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "QmiSitesClasses"
        g = _prepared(matches)
        g = g.to_crs(2154)
        wgs = to_wgs84(g, simplify_m=1.0)
        anchors = to_wgs84(gpd.GeoDataFrame(geometry=g.geometry.representative_point(), crs=2154))
        rows: list[dict[str, Any]] = []
        at: dict[tuple[float, float, str], dict[str, Any]] = {}
        for rec, pt in zip(wgs.to_dict("records"), anchors.geometry, strict=True):
            rang = json_value(rec.get("rang"))
            rang = None if rang is None else int(rang)
            site = _site_name(rec)
            key = (round(pt.y, 6), round(pt.x, 6), site)
            if key not in at or not per_site:
                at[key] = {
                    "lat": key[0],
                    "lon": key[1],
                    "site": site,
                    "type": json_value(rec.get("type_site")) or "",
                    "entries": [],
                }
                rows.append(at[key])
            at[key]["entries"].append(
                {
                    "rang": rang,
                    "solution": json_value(rec.get("solution_nom")) or "",
                    "score": json_value(rec.get("score_txt")),
                    "raisons": json_value(rec.get("raisons")),
                }
            )
        for r in rows:
            ranks = [e["rang"] for e in r["entries"] if e["rang"] is not None]
            best = min(ranks) if ranks else 999
            if per_site:
                r["label"] = str(len(r["entries"]))
                r["title"] = f"{r['site']} : {len(r['entries'])} solution(s) recommandée(s)"
            else:
                r["label"] = str(best) if ranks else "•"
                r["title"] = f"n° {r['label']} — {r['site']}"
            r["z"] = 1000 - best
        lines = wgs[~wgs.geom_type.isin(["Point", "MultiPoint"])]
        st = LAYER_STYLES["appariements"]
        self.data_js = json_for_script(
            {
                "rows": rows,
                "shapes": web_features(lines, [], escape=False),
                "style": {"colour": st.colour, "fill": st.fill},
                "discreet": per_site,
            }
        )


def ranked_list_html(matches: gpd.GeoDataFrame, *, limit: int = 30) -> str:
    """Return the side panel's numbered list of ranked sites (escaped), best first."""
    g = _prepared(matches)
    parts = [
        '<details open class="qmi-classement-bloc"><summary>Sites classés '
        f'({len(g)})</summary><ol class="qmi-classement">'
    ]
    for i, rec in enumerate(g.head(limit).to_dict("records")):
        rang = json_value(rec.get("rang"))
        score = rec.get("score_txt") or ""
        parts.append(
            f'<li><button type="button" data-i="{i}"><span class="qmi-num">'
            f"{escape_text(rang if rang is not None else '•')}</span>"
            f"<span>{escape_text(_site_name(rec))}</span>"
            f'<span class="qmi-score">{escape_text(score)}</span></button></li>'
        )
    parts.append("</ol>")
    if len(g) > limit:
        parts.append(f"<p>… et {len(g) - limit} autre(s) site(s) sur la carte.</p>")
    parts.append("</details>")
    return "".join(parts)
