"""French explanations of the matching, each reason naming its real source and number.

Built only for the pairs that are written (each solution's best sites) and, for exclusions,
once per distinct (solution, reason) case. Every reason is a (phrase, source) pair: the phrase
goes into ``explication``, the source name (a layer source of the catalogue or spec, a walk
file, the workshop) into ``sources``, so a test can check each against the layers present.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from qmi_geo.matching._context import (
    CROSSING_KINDS,
    NEED_RADIUS_M,
    THEME_CODES,
    Evidence,
    SiteContext,
    de,
    theme_short,
)
from qmi_geo.matching.catalogue import Solution
from qmi_geo.style import SITE_KINDS

__all__ = ["area_text", "distance_text", "exclusion_reasons", "explain_pairs"]

_SHOWN = 0.05  # evidence and criteria below this score are not mentioned
_SECONDARY = " (thème secondaire de la solution : compte pour moitié)"

#: How each channel of the site inventory says where a site and its area come from.
ORIGIN_TEXT = {
    "atelier": ("proposé en atelier", "dessinée en atelier"),
    "commune": ("inventaire de la commune", "déclarée par la commune"),
    "osm": ("OpenStreetMap", "mesurée sur le contour OpenStreetMap"),
    "couche": ("", "mesurée sur la géométrie de la couche"),
}


def distance_text(distance: float) -> str:
    """Format a distance in metres, rounded to 10 m (French thousands separator)."""
    value = int(round(float(distance) / 10.0) * 10) if distance >= 20 else round(distance)
    return f"{value:,} m".replace(",", "\u202f")


def _thousands(value: float) -> str:
    return f"{round(value):,}".replace(",", "\u202f")


def area_text(value: float) -> str:
    """« 1 240 m² », « 2,5 ha »."""
    if value >= 10_000:
        return f"{value / 10_000:.1f} ha".replace(".", ",")
    return f"{_thousands(value)} m²"


def _pct(value: float) -> str:
    return f"{round(value * 100):.0f} %"


def evidence_phrase(ev: Evidence, j: int, ctx: SiteContext, site_name: str) -> str:
    """The phrase of one piece of evidence at site ``j``."""
    v = float(ev.value[j])
    if ev.code == "thermique":
        iris = ev.extra["iris"][j] if "iris" in ev.extra else None
        where = f"IRIS {iris}" if isinstance(iris, str) and iris else "IRIS"
        if v >= 0.5:
            top = max(1, round((1 - v) * 100))
            return (
                f"{where} parmi les {top} % les plus exposés à la chaleur de la Métropole "
                "(Underlaid, d'après CSTB)"
            )
        return (
            f"{where} plus exposé à la chaleur que {_pct(v)} des IRIS de la Métropole "
            "(Underlaid, d'après CSTB)"
        )
    if ev.code == "icu":
        return (
            f"aléa de chaleur {v:.1f} en moyenne sur le code postal (L'Institut Paris Region, "
            "îlots de chaleur ; Cerema, LCZ)".replace(".", ",")
        )
    if ev.code == "impermeable":
        return f"IRIS imperméabilisé à {_pct(v)} (MOS de L'Institut Paris Region, via Underlaid)"
    if ev.code == "lcz_ruissellement":
        return (
            f"sol minéral imperméable sur {_pct(v)} de la commune, où ruisselle la pluie : plus "
            f"que {_pct(float(ev.extra['rang'][j]))} des codes postaux d'Île-de-France "
            "(Cerema, LCZ 2022)"
        )
    if ev.code == "lcz_vegetation":
        return (
            f"végétation sur {_pct(v)} de la commune seulement : moins que "
            f"{_pct(float(ev.extra['rang'][j]))} des codes postaux d'Île-de-France "
            "(Cerema, LCZ 2022)"
        )
    if ev.code == "nuisances":
        n = round(v)
        return (
            f"maille de 500 m cumulant {n} nuisance{'s' if n > 1 else ''} environnementale"
            f"{'s' if n > 1 else ''} (L'Institut Paris Region, Bruitparif, Airparif)"
        )
    if ev.code == "exposition":
        return (
            f"IRIS plus exposé au bruit et à la pollution de l'air que {_pct(v)} des IRIS de la "
            "Métropole (Underlaid, d'après Airparif et Bruitparif)"
        )
    if ev.code == "fub":
        n = round(v)
        street = ev.extra["rue"][j] if "rue" in ev.extra else None
        voters = f"{n} cycliste{'s' if n > 1 else ''}"
        if isinstance(street, str) and street and street.lower() in site_name.lower():
            return f"rue citée par {voters} (baromètre FUB 2017)"
        name = f" {street}" if isinstance(street, str) and street else ""
        return f"à moins de 30 m de la rue{name}, citée par {voters} (baromètre FUB 2017)"
    if ev.code == "coupure":
        brk = str(ctx.coupure_nom[j] or "la coupure")
        d = float(ev.distance[j])
        head = f"au bord {de(brk)}" if d <= 5 else f"à {distance_text(d)} {de(brk)}"
        nxt = (
            f", franchissement le plus proche à {distance_text(v)}"
            if np.isfinite(v)
            else ", aucun autre franchissement connu à moins de 3 km"
        )
        return head + nxt
    if ev.code.startswith("marche:"):
        theme = theme_short(ev.code.split(":", 1)[1])
        walk = ctx.walks.get(str(ev.extra["marche"][j]), "de la marche sensible")
        n = round(v)
        if bool(ev.extra["point_chaud"][j]):
            d = float(ev.distance[j])
            where = "dans" if d <= 1 else f"à {distance_text(d)} d'"
            gap = " " if d <= 1 else ""
            return f"{where}{gap}un point chaud « {theme} » de {n} annotations {walk}"
        return (
            f"{n} annotation{'s' if n > 1 else ''} « {theme} » {walk} à moins de "
            f"{distance_text(NEED_RADIUS_M)}"
        )
    return ""


def explain_pairs(
    solutions: Sequence[Solution],
    sites: gpd.GeoDataFrame,
    ctx: SiteContext,
    sol_i: np.ndarray,
    site_i: np.ndarray,
    rel: np.ndarray,
    theme_w: np.ndarray,
    values: Mapping[str, np.ndarray],
    rows: np.ndarray,
    smin: np.ndarray,
) -> dict[str, np.ndarray]:
    """Explanation, sources, main theme and check note of the chosen pairs.

    ``rel`` and ``theme_w`` are the weights of the evidence and themes in each solution's
    need (:func:`qmi_geo.matching.suitability.relevant_evidence`, ``theme_weights``): what
    counts only as a secondary theme is said to count half.
    """
    n = len(sol_i)
    out = {c: np.empty(n, dtype=object) for c in ("theme_principal", "explication", "sources")}
    out["a_verifier"] = np.full(n, "", dtype=object)
    if n == 0:
        return out
    measured = ctx.measured_themes()
    kinds = sites["type"].to_numpy(dtype=object)
    names = sites["nom"].astype(str).to_numpy(dtype=object)
    area = sites["surface_m2"].to_numpy(dtype=float)
    origin = (
        sites["origine"].fillna("couche").to_numpy(dtype=object)
        if "origine" in sites.columns
        else np.full(len(sites), "couche", dtype=object)
    )
    site_src = sites["source"].astype(str).to_numpy(dtype=object)
    length = (
        sites["longueur_m"].to_numpy(dtype=float)
        if "longueur_m" in sites.columns
        else np.full(len(sites), np.nan)
    )
    scores = ctx.scores
    site_cache: dict[int, tuple[str, str, str]] = {}
    phrase_cache: dict[tuple[int, int], tuple[str, str]] = {}
    social_cache: dict[int, list[tuple[str, str]]] = {}
    # solutions with the same evidence, themes and criteria explain a site the same way
    shown = ("defis", "mineralisation", "qpv", "coupures", "transports", "densite")
    signature = [
        (
            rel[i].tobytes(),
            theme_w[i].tobytes(),
            sol.themes,
            sol.exigences.surface_min_m2 is not None,
        )
        for i, sol in enumerate(solutions)
    ]
    text_cache: dict[tuple[object, ...], tuple[Any, Any, Any, Any]] = {}
    # Python scalars of the chosen rows once (no numpy scalar per pair and criterion)
    shown_finite = np.column_stack([np.isfinite(values[k][rows]) for k in shown])
    finite_keys = [b.tobytes() for b in np.packbits(shown_finite, axis=1)]
    vals = {k: values[k][rows].tolist() for k in ("defis", *shown)}
    ev_by_sol: dict[int, np.ndarray] = {}
    sol_list, site_list = sol_i.tolist(), site_i.tolist()
    for r in range(n):
        i, j = sol_list[r], site_list[r]
        ck = (signature[i], j, finite_keys[r])
        if ck in text_cache:
            (
                out["explication"][r],
                out["sources"][r],
                out["theme_principal"][r],
                out["a_verifier"][r],
            ) = text_cache[ck]
            continue
        sol = solutions[i]
        parts: list[tuple[str, str]] = []
        if j not in site_cache:
            site_cache[j] = _site_text(
                kinds[j], names[j], area[j], origin[j], length[j], site_src[j]
            )
        desc, desc_src, check = site_cache[j]
        parts.append((desc, desc_src))
        if check and sol.exigences.surface_min_m2 is not None:
            out["a_verifier"][r] = "surface inconnue : à vérifier sur place"
        if i not in ev_by_sol:
            ev_by_sol[i] = np.flatnonzero(rel[i])
        ev_idx = ev_by_sol[i]
        top_theme = None
        if len(ev_idx):
            s = scores[j, ev_idx] * rel[i, ev_idx]
            for e in ev_idx[np.argsort(-s, kind="stable")][:2]:
                if scores[j, e] <= _SHOWN:
                    continue
                ev = ctx.evidence[e]
                if top_theme is None:
                    top_theme = next(t for t in sol.themes if t in ev.themes)
                pk = (int(e), j)
                if pk not in phrase_cache:
                    phrase_cache[pk] = (evidence_phrase(ev, j, ctx, names[j]), str(ev.source[j]))
                phrase, src = phrase_cache[pk]
                parts.append((phrase + (_SECONDARY if rel[i, e] < 1 else ""), src))
        dv = vals["defis"][r]
        if dv == dv and dv > _SHOWN:
            t = int(np.argmax(np.where(theme_w[i] > 0, theme_w[i] * ctx.defi[j], -1)))
            p = round(ctx.defi_priorite[j, t])
            d = ctx.defi_distance[j, t]
            theme = theme_short(THEME_CODES[t])
            text = (
                f"dans la zone du défi « {theme} » de l'atelier (priorité {p})"
                if d <= 1
                else f"à {distance_text(d)} d'un défi « {theme} » de l'atelier (priorité {p})"
            ) + (_SECONDARY if theme_w[i, t] < 1 else "")
            parts.append((text, "defis_atelier"))
            top_theme = top_theme or THEME_CODES[t]
        mv = vals["mineralisation"][r]
        if mv == mv and mv > _SHOWN:
            parts.append(
                (
                    f"IRIS imperméabilisé à {_pct(mv)} (MOS de L'Institut Paris Region, via "
                    "Underlaid)",
                    str(ctx.taux_source[j]),
                )
            )
        qv = vals["qpv"][r]
        if qv == qv:
            if j not in social_cache:
                social_cache[j] = _social(ctx, j)
            parts += social_cache[j]
        cv = vals["coupures"][r]
        if cv == cv and cv > _SHOWN and np.isfinite(ctx.coupure_distance[j]):
            d = ctx.coupure_distance[j]
            brk = str(ctx.coupure_nom[j] or "la coupure")
            text = (
                f"franchissement {de(brk)}"
                if d <= 5 and kinds[j] in CROSSING_KINDS
                else f"au bord {de(brk)}"
                if d <= 5
                else f"à {distance_text(d)} {de(brk)}"
            )
            parts.append((text, str(ctx.coupure_source[j])))
        tv = vals["transports"][r]
        if tv == tv and tv > _SHOWN:
            d = ctx.gare_distance[j]
            g = ctx.gare_nom[j]
            text = f"au pied de la gare {g}" if d <= 50 else f"à {distance_text(d)} de la gare {g}"
            parts.append((text, str(ctx.gare_source[j])))
        nv = vals["densite"][r]
        if nv == nv and nv > _SHOWN:
            parts.append(
                (
                    f"{_thousands(round(ctx.densite[j], -2))} hab./km² dans l'IRIS "
                    "(INSEE, RP 2021)",
                    str(ctx.densite_source[j]),
                )
            )
        missing = [theme_short(t) for t in sol.themes if t not in measured]
        text = " ; ".join(p for p, _ in parts if p)
        if missing:
            text += f" ; besoin non mesuré : {', '.join(missing)}"
        out["explication"][r] = text
        out["sources"][r] = ";".join(dict.fromkeys(s for _, s in parts if s))
        out["theme_principal"][r] = top_theme
        text_cache[ck] = (text, out["sources"][r], top_theme, out["a_verifier"][r])
    return out


def _site_text(
    kind: str, name: str, area: float, origin: str, length: float, source: str
) -> tuple[str, str, str]:
    label = SITE_KINDS[kind].label if kind in SITE_KINDS else str(kind)
    first = label.split(",")[0]
    where, how = ORIGIN_TEXT.get(origin, ORIGIN_TEXT["couche"])
    text = f"{first} « {name} »" + (f" ({where})" if where else "")
    check = ""
    if np.isfinite(area):
        text += f", surface : {area_text(area)} ({how})"
    else:
        if np.isfinite(length) and length > 0:
            km = f"{length / 1000:.1f} km".replace(".", ",") if length >= 1000 else None
            text += f", longueur {km or distance_text(length)}"
        text += ", surface inconnue"
        check = "inconnue"
    return text, source, check


def _social(ctx: SiteContext, j: int) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    d = ctx.qpv_distance[j]
    if np.isfinite(d) and d <= 500:
        q = ctx.qpv_nom[j]
        text = (
            f"dans le QPV {q} (ANCT, QPV 2024)"
            if d <= 1
            else f"à {distance_text(d)} du QPV {q} (ANCT, QPV 2024)"
        )
        parts.append((text, str(ctx.qpv_source[j])))
    if np.isfinite(ctx.pauvrete[j]):
        parts.append(
            (
                f"taux de pauvreté de l'IRIS {ctx.pauvrete[j]:.0f} % (INSEE, Filosofi 2021)",
                str(ctx.iris_source[j]),
            )
        )
    elif np.isfinite(ctx.revenu[j]):
        parts.append(
            (
                f"revenu médian de l'IRIS {_thousands(round(ctx.revenu[j], -2))} € par unité de "
                "consommation (INSEE, Filosofi 2021)",
                str(ctx.iris_source[j]),
            )
        )
    if np.isfinite(ctx.ips[j]):
        d = ctx.ips_distance[j]
        where = "" if d <= 1 else f" à {distance_text(d)}"
        parts.append(
            (
                f"collège {ctx.ips_nom[j]}{where}, IPS {ctx.ips[j]:.0f} (MENJ-DEPP, 2023)".replace(
                    "collège Collège", "collège"
                ).replace("collège COLLEGE", "collège"),
                str(ctx.ips_source[j]),
            )
        )
    return parts


def exclusion_reasons(
    solutions: Sequence[Solution],
    sites: gpd.GeoDataFrame,
    sol_i: np.ndarray,
    site_i: np.ndarray,
    codes: np.ndarray,
    kinds: list[str],
    kind_idx: np.ndarray,
    area: np.ndarray,
    smin: np.ndarray,
    smax: np.ndarray,
    ctx: SiteContext,
) -> pd.DataFrame:
    """The excluded pairs with a French reason, built once per distinct (solution, reason) case.

    Text columns are categorical: a million excluded pairs share a few hundred messages.
    """
    from qmi_geo.matching.sites import SITE_MARGIN_M
    from qmi_geo.matching.suitability import BREAK_REQUIRED_M

    codes = codes.astype(np.int64)
    n_kinds = len(kinds)
    # the message depends on (code, solution) and, for the kind, on the site's kind
    key = (codes * len(solutions) + sol_i) * (n_kinds + 1) + np.where(
        codes == 1, kind_idx[site_i], n_kinds
    )
    uniq, inverse = np.unique(key, return_inverse=True)
    accepted = [", ".join(SITE_KINDS[k].label for k in s.exigences.types_sites) for s in solutions]
    outside = (
        f"hors du quartier d'innovation (plus de {distance_text(SITE_MARGIN_M)} au-delà du "
        "périmètre) : site listé, non classé"
    )
    has_breaks = bool(np.isfinite(ctx.coupure_distance).any())
    messages = []
    for k in uniq.tolist():
        kind = k % (n_kinds + 1)
        rest = k // (n_kinds + 1)
        i, code = rest % len(solutions), rest // len(solutions)
        if code == 1:
            text = (
                f"type de site non accepté : {SITE_KINDS[kinds[kind]].label} "
                f"(acceptés : {accepted[i]})"
            )
        elif code == 2:
            text = f"surface trop petite : moins de {area_text(float(smin[i]))} au minimum"
        elif code == 3:
            text = f"surface trop grande : plus de {area_text(float(smax[i]))} au maximum"
        elif code == 4:
            text = "site privé, la solution doit être installée dans l'espace public"
        elif code == 5:
            text = (
                f"à plus de {distance_text(BREAK_REQUIRED_M)} d'une coupure urbaine (requis)"
                if has_breaks
                else "aucune coupure urbaine connue (couche coupures absente)"
            )
        else:
            text = outside
        messages.append(text)
    cats, msg_code = np.unique(np.array(messages, dtype=object), return_inverse=True)
    site_ids = sites["site_id"].to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "solution_id": pd.Categorical.from_codes(
                sol_i, categories=pd.Index([s.id for s in solutions], dtype=object)
            ),
            "site_id": pd.Categorical.from_codes(site_i, categories=pd.Index(site_ids)),
            "code": codes.astype(np.int8),
            "motif": pd.Categorical.from_codes(msg_code[inverse], categories=pd.Index(cats)),
            "surface_m2": area[site_i],
            "distance_coupure_m": np.round(ctx.coupure_distance[site_i], 0),
        }
    )
