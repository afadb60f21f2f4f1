"""Participant quotes per theme, chosen by a documented rule.

The rule (:func:`select_quotes`), so an analyst can explain why a sentence is quoted:

1. only the walk's own annotations (the FUB barometer's generated lines and duplicates are
   left out) with a non-empty comment;
2. themes in decreasing number of annotations, the ``max_themes`` first (default 8);
3. within a theme, the most intense feelings first (intensity 3 → 0, unknown last), then
   the longest comment (the most explicit), then the annotation id (stable order);
4. at most ``per_theme`` quotes per theme (default 2), never the same text twice;
5. each comment is shortened to ``max_chars`` characters (default 220) with « … ».

Quotes are plain text: the templates escape them; the participant (pseudonym or name) is
never shown, only the theme, the feeling and the walk's date.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from qmi_geo.style import THEMES, VALENCES

__all__ = ["QUOTE_RULE", "Quote", "select_quotes"]

QUOTE_RULE = (
    "Citations choisies par une règle fixe : annotations de la marche (hors baromètre FUB et "
    "doublons) ayant un commentaire ; les 8 thèmes les plus annotés ; par thème, les "
    "ressentis les plus intenses d'abord, "
    "puis les commentaires les plus longs ; deux citations au plus par thème, raccourcies à "
    "220 caractères ; les participants ne sont jamais nommés."
)


@dataclass(frozen=True)
class Quote:
    """One quoted comment (plain text, escaped by the templates)."""

    theme: str
    theme_label: str
    valence: str
    text: str
    date: str


def _shorten(text: str, max_chars: int) -> str:
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0]
    return cut + "…"


def select_quotes(
    annotations: gpd.GeoDataFrame | None,
    *,
    per_theme: int = 2,
    max_themes: int = 8,
    max_chars: int = 220,
    exclude_walks: tuple[str, ...] = ("fub_barometre_2017",),
) -> list[Quote]:
    """Quotes per theme following the module's rule.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> ann = gpd.GeoDataFrame(
    ...     {
    ...         "id": ["a", "b", "c"],
    ...         "marche": ["m", "m", "m"],
    ...         "theme": ["chaleur"] * 3,
    ...         "valence": ["negatif"] * 3,
    ...         "intensite": [1.0, 3.0, None],
    ...         "commentaire": ["court", "très chaud ici", "sans intensité"],
    ...         "signalements": ["", "", ""],
    ...     },
    ...     geometry=[Point(0, 0)] * 3,
    ...     crs=2154,
    ... )
    >>> [q.text for q in select_quotes(ann)]
    ['très chaud ici', 'court']
    """
    if annotations is None or not len(annotations) or "commentaire" not in annotations:
        return []
    ann = pd.DataFrame(annotations.drop(columns=annotations.geometry.name))
    if "marche" in ann:
        ann = ann[~ann["marche"].astype(str).isin(exclude_walks)]
    if "signalements" in ann:
        flags = ann["signalements"].astype(object).fillna("").astype(str)
        ann = ann[~flags.str.contains(r"(?:^|;)doublon(?:;|$)", regex=True)]
    text = ann["commentaire"].astype(object).fillna("").astype(str).str.strip()
    ann = ann.assign(_text=text)[text != ""]
    if ann.empty:
        return []
    intensity = pd.to_numeric(ann.get("intensite"), errors="coerce").astype("float64")
    ann = ann.assign(
        _int=intensity.fillna(-1.0),
        _len=ann["_text"].str.len(),
        _id=ann.get("id", pd.Series(range(len(ann)), index=ann.index)).astype(str),
    )
    order = ann["theme"].value_counts(sort=True)
    out: list[Quote] = []
    for theme in order.index[:max_themes]:
        sub = ann[ann["theme"] == theme].sort_values(
            ["_int", "_len", "_id"], ascending=[False, False, True]
        )
        seen: set[str] = set()
        for _, row in sub.iterrows():
            key = row["_text"].casefold()
            if key in seen:
                continue
            seen.add(key)
            when = row.get("horodatage")
            date = pd.Timestamp(when).strftime("%d/%m/%Y") if pd.notna(when) else ""
            valence = str(row.get("valence", ""))
            out.append(
                Quote(
                    theme=str(theme),
                    theme_label=THEMES[theme].label if theme in THEMES else str(theme),
                    valence=VALENCES[valence].label if valence in VALENCES else valence,
                    text=_shorten(row["_text"], max_chars),
                    date=date,
                )
            )
            if len(seen) >= per_theme:
                break
    return out
