"""Data sources credited on the maps: one deduplicated list and a short credit line.

Several layers often share a producer (OpenStreetMap contributors credited by the FUB streets
and by the OSM roads, IDFM by the stations and the rail lines...). The web map shows a one-line
credit (« Sources : IGN, INSEE, ANCT, IDFM, OSM… ») with a button that opens the full list;
the print map prints the full list. Both come from :func:`source_items`, which splits each
attribution on `` ; `` and drops a credit already given (the same text, or a text contained
in a longer credit), so every source is credited once and none is lost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qmi_geo._credits import split_credits
from qmi_geo.maps._escape import escape_text

__all__ = ["SourceItem", "short_credit", "source_items", "sources_html", "split_credits"]

# Short names of the usual producers, in the order the credit line lists them.
_SHORT: tuple[tuple[str, str], ...] = (
    ("IGN", r"\bIGN\b"),
    ("INSEE", r"\bINSEE\b|\bInsee\b"),
    ("ANCT", r"\bANCT\b"),
    ("IDFM", r"Île-de-France Mobilités|\bIDFM\b"),
    ("SGP", r"Société des grands projets|Société du Grand Paris"),
    ("OSM", r"OpenStreetMap"),
    ("IPR", r"Institut Paris Region"),
    ("FUB", r"\bFUB\b"),
    ("Airparif", r"Airparif"),
    ("Bruitparif", r"Bruitparif"),
    ("CSTB", r"\bCSTB\b"),
    ("ADEME", r"\bADEME\b"),
    ("Enedis", r"Enedis"),
    ("MENJ", r"\bMENJ\b"),
    ("CD92", r"Hauts-de-Seine"),
    ("Underlaid", r"Underlaid"),
)


@dataclass(frozen=True)
class SourceItem:
    """One credit of the full list."""

    text: str
    licence: str = ""
    real: bool = True


def _attribution(source: Any) -> str:
    text = getattr(source, "attribution", None)
    if text is None and isinstance(source, str):
        text = source
    return str(text).strip() if text else ""


def source_items(sources: Sequence[Any], extra: Sequence[str] = ()) -> list[SourceItem]:
    """Return the deduplicated credits of ``sources`` (then of ``extra`` plain strings).

    Parameters
    ----------
    sources : sequence
        Objects with an ``attribution`` string (optionally ``licence`` and ``real``), or
        plain strings.
    extra : sequence of str
        More credits (e.g. an online basemap's).

    Returns
    -------
    list of SourceItem
        One item per distinct credit, in the order first met.

    Examples
    --------
    >>> items = source_items(["FUB – Baromètre 2017 ; © OSM", "© OSM", "IGN – BD TOPO"])
    >>> [i.text for i in items]
    ['FUB – Baromètre 2017', '© OSM', 'IGN – BD TOPO']
    """
    pieces: list[SourceItem] = []
    for s in [*sources, *extra]:
        licence = getattr(s, "licence", "") or ""
        real = bool(getattr(s, "real", True))
        for part in split_credits(_attribution(s)):
            pieces.append(SourceItem(part, str(licence), real))
    out: list[SourceItem] = []
    seen: set[str] = set()
    for item in pieces:
        if item.text in seen:
            continue
        # a credit contained in a longer one is already given (« …, © OSM (ODbL) »)
        if any(item.text in other.text and item.text != other.text for other in pieces):
            continue
        seen.add(item.text)
        out.append(item)
    return out


def short_credit(items: Sequence[SourceItem], limit: int = 5) -> str:
    """Return the one-line credit: the first ``limit`` short producer names.

    Examples
    --------
    >>> short_credit(source_items(["IGN – ADMIN EXPRESS", "ANCT – QPV", "© OpenStreetMap"]))
    'Sources : IGN, ANCT, OSM'
    >>> short_credit(source_items(["Mairie de Sceaux – bancs"]))
    'Sources : Mairie de Sceaux'
    """
    names: list[str] = []
    text = " ; ".join(i.text for i in items)
    for short, pattern in _SHORT:
        if re.search(pattern, text):
            names.append(short)
    for i in items:  # producers we have no short name for: the text before the dash
        if not any(re.search(p, i.text) for _, p in _SHORT):
            names.append(re.split(r"\s[–—-]\s|,", i.text)[0].strip()[:30])
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        return ""
    more = "…" if len(names) > limit else ""
    return "Sources : " + ", ".join(names[:limit]) + more


def sources_html(items: Sequence[SourceItem]) -> str:
    """Return the full list of credits as an HTML list (escaped)."""
    parts = ['<ul class="qmi-sources">']
    for i in items:
        licence = (
            f" <small>({escape_text(i.licence)})</small>"
            if i.licence and not i.licence.startswith("non vérifiée")
            else ""
        )
        synth = "" if i.real else " <strong>(données synthétiques)</strong>"
        parts.append(f"<li>{escape_text(i.text)}{licence}{synth}</li>")
    parts.append("</ul>")
    return "".join(parts)
