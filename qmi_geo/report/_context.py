"""Gather what the stages computed into the report's template context (plain data).

Nothing here is laid out: the templates hold the layout. Values are formatted the French way
(:mod:`qmi_geo.report._format`); participant text stays plain text (escaped by the templates).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from qmi_geo.report._enjeux import ATOUT, enjeux
from qmi_geo.report._format import fr_number, fr_value, is_missing
from qmi_geo.report._quotes import QUOTE_RULE, select_quotes
from qmi_geo.report._reference import NO_METROPOLE, reference_for

__all__ = ["KEY_INDICATORS", "SECTIONS", "commune_context", "markdown_html"]

#: The indicators of « Le quartier en chiffres », in order (those absent are skipped).
KEY_INDICATORS = (
    "surface_km2",
    "population",
    "revenu_median",
    "part_qpv",
    "population_qpv",
    "part_impermeable",
    "part_vegetalisee",
    "part_nuisances_2plus",
    "part_points_noirs",
    "densite_coupures",
    "franchissements",
    "ratio_detour",
    "distance_gare",
    "distance_gare_gpe",
    "nb_gares",
    "nb_colleges",
    "ips_colleges",
    "nb_friches",
    "annotations",
    "part_negative",
    "rues_citees",
    "sites",
)

#: Section ids and titles, in order (the table of contents and the progress bar use them).
SECTIONS = (
    ("chiffres", "Le quartier en chiffres"),
    ("cartes", "Cartes"),
    ("marche", "La marche sensible"),
    ("atelier", "L'atelier « carte sur table »"),
    ("enjeux", "Enjeux"),
    ("solutions", "Solutions"),
    ("sources", "Sources, couverture et limites"),
)

_YEAR = re.compile(r"\b(19|20)\d{2}\b")


def markdown_html(text: str | None) -> str:
    """Render the analyst's Markdown with raw HTML disabled (it is shown as text)."""
    if not text:
        return ""
    from markdown_it import MarkdownIt
    from markupsafe import Markup

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    return Markup(md.render(text))  # raw HTML in the text was escaped by markdown-it


def _indicator_row(row: pd.Series, quarter_is_commune: bool) -> dict[str, Any]:
    ref = reference_for(row, quarter_is_commune=quarter_is_commune)
    value = row.get("valeur")
    unit = str(row.get("unite", "") or "")
    return {
        "code": str(row["code"]),
        "theme": str(row.get("theme", "")),
        "libelle": str(row["libelle"]),
        "valeur": fr_value(value, unit),
        "valeur_brute": "" if is_missing(value) else repr(float(value)),
        "unite": unit,
        "statut": str(row.get("statut", "")),
        "note": "" if is_missing(row.get("note")) else str(row["note"]),
        "source": "" if is_missing(row.get("source")) else str(row["source"]),
        "source_court": _short_source(row.get("source")),
        "commune": ref.commune,
        "commune_note": ref.commune_note,
        "mediane": ref.median,
        "rang": ref.rank,
        "metropole_note": ref.metropole_note,
    }


def _short_source(text: Any) -> str:
    if is_missing(text):
        return "non renseignée"
    from qmi_geo.maps.sources import short_credit, source_items

    short = short_credit(source_items([str(text)]), limit=4).removeprefix("Sources : ")
    return re.sub(r"\s*\([^)]*$", "", short)  # no half-open parenthesis from the cut


def _date_of(src: Any) -> str:
    date = getattr(src, "date", None)
    if date:
        return str(date)
    for text in (getattr(src, "title", ""), getattr(src, "attribution", "")):
        found = _YEAR.search(str(text or ""))
        if found:
            return found.group(0)
    return "non renseignée"


def _sources(layerset: Any) -> list[dict[str, Any]]:
    coverage: Mapping[str, float] = getattr(layerset, "coverage", None) or {}
    errors: Mapping[str, str] = getattr(layerset, "layer_errors", None) or {}
    issues = [i for i in layerset.report.issues if getattr(i, "level", "") == "erreur"]
    from qmi_geo.layers import KINDS

    out = []
    for src in layerset.sources:
        cov = coverage.get(src.name)
        failed = errors.get(src.kind) or next(
            (str(i) for i in issues if f"« {src.name} »" in str(i)), ""
        )
        out.append(
            {
                "name": src.name,
                "kind": KINDS[src.kind].label if src.kind in KINDS else src.kind,
                "title": src.title or src.name,
                "producer": src.producer or "non renseigné",
                "date": _date_of(src),
                "licence": src.licence or "non renseignée",
                "attribution": src.attribution or "",
                "coverage": (
                    f"{fr_number(100 * cov, 0)} % du quartier"
                    if cov is not None
                    else "non déclarée par la source"
                ),
                "count": int(layerset.counts.get(src.name, 0)),
                "real": bool(src.real),
                "error": failed,
            }
        )
    return out


def _walk(
    result: Any, perimeter: gpd.GeoDataFrame, figure: Callable[..., str] | None
) -> dict[str, Any]:
    from qmi_geo.diagnostics.hotspots import gi_star_hotspots
    from qmi_geo.walks.analysis import theme_counts
    from qmi_geo.walks.fub import FUB_WALK_ID

    ann = result.extra_layers.get("annotations")
    walk = ann[ann["marche"].astype(str) != FUB_WALK_ID] if ann is not None and len(ann) else None
    fub = ann[ann["marche"].astype(str) == FUB_WALK_ID] if ann is not None and len(ann) else None
    n_walk = 0 if walk is None else len(walk)
    info: dict[str, Any] = {
        "n_annotations": n_walk,
        "n_fub": 0 if fub is None else len(fub),
        "dates": [],
        "n_walks": 0,
        "n_participants": "non renseigné",
        "quotes": [],
        "quote_rule": QUOTE_RULE,
        "themes": [],
        "chart": None,
        "gi": None,
        "clusters": 0,
    }
    if walk is not None and n_walk:
        when = pd.to_datetime(walk.get("horodatage"), errors="coerce").dropna()
        info["dates"] = sorted({d.strftime("%d/%m/%Y") for d in when})
        info["n_walks"] = int(walk["marche"].nunique())
        people = walk.get("auteur", pd.Series(dtype=str)).astype(object).fillna("").astype(str)
        people = people[people.str.strip() != ""]
        if len(people):
            info["n_participants"] = fr_number(people.nunique())
        counts = theme_counts(walk)
        info["themes"] = [
            {
                "libelle": str(r.libelle),
                "n": int(r.n_annotations),
                "negatif": int(r.negatif),
                "neutre": int(r.neutre),
                "positif": int(r.positif),
            }
            for r in counts.itertuples()
        ]
        if figure is not None and len(counts):
            info["chart"] = figure("theme_chart", counts)
        quotes = select_quotes(walk)
        grouped: dict[str, list[Any]] = {}
        for q in quotes:
            grouped.setdefault(q.theme_label, []).append(q)
        info["quotes"] = list(grouped.items())
    test = gi_star_hotspots(walk if walk is not None else _no_points(perimeter), perimeter)
    info["gi"] = {
        "tested": test.tested,
        "message": test.message,
        "n_significant": len(test.significant),
        "cells": test.significant,
        "cell_m": test.cell_m,
        "permutations": test.permutations,
    }
    spots = result.extra_layers.get("points_chauds")
    info["clusters"] = 0 if spots is None else len(spots)
    info["_walk"] = walk
    info["_test"] = test
    return info


def _no_points(perimeter: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[], crs=perimeter.crs)


def _atelier(layerset: Any) -> dict[str, Any]:
    """The workshop's défis by priority, and the sites the commune itself proposed.

    A site is « proposé par la commune » when its source is one the spec declares inline (a
    commune's own inventory, ``sites_<n>``) or whose producer is the commune (« Ville de … »),
    as opposed to the region-wide catalogue sources (collèges, stations, OSM…).
    """
    from qmi_geo.style import SITE_KINDS, THEMES

    defis = layerset.layers.get("defis")
    rows = []
    if defis is not None and len(defis):
        frame = pd.DataFrame(defis.drop(columns=defis.geometry.name))
        if "priorite" in frame:
            order = pd.to_numeric(frame["priorite"], errors="coerce")
            frame = frame.assign(_p=order).sort_values("_p", na_position="last")
        for _, r in frame.iterrows():
            theme = str(r.get("theme", "") or "")
            rows.append(
                {
                    "priorite": "" if is_missing(r.get("priorite")) else str(r.get("priorite")),
                    "theme": THEMES[theme].label if theme in THEMES else theme,
                    "commentaire": ""
                    if is_missing(r.get("commentaire"))
                    else str(r["commentaire"]),
                }
            )
    own = {
        src.name
        for src in layerset.sources
        if src.kind == "sites"
        and (re.fullmatch(r"sites_\d+", src.name) or str(src.producer).startswith("Ville"))
    }
    sites = layerset.layers.get("sites")
    proposed = []
    if sites is not None and len(sites) and "source" in sites and own:
        for _, r in sites[sites["source"].isin(own)].iterrows():
            kind = str(r.get("type", ""))
            proposed.append(
                {
                    "nom": str(r.get("nom", "") or "site sans nom"),
                    "type": SITE_KINDS[kind].label if kind in SITE_KINDS else kind,
                }
            )
    return {"defis": rows, "sites": proposed}


def _solutions(result: Any) -> dict[str, Any]:
    matched = result.products.get("matching")
    if matched is None:
        return {"ran": False, "per_solution": [], "per_theme": [], "per_site": []}
    from qmi_geo.style import SITE_KINDS, THEMES

    scores = matched.suitability.scores
    robust_cols = [c for c in ("robustesse", "stabilite", "stabilite_rang") if c in scores]
    per_solution = []
    if len(scores):
        best = scores.sort_values("total", ascending=False).drop_duplicates("solution_id")
        for _, r in best.iterrows():
            robust = (
                str(r[robust_cols[0]])
                if robust_cols and not is_missing(r[robust_cols[0]])
                else "non calculée"
            )
            per_solution.append(
                {
                    "solution": str(r.get("solution", r["solution_id"])),
                    "site": str(r.get("nom_site", r["site_id"])),
                    "type": SITE_KINDS[r["type_site"]].label
                    if r["type_site"] in SITE_KINDS
                    else str(r["type_site"]),
                    "score": "non classé (besoin non mesuré)"
                    if is_missing(r["total"])
                    else fr_number(float(r["total"]), 2),
                    "raison": str(r.get("explication", "")),
                    "verifier": "" if is_missing(r.get("a_verifier")) else str(r["a_verifier"]),
                    "robustesse": robust,
                    "theme": str(r.get("theme_principal", "")),
                }
            )
    by_theme: dict[str, list[dict[str, Any]]] = {}
    for s in per_solution:
        label = THEMES[s["theme"]].label if s["theme"] in THEMES else (s["theme"] or "autre")
        by_theme.setdefault(label, []).append(s)
    per_site = []
    if len(scores):
        top = (
            scores[scores["total"].notna()]
            .sort_values("total", ascending=False)
            .drop_duplicates("site_id")
            .head(10)
        )
        for _, r in top.iterrows():
            per_site.append(
                {
                    "site": str(r.get("nom_site", r["site_id"])),
                    "solution": str(r.get("solution", r["solution_id"])),
                    "score": fr_number(float(r["total"]), 2),
                    "raison": str(r.get("explication", "")),
                }
            )
    return {
        "ran": True,
        "n_solutions": len(matched.solutions),
        "n_sites": len(matched.sites),
        "per_solution": per_solution,
        "per_theme": [(k, v[:3]) for k, v in by_theme.items()],
        "per_site": per_site,
        "robust_note": ""
        if robust_cols
        else "robustesse non calculée : l'appariement ne fournit pas encore d'analyse de "
        "stabilité des rangs",
    }


def commune_context(
    layerset: Any,
    result: Any,
    *,
    figure: Callable[..., str] | None = None,
    step: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The template context of one commune's livrable.

    ``figure(name, *args, **kwargs)`` draws a figure and returns its data URI (None: no
    figures, for fast tests of the text); ``step(label)`` is called as each part is done
    (progress bar).
    """
    tick = step or (lambda _label: None)
    spec = layerset.spec
    table = result.products.get("indicators")
    quarter_is_commune = spec.perimeter_source == "commune"
    rows = (
        []
        if table is None
        else [_indicator_row(r, quarter_is_commune) for _, r in table.iterrows()]
    )
    by_code = {r["code"]: r for r in rows}
    key_rows = [by_code[c] for c in KEY_INDICATORS if c in by_code]
    metro_missing = all(r["metropole_note"] for r in key_rows) if key_rows else True
    tick("chiffres")

    per = layerset.perimeter
    lay = layerset.layers
    walk = _walk(result, per, figure)
    maps: list[dict[str, Any]] = []
    if figure is not None:
        from qmi_geo.diagnostics.breaks import crossing_points

        crossings = None
        if lay.get("coupures") is not None and lay.get("rues") is not None:
            crossings = crossing_points(lay["coupures"], lay["rues"])
        for key, caption in (
            ("situation", "Le quartier, les communes voisines, les gares et les coupures."),
            ("qpv", "Quartiers prioritaires (hachures)."),
            ("mineral", "Part imperméabilisée par IRIS (rampe de clarté)."),
            ("coupures", "Coupures par type (tirets, épaisseur) et franchissements (carrés)."),
            ("nuisances", "Cumul de nuisances et ressentis de chaleur et de bruit."),
            ("sites", "Sites candidats par type et meilleur site de chaque solution."),
        ):
            main_kind = {
                "qpv": "qpv",
                "mineral": "surfaces_minerales",
                "nuisances": "nuisances",
                "sites": "sites",
            }
            kind = main_kind.get(key, "")
            if kind and (lay.get(kind) is None or not len(lay[kind])):
                reason = getattr(layerset, "layer_errors", {}).get(kind)
                caption += (
                    f" Couche non disponible : {reason}."
                    if reason
                    else f" Aucune entité de cette couche dans le quartier ni à moins de "
                    f"{fr_number(spec.buffer_m)} m."
                )
            maps.append(
                {
                    "key": key,
                    "title": _map_title(key),
                    "caption": caption,
                    "uri": figure(
                        "quarter_map",
                        key,
                        lay,
                        per,
                        crossings=crossings,
                        annotations=walk["_walk"],
                        matches=result.products.get("matches_for_map"),
                    ),
                }
            )
            tick(f"carte {key}")
    routes = result.extra_layers.get("parcours")
    if figure is not None and (walk["n_annotations"] or (routes is not None and len(routes))):
        walk["map"] = figure(
            "quarter_map",
            "marche",
            lay,
            per,
            annotations=walk["_walk"],
            routes=result.extra_layers.get("parcours"),
            clusters=result.extra_layers.get("points_chauds"),
            gi_cells=walk["gi"]["cells"],
        )
    tick("marche")
    atelier = _atelier(layerset)
    if figure is not None and (atelier["defis"] or atelier["sites"]):
        atelier["map"] = figure("quarter_map", "atelier", lay, per, defis=lay.get("defis"))
    tick("atelier")
    table_or_empty = table if table is not None else pd.DataFrame(columns=["code"])
    sentences = enjeux(
        table_or_empty,
        quarter_is_commune=quarter_is_commune,
        hotspot_message=walk["gi"]["message"],
        hotspot_count=walk["gi"]["n_significant"],
    )
    tick("enjeux")
    solutions = _solutions(result)
    tick("solutions")
    sources = _sources(layerset)
    unavailable = [r for r in rows if r["statut"] == "non disponible"]
    synthetic = [s for s in sources if not s["real"]]
    walk_files = [Path(p).name for p in getattr(spec, "walk_files", [])]
    walk_synthetic = [f for f in walk_files if "synthetique" in f or "synthetic" in f]
    out_dir = Path(result.output_dir)
    walk.pop("_walk", None)
    gi_test = walk.pop("_test", None)
    heat = [
        r
        for r in rows
        if r["code"].startswith(("chaleur_", "lcz_", "part_nuisances", "part_points_noirs"))
    ]
    themes: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        themes.setdefault(r["theme"], []).append(r)
    return {
        "kind": "commune",
        "gi_test": gi_test,
        "title": f"Diagnostic territorial — {spec.name}",
        "commune": spec.name,
        "insee": spec.insee,
        "cohort": spec.cohort,
        "perimeter_name": str(per["nom"].iloc[0]),
        "quarter_is_commune": quarter_is_commune,
        "surface": fr_value(per.area.iloc[0] / 1e6, "km²"),
        "produced": dt.date.today().strftime("%d/%m/%Y"),
        "introduction": markdown_html(spec.report_texts.get("introduction")),
        "contexte": markdown_html(spec.report_texts.get("contexte")),
        "description": spec.description,
        "sections": SECTIONS,
        "chiffres": key_rows,
        "metropole_missing": metro_missing,
        "metropole_note": NO_METROPOLE,
        "indicateurs": list(themes.items()),
        "maps": maps,
        "heat": heat,
        "walk": walk,
        "atelier": atelier,
        "atouts": [e for e in sentences if e.kind == ATOUT],
        "vigilances": [e for e in sentences if e.kind != ATOUT],
        "solutions": solutions,
        "sources": sources,
        "unavailable": unavailable,
        "synthetic": synthetic,
        "walk_synthetic": walk_synthetic,
        "carte_sensible": "carte_sensible.html"
        if (out_dir / "carte_sensible.html").exists()
        else "",
        "attributions": layerset.attributions(),
    }


def _map_title(key: str) -> str:
    from qmi_geo.report._figures import MAPS

    return MAPS[key][0]
