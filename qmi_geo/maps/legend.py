"""The categorical legend, the side panel (indicators, sources) and their stylesheet.

folium has no categorical legend; this one is plain semantic HTML (headings and lists, a
text label next to every swatch, ``<details>`` to fold it), so screen readers read it and it
prints: a ``@media print`` rule hides the map controls and keeps the legend and sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from qmi_geo.maps._escape import escape_text
from qmi_geo.maps._numbers import fr_value
from qmi_geo.maps._symbols import marker_svg, site_svg
from qmi_geo.style import (
    BREAK_KINDS,
    LAYER_STYLES,
    SEALED_SHARE_CLASSES,
    SITE_KINDS,
    THEMES,
    VALENCES,
)

__all__ = [
    "PAGE_CSS",
    "LegendEntry",
    "density_entry",
    "fill_entry",
    "legend_html",
    "line_entry",
    "panel_html",
    "point_entry",
    "sealed_entries",
    "theme_entries",
]


@dataclass(frozen=True)
class LegendEntry:
    """One line of the legend: a swatch (inline SVG) and its French label."""

    label: str
    swatch: str
    #: a class of a graduated layer, listed under its caption
    indent: bool = False
    #: ``"theme:<code>"`` or ``"valence:<code>"``: the entry is a button filtering the walk's
    #: annotations on the web map
    filter: str = ""


def _svg(body: str, w: int = 28, h: int = 16) -> str:
    return (
        f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" aria-hidden="true" '
        f'focusable="false">{body}</svg>'
    )


def line_entry(label: str, colour: str, width: float = 2.0, dash: str | None = None) -> LegendEntry:
    """Legend entry for a line layer.

    Examples
    --------
    >>> line_entry("Voie ferrée", "#252525", 3, "8 4").swatch.count("stroke-dasharray")
    1
    """
    d = f' stroke-dasharray="{escape_text(dash)}"' if dash else ""
    return LegendEntry(
        label,
        _svg(f'<line x1="1" y1="8" x2="27" y2="8" stroke="{colour}" stroke-width="{width}"{d}/>'),
    )


def fill_entry(
    label: str,
    colour: str,
    fill: str | None,
    opacity: float = 0.4,
    *,
    dash: str | None = None,
    hatch: bool = False,
) -> LegendEntry:
    """Legend entry for a polygon layer (optionally hatched, like the QPV).

    Examples
    --------
    >>> "pattern" in fill_entry("QPV", "#c51b7d", "#c51b7d", hatch=True).swatch
    True
    """
    d = f' stroke-dasharray="{escape_text(dash)}"' if dash else ""
    body = ""
    fill_attr = f'fill="{fill}" fill-opacity="{opacity}"' if fill else 'fill="none"'
    if hatch:
        pid = f"hachure-{colour.lstrip('#')}"
        body += (
            f'<defs><pattern id="{pid}" width="5" height="5" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="5" '
            f'stroke="{colour}" stroke-width="2"/></pattern></defs>'
        )
        fill_attr = f'fill="url(#{pid})"'
    body += (
        f'<rect x="2" y="2" width="24" height="12" {fill_attr} stroke="{colour}" '
        f'stroke-width="1.5"{d}/>'
    )
    return LegendEntry(label, _svg(body))


def point_entry(label: str, colour: str, fill: str = "#ffffff", radius: float = 5) -> LegendEntry:
    """Legend entry for a point layer drawn as a circle."""
    return LegendEntry(
        label,
        _svg(
            f'<circle cx="14" cy="8" r="{radius}" fill="{fill}" '
            f'stroke="{colour}" stroke-width="2"/>'
        ),
    )


def density_entry(label: str, colours: Sequence[str]) -> LegendEntry:
    """Legend entry for a continuous raster: a colour ramp."""
    stops = "".join(
        f'<stop offset="{i / max(len(colours) - 1, 1):.2f}" stop-color="{c}"/>'
        for i, c in enumerate(colours)
    )
    body = (
        f'<defs><linearGradient id="rampe-densite">{stops}</linearGradient></defs>'
        '<rect x="1" y="3" width="54" height="10" fill="url(#rampe-densite)" '
        'stroke="#555" stroke-width="0.5"/>'
    )
    return LegendEntry(label, _svg(body, w=56))


def sealed_entries() -> list[LegendEntry]:
    """Legend entries of the sealed share per IRIS: a caption and one swatch per class.

    The classes come from :data:`qmi_geo.style.SEALED_SHARE_CLASSES` (same as the print map).

    Examples
    --------
    >>> [e.label for e in sealed_entries()][:2]
    ['Surfaces minéralisées (part imperméabilisée par IRIS)', 'moins de 20 %']
    """
    st = LAYER_STYLES["surfaces_minerales"]
    out = [LegendEntry(st.label.replace(")", " par IRIS)"), "")]
    out += [
        LegendEntry(
            c.label,
            _svg(
                f'<rect x="2" y="2" width="24" height="12" fill="{c.colour}" '
                f'stroke="{st.colour}" stroke-width="0.5"/>'
            ),
            indent=True,
        )
        for c in SEALED_SHARE_CLASSES
    ]
    return out


def theme_entries(
    themes: Iterable[str], valences: Iterable[str] | None = None, *, filters: bool = False
) -> list[LegendEntry]:
    """Legend entries for the annotation themes present, plus the valence borders present.

    With ``filters``, each entry is a toggle button filtering the annotations on the web map.
    """
    wanted = set(VALENCES) if valences is None else set(valences)
    out = [
        LegendEntry(
            THEMES[t].label, marker_svg(t, "negatif", 18), filter=f"theme:{t}" if filters else ""
        )
        for t in themes
        if t in THEMES
    ]
    out += [
        LegendEntry(
            v.label, marker_svg("autre", code, 18), filter=f"valence:{code}" if filters else ""
        )
        for code, v in VALENCES.items()
        if code in wanted
    ]
    return out


def site_entries(kinds: Iterable[str]) -> list[LegendEntry]:
    """Legend entries for the site kinds present: the shape and colour drawn on the map."""
    return [LegendEntry(SITE_KINDS[k].label, site_svg(k)) for k in kinds if k in SITE_KINDS]


def break_entries(kinds: Iterable[str]) -> list[LegendEntry]:
    """Legend entries for the break kinds present."""
    return [
        line_entry(
            BREAK_KINDS[k].label, BREAK_KINDS[k].colour, BREAK_KINDS[k].width, BREAK_KINDS[k].dash
        )
        for k in kinds
        if k in BREAK_KINDS
    ]


def layer_entry(kind: str) -> LegendEntry:
    """Default legend entry of an analytic layer kind from :data:`LAYER_STYLES`."""
    st = LAYER_STYLES[kind]
    if kind in ("gares", "arbres"):
        return point_entry(st.label, st.colour, st.fill or "#ffffff")
    if st.fill is None and kind not in ("communes", "quartier", "iris"):
        return line_entry(st.label, st.colour, st.weight, st.dash)
    return fill_entry(
        st.label, st.colour, st.fill, st.fill_opacity, dash=st.dash, hatch=st.hatch is not None
    )


def _entry_html(e: LegendEntry) -> str:
    body = f'<span class="qmi-pastille">{e.swatch}</span><span>{escape_text(e.label)}</span>'
    if e.filter:
        what, _, code = e.filter.partition(":")
        return (
            f'<li><button type="button" class="qmi-filtre" data-{escape_text(what)}='
            f'"{escape_text(code)}" aria-pressed="true" title="Afficher ou masquer">'
            f"{body}</button></li>"
        )
    if e.indent:
        return f'<li class="qmi-classe">{body}</li>'
    if e.swatch:
        return f"<li>{body}</li>"
    return f'<li class="qmi-legende-titre-classes">{escape_text(e.label)}</li>'


def legend_html(
    sections: Sequence[tuple[str, Sequence[LegendEntry]]],
    *,
    title: str = "",
    sources_list: str = "",
) -> str:
    """Return the legend as accessible HTML: one ``<h3>`` and ``<ul>`` per section.

    Parameters
    ----------
    sections : sequence of (str, sequence of LegendEntry)
        Heading and entries; empty sections are left out.
    title : str
        The map's title, printed above the legend (hidden on screen, where the side
        panel shows it).
    sources_list : str
        The full list of sources (escaped HTML), printed under the legend only.

    Examples
    --------
    >>> html = legend_html([("Thèmes", [LegendEntry("<Bruit>", "<svg></svg>")])])
    >>> "&lt;Bruit&gt;" in html and 'role="region"' in html
    True
    """
    parts = [
        '<section class="qmi-legende" role="region" aria-labelledby="qmi-legende-titre">',
    ]
    if title:
        parts.append(f'<p class="qmi-titre-impression">{escape_text(title)}</p>')
    parts.append('<details open><summary id="qmi-legende-titre">Légende</summary>')
    for heading, entries in sections:
        if not entries:
            continue
        parts.append(f"<h3>{escape_text(heading)}</h3>")
        if any(e.filter for e in entries):
            parts.append(
                '<p class="qmi-aide-filtre">Cliquez un thème ou un ressenti pour '
                "l'afficher ou le masquer.</p>"
            )
        parts.append("<ul>")
        parts += [_entry_html(e) for e in entries]
        parts.append("</ul>")
    parts.append("</details>")
    if sources_list:
        parts.append(f'<div class="qmi-sources-impression"><h3>Sources</h3>{sources_list}</div>')
    parts.append("</section>")
    return "".join(parts)


#: Columns of the indicator table with the Métropole's reference (metropolitan stage).
_MEDIAN_COLUMNS = ("mediane_metropole", "metropole_mediane", "mediane_mgp", "valeur_metropole")
_RANK_COLUMNS = ("rang_metropole", "metropole_rang", "rang_mgp")
_COUNT_COLUMNS = ("n_metropole", "nb_communes_metropole", "metropole_n")


def _first_known(row: dict[str, Any], names: Sequence[str]) -> Any:
    for name in names:
        v = row.get(name)
        if v is not None and not (isinstance(v, float) and pd.isna(v)):
            return v
    return None


def _reference_html(row: dict[str, Any], code: str) -> str:
    """« Métropole : médiane …, rang …/130 » under a value, when the table carries them."""
    median = _first_known(row, _MEDIAN_COLUMNS)
    rank = _first_known(row, _RANK_COLUMNS)
    if median is None and rank is None:
        return ""
    bits = []
    if median is not None:
        bits.append(f"médiane {fr_value(median, row.get('unite'), code)}")
    if rank is not None:
        n = _first_known(row, _COUNT_COLUMNS) or 130
        bits.append(f"rang {int(float(rank))}/{int(float(n))}")
    return f'<br><small class="qmi-reference">Métropole : {escape_text(", ".join(bits))}</small>'


def panel_html(
    title: str,
    indicators: pd.DataFrame | None,
    sources: Sequence[Any] = (),
    *,
    subtitle: str = "",
    extra_html: str = "",
    indicators_open: bool = True,
) -> str:
    """Return the side panel: title, key indicators (foldable) and optional extra markup.

    Parameters
    ----------
    title : str
        Map title (the quarter and commune).
    indicators : pandas.DataFrame, optional
        Long table with columns ``code, libelle, valeur, unite, statut, note``.
    sources : sequence
        Unused (the sources are listed by the attribution bar's « Sources » panel); kept so
        callers need not change.
    subtitle : str
        A line under the title (e.g. the production date).
    extra_html : str
        Markup added after the indicators (already escaped), e.g. the ranked sites.
    indicators_open : bool
        Whether the indicators open unfolded (the page folds them on small screens).
    """
    parts = [
        '<aside class="qmi-panneau" aria-labelledby="qmi-titre">',
        f'<h1 id="qmi-titre">{escape_text(title)}</h1>',
    ]
    if subtitle:
        parts.append(f'<p class="qmi-sous-titre">{escape_text(subtitle)}</p>')
    if indicators is not None and len(indicators):
        parts.append(
            f'<details{" open" if indicators_open else ""} class="qmi-indicateurs-bloc">'
            "<summary>Indicateurs clés du quartier</summary>"
            '<table class="qmi-indicateurs"><tbody>'
        )
        for row in indicators.to_dict("records"):
            code = str(row.get("code") or "")
            note = row.get("note")
            title_attr = f' title="{escape_text(note)}"' if isinstance(note, str) and note else ""
            statut = row.get("statut")
            flag = (
                ""
                if not isinstance(statut, str) or statut in ("", "ok")
                else f" <small>({escape_text(statut)})</small>"
            )
            parts.append(
                f'<tr{title_attr}><th scope="row">{escape_text(row.get("libelle"))}'
                f"</th><td>{escape_text(fr_value(row.get('valeur'), row.get('unite'), code))}"
                f"{flag}{_reference_html(row, code)}</td></tr>"
            )
        parts.append("</tbody></table></details>")
    parts.append(extra_html)
    parts.append("</aside>")
    return "".join(parts)


PAGE_CSS = """
.leaflet-container.leaflet-container { background: #f4f3ee; font-family: "DejaVu Sans",
  "Segoe UI", Arial, sans-serif; }
.qmi-legende, .qmi-panneau { background: rgba(255,255,255,0.95); border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.4); padding: 6px 10px; font-size: 12px; color: #222;
  max-height: 45vh; overflow-y: auto; }
.qmi-legende { max-width: 280px; max-height: 36vh; }
.qmi-legende summary, .qmi-panneau summary { font-weight: bold; cursor: pointer; }
.qmi-legende h3 { font-size: 12px; margin: 6px 0 2px; }
.qmi-legende ul, .qmi-sources { list-style: none; margin: 0; padding: 0; }
.qmi-legende li { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
.qmi-pastille { display: inline-flex; min-width: 28px; justify-content: center; }
.qmi-panneau { max-width: 330px; max-height: 32vh; }
.qmi-panneau h1 { font-size: 15px; margin: 0 0 4px; }
.qmi-sous-titre { margin: 0 0 6px; color: #555; }
.qmi-indicateurs th { text-align: left; font-weight: normal; padding-right: 8px; }
.qmi-indicateurs td { text-align: right; white-space: nowrap; font-weight: bold; }
.qmi-sources li { margin: 3px 0; }
.qmi-marqueur { background: none; border: none; }
.qmi-popup h3 { margin: 0 0 4px; font-size: 13px; }
.qmi-popup h4 { margin: 6px 0 2px; font-size: 12px; color: #006d2c; }
.qmi-popup .qmi-type-site { margin: 0; color: #555; }
.leaflet-popup-content { font-size: 12px; line-height: 1.4; }
.qmi-popup dl { margin: 0; display: grid; grid-template-columns: minmax(56px, max-content) 1fr;
  gap: 2px 8px; }
.qmi-popup dt { font-weight: bold; } .qmi-popup dd { margin: 0; white-space: pre-wrap; }
.qmi-recherche { background: #fff; padding: 4px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.4); width: 240px; }
.qmi-recherche input { width: 100%; box-sizing: border-box; }
.qmi-recherche label { display: block; font-size: 11px; }
.qmi-recherche ul { list-style: none; margin: 4px 0 0; padding: 0; max-height: 220px;
  overflow-y: auto; }
.qmi-recherche button { width: 100%; text-align: left; border: none; background: #f0f0f0;
  margin: 1px 0; cursor: pointer; font-size: 11px; }
.qmi-etiquette-chaud { background: #fff; border: 2px solid #e41a1c; font-weight: bold; }
.qmi-legende li.qmi-classe { padding-left: 12px; }
.qmi-legende li.qmi-legende-titre-classes { margin-top: 3px; }
.leaflet-control-layers.qmi-couches { font-size: 12px; padding: 0; max-width: 290px; }
.qmi-couches .leaflet-control-layers-list { padding: 2px 8px 6px; max-height: 30vh;
  overflow-y: auto; }
.qmi-couches-titre { display: block; width: 100%; border: none; background: #fff;
  font: bold 12px/1.6 inherit; text-align: left; padding: 3px 8px; cursor: pointer;
  border-radius: 4px; }
.qmi-couches-titre::after { content: " ▾"; }
.qmi-replie .qmi-couches-titre::after { content: " ▸"; }
.qmi-replie .leaflet-control-layers-list { display: none !important; }
.qmi-groupe summary { font-weight: bold; cursor: pointer; margin-top: 3px; color: #333; }
.qmi-groupe label { padding-left: 12px; line-height: 1.35; }
.qmi-groupe label span { white-space: normal; }
.leaflet-control-attribution { font-size: 11px; }
.qmi-sources-bouton { font: inherit; font-size: 11px; padding: 0 4px; margin-left: 2px;
  cursor: pointer; border: 1px solid #888; border-radius: 3px; background: #fff; }
.qmi-sources-panneau { position: absolute; right: 10px; bottom: 24px; z-index: 1001;
  background: #fff; max-width: 520px; max-height: 55vh; overflow-y: auto; font-size: 12px;
  padding: 6px 12px 8px; border-radius: 4px; box-shadow: 0 1px 6px rgba(0,0,0,0.45); }
.qmi-sources-panneau h2 { font-size: 13px; margin: 0 0 4px; }
.qmi-sources-panneau .qmi-fermer { float: right; border: none; background: none;
  font-size: 18px; line-height: 1; cursor: pointer; }
.qmi-rang { display: flex; align-items: center; justify-content: center; width: 24px;
  height: 24px; border-radius: 50%; background: #006d2c; color: #fff; font-weight: bold;
  font-size: 12px; border: 2px solid #fff; box-shadow: 0 0 0 1.5px #006d2c; }
.qmi-classement { margin: 4px 0 0; padding-left: 0; list-style: none; }
.qmi-classement button { width: 100%; text-align: left; border: none; background: #f3f7f3;
  margin: 1px 0; padding: 2px 4px; cursor: pointer; font: inherit; display: flex; gap: 6px; }
.qmi-classement button:hover, .qmi-classement button:focus { background: #d9f0d3; }
.qmi-classement .qmi-num { font-weight: bold; color: #006d2c; min-width: 20px; }
.qmi-classement .qmi-score { margin-left: auto; color: #555; white-space: nowrap; }
.qmi-grappe { display: flex; align-items: center; height: 22px; border: 2px solid;
  border-radius: 6px; background: #fff; box-shadow: 0 1px 3px rgba(0,0,0,0.45);
  font: bold 12px/1 "DejaVu Sans", sans-serif; color: #222; width: max-content; }
.qmi-grappe-glyphe { display: inline-flex; align-items: center; justify-content: center;
  width: 20px; height: 22px; font-size: 13px; border-radius: 3px 0 0 3px; }
.qmi-grappe-n { padding: 0 5px; }
.qmi-rang.qmi-rang-discret { width: 18px; height: 18px; background: #fff; color: #006d2c;
  border: 2px solid #006d2c; box-shadow: none; font-size: 10px; }
.qmi-etiquette-boite { background: none; border: none; }
.qmi-etiquette { white-space: nowrap; font-size: 11px; color: #1b2a3a; font-weight: 600;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 4px #fff; }
.qmi-etiquette-gare { color: #08306b; font-weight: bold; }
.qmi-etiquette-rue { font-style: italic; font-weight: normal; color: #333; }
.qmi-etiquette-site { color: #4a1486; }
.qmi-recentrer a { display: flex !important; align-items: center; justify-content: center; }
.qmi-popup figure { margin: 6px 0 0; } .qmi-popup img { max-width: 100%; height: auto;
  display: block; border-radius: 3px; }
.qmi-popup figcaption { font-size: 11px; color: #555; }
.leaflet-popup-content { overflow-wrap: anywhere; }
.qmi-filtre { display: flex; align-items: center; gap: 6px; width: 100%; border: none;
  background: none; padding: 0; font: inherit; text-align: left; cursor: pointer; color: inherit; }
.qmi-filtre[aria-pressed="false"] { opacity: 0.35; text-decoration: line-through; }
.qmi-filtre:focus-visible { outline: 2px solid #2166ac; }
.qmi-aide-filtre { margin: 0 0 2px; font-size: 11px; color: #555; }
.qmi-titre-impression, .qmi-sources-impression { display: none; }
.qmi-infobulle { position: absolute; z-index: 1200; pointer-events: none; background: #fff;
  border: 1px solid #999; border-radius: 3px; padding: 2px 6px; font-size: 12px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.4); max-width: 260px; }
.qmi-defi-numero { display: flex; align-items: center; justify-content: center; width: 20px;
  height: 20px; border-radius: 50%; background: #ff00ff; color: #fff; font-weight: bold;
  font-size: 12px; border: 2px solid #fff; box-shadow: 0 0 0 1.5px #7a007a; }
.qmi-tiroir-bouton, .qmi-tiroir { display: none; }
@media (max-height: 800px) {
  .qmi-legende { max-height: 30vh; }
  .qmi-panneau { max-height: 26vh; }
  .qmi-recherche { width: 200px; }
}
@media (max-width: 600px) {
  .qmi-tiroir-bouton { display: block; position: absolute; z-index: 1001; top: 10px;
    right: 10px; font: bold 13px/1 inherit; padding: 8px 10px; border-radius: 4px;
    border: 1px solid #777; background: #fff; box-shadow: 0 1px 5px rgba(0,0,0,0.4); }
  .qmi-tiroir:not([hidden]) { display: block; position: absolute; z-index: 1000; left: 0;
    right: 0; bottom: 0; max-height: 50%; overflow-y: auto; background: #fff;
    box-shadow: 0 -2px 8px rgba(0,0,0,0.35); padding: 4px 6px 10px;
    border-radius: 8px 8px 0 0; }
  .qmi-tiroir .leaflet-control { float: none; margin: 6px 0 0; clear: both; }
  .qmi-tiroir .qmi-legende, .qmi-tiroir .qmi-panneau, .qmi-tiroir .qmi-recherche,
  .qmi-tiroir .leaflet-control-layers.qmi-couches, .qmi-tiroir .qmi-export {
    max-width: none; width: auto; max-height: none; box-shadow: none; border: 1px solid #ddd; }
  .qmi-tiroir .qmi-couches .leaflet-control-layers-list { max-height: none; }
  .qmi-petit-ecran .leaflet-control-minimap, .qmi-petit-ecran .leaflet-control-measure,
  .qmi-petit-ecran .leaflet-control-fullscreen { display: none !important; }
  .qmi-petit-ecran .leaflet-control-attribution { max-width: 100vw; white-space: nowrap;
    overflow: hidden; text-overflow: ellipsis; }
  .qmi-petit-ecran .leaflet-bottom.leaflet-left { bottom: 22px; }
  .qmi-tiroir-ouvert .leaflet-bottom, .qmi-tiroir-ouvert .leaflet-draw { display: none; }
  .qmi-sources-panneau { left: 6px; right: 6px; max-width: none; max-height: 50%; }
}
@media print {
  .leaflet-control-zoom, .leaflet-control-layers, .leaflet-draw, .qmi-recherche,
  .leaflet-control-minimap, .leaflet-control-measure, .leaflet-control-fullscreen,
  .qmi-export, .qmi-sources-bouton, .qmi-fermer, .qmi-panneau, .qmi-recentrer,
  .qmi-tiroir-bouton, .qmi-tiroir, .qmi-sources-panneau, .leaflet-popup,
  .qmi-aide-filtre, .qmi-formulaire-defi { display: none !important; }
  .leaflet-bottom.leaflet-left { top: 0; bottom: auto; }
  .qmi-legende { max-height: none !important; max-width: 560px; box-shadow: none;
    border: 1px solid #999; overflow: visible; font-size: 10px; }
  .qmi-legende details { column-count: 2; column-gap: 14px; }
  .qmi-legende details summary { column-span: all; }
  .qmi-legende li { break-inside: avoid; }
  .qmi-legende h3 { break-after: avoid; font-size: 10.5px; }
  .qmi-sources-impression small { display: none; }
  .qmi-titre-impression { display: block; font-size: 15px; font-weight: bold; margin: 0 0 4px; }
  .qmi-sources-impression { display: block; font-size: 9px; }
  .qmi-filtre[aria-pressed="false"] { display: none; }
}
"""
