"""Matching at the scale of communes: services without a site, and which commune fits best.

**Services without a site** (``sans_site = true`` in the catalogue: apps, platforms, trainings)
are matched to communes, not to sites. A quarter's **profile** is the evidence of
:mod:`qmi_geo.matching._context` measured on a regular grid of points covering the quarter
(:data:`PROFILE_SPACING_M`), averaged: the share of the quarter exposed to heat, its sealed
share, its nuisance cumul, its FUB streets, its walk annotations, its social fragility and its
workshop challenges. A service's commune score is the weighted mean of the same criteria as a
site's (``besoin``, ``defis``, ``qpv``, ``densite``), with the same weights and the same
explanation format; a service whose themes nothing measures is « besoin non mesuré ».

:func:`rank_communes` then ranks the communes for every solution (a site-based solution's
commune score is its best site's total), with ties shared, the gap between the best and the
second-best commune, and the stability of the n°1 commune under perturbed weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo.matching._context import THEME_CODES, site_context, theme_short
from qmi_geo.matching._explain import _SECONDARY
from qmi_geo.matching.catalogue import Solution
from qmi_geo.matching.robustness import sensitivity
from qmi_geo.matching.suitability import (
    CRITERIA,
    DENSE_PER_KM2,
    SECONDARY_THEME_WEIGHT,
    UNMEASURED,
    check_weights,
    competition_rank,
)
from qmi_geo.style import SITE_KINDS

__all__ = [
    "PROFILE_SPACING_M",
    "QuarterProfile",
    "quarter_profile",
    "rank_communes",
    "score_services",
]

#: Mean evidence score under which walk annotations are said not to show a need.
_FAINT = 0.05

#: Spacing (m) of the grid of points on which a quarter's profile is measured.
PROFILE_SPACING_M = 200.0

_EVIDENCE_TEXT = {
    "thermique": (
        "exposition moyenne à la chaleur des IRIS du quartier {v} (Underlaid, d'après CSTB)"
    ),
    "icu": "aléa de chaleur moyen {v} (L'Institut Paris Region ; Cerema, LCZ)",
    "impermeable": "quartier imperméabilisé à {p} (MOS de L'Institut Paris Region, via Underlaid)",
    "nuisances": "{p} du quartier en maille cumulant des nuisances (L'Institut Paris Region)",
    "exposition": (
        "exposition moyenne au bruit et à l'air {v} (Underlaid, d'après Airparif et Bruitparif)"
    ),
    "fub": "rues citées par les cyclistes sur {p} du quartier (baromètre FUB 2017)",
    "coupure": "coupures urbaines sur {p} du quartier (à moins de 150 m)",
    "lcz_ruissellement": "sol minéral imperméable sur {p} de la commune (Cerema, LCZ 2022)",
    "lcz_vegetation": "végétation sur {p} de la commune (Cerema, LCZ 2022)",
}


class QuarterProfile:
    """Mean evidence of a quarter, measured on a grid of points."""

    def __init__(
        self,
        name: str,
        evidence: dict[str, tuple[tuple[str, ...], float, float, str]],
        social: float,
        densite: float,
        defis: dict[str, int],
        walks: dict[str, str],
        social_source: str = "",
    ) -> None:
        self.name = name
        self.evidence = evidence  # code -> (themes, mean score, mean value, source)
        self.social = social
        self.densite = densite
        self.defis = defis  # theme -> best (lowest) priority
        self.walks = walks
        self.social_source = social_source


def quarter_profile(
    name: str,
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    perimeter: gpd.GeoDataFrame | None = None,
    annotations: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    defis: gpd.GeoDataFrame | None = None,
    spacing_m: float = PROFILE_SPACING_M,
) -> QuarterProfile:
    """Measure a quarter's profile (see the module docstring)."""
    per = perimeter if perimeter is not None else layers.get("quartier")
    if per is None or not len(per):
        raise ValueError("quarter_profile needs the quarter's perimeter")
    zone = shapely.union_all(per.geometry.to_numpy())
    x0, y0, x1, y1 = zone.bounds
    xs, ys = np.meshgrid(
        np.arange(x0 + spacing_m / 2, x1, spacing_m), np.arange(y0 + spacing_m / 2, y1, spacing_m)
    )
    pts = shapely.points(xs.ravel(), ys.ravel())
    pts = pts[shapely.contains(zone, pts)]
    if not len(pts):
        pts = np.array([shapely.point_on_surface(zone)])
    grid = gpd.GeoDataFrame(
        {"type": ["autre"] * len(pts), "nom": [""] * len(pts)}, geometry=pts, crs=per.crs
    )
    ctx = site_context(grid, context=layers, annotations=annotations, hotspots=hotspots, defis=None)
    ev = {
        e.code: (
            e.themes,
            float(np.mean(e.score)),
            float(np.nanmean(e.value)) if np.isfinite(e.value).any() else float("nan"),
            next((str(s) for s in e.source if s), ""),
        )
        for e in ctx.evidence
    }
    social = float(np.nanmean(ctx.social)) if np.isfinite(ctx.social).any() else float("nan")
    dens = float(np.nanmean(ctx.densite)) if np.isfinite(ctx.densite).any() else float("nan")
    best: dict[str, int] = {}
    if defis is not None and len(defis) and "theme" in defis.columns:
        prio = pd.to_numeric(defis.get("priorite", 1), errors="coerce").fillna(1).clip(lower=1)
        for theme, p in zip(defis["theme"].astype(str), prio, strict=False):
            if theme in THEME_CODES:
                best[theme] = int(min(best.get(theme, 99), p))
    social_src = next(
        (str(x) for arr in (ctx.qpv_source, ctx.iris_source, ctx.ips_source) for x in arr if x),
        "",
    )
    return QuarterProfile(name, ev, social, dens, best, ctx.walks, social_src)


def score_services(
    solutions: Sequence[Solution],
    profiles: Sequence[QuarterProfile],
    *,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Commune scores of the services without a site, one row per (service, commune)."""
    w = check_weights(weights)
    rows = []
    for s in (s for s in solutions if s.exigences.sans_site):
        for p in profiles:
            parts: list[tuple[str, str]] = []
            vals: dict[str, float] = {}
            # the weight of the most important of the service's themes each evidence measures
            tw = {t: 1.0 if k == 0 else SECONDARY_THEME_WEIGHT for k, t in enumerate(s.themes)}
            scores = [
                (code, sc, max(tw[t] for t in themes if t in tw))
                for code, (themes, sc, _, _) in p.evidence.items()
                if set(themes) & set(s.themes)
            ]
            defi = max((tw[t] / p.defis[t] for t in s.themes if t in p.defis), default=np.nan)
            if scores:
                vals["besoin"] = 1 - float(
                    np.prod([1 - wt * min(sc, 0.999) for _, sc, wt in scores])
                )
                for code, sc, wt in sorted(scores, key=lambda x: -x[1] * x[2])[:2]:
                    themes, mean, _, src = p.evidence[code]
                    text = _EVIDENCE_TEXT.get(code, "{p} du quartier : " + code).format(
                        p=f"{round(sc * 100):.0f} %", v=f"{mean:.2f}".replace(".", ",")
                    )
                    if code.startswith("marche:"):
                        text = (
                            f"annotations « {theme_short(themes[0])} » "
                            f"{next(iter(p.walks.values()), 'de la marche sensible')}"
                        )
                        if sc <= _FAINT:  # positive or far from the quarter: no need shown
                            text += " : aucune ne signale de manque" if sc == 0 else " : rares"
                    parts.append((text + (_SECONDARY if wt < 1 else ""), src))
            if np.isfinite(defi):
                vals["defis"] = defi
                t = max((t for t in s.themes if t in p.defis), key=lambda t: tw[t] / p.defis[t])
                parts.append(
                    (
                        f"défi « {theme_short(t)} » de l'atelier (priorité {p.defis[t]})"
                        + (_SECONDARY if tw[t] < 1 else ""),
                        "defis_atelier",
                    )
                )
            if s.exigences.qpv == "favorable" and np.isfinite(p.social):
                vals["qpv"] = p.social
                parts.append(
                    (
                        f"fragilité sociale moyenne {p.social:.2f} (QPV 2024, Filosofi 2021, IPS "
                        "2023)".replace(".", ","),
                        p.social_source,
                    )
                )
            if s.exigences.densite == "favorable" and np.isfinite(p.densite):
                vals["densite"] = min(p.densite / DENSE_PER_KM2, 1.0)
            measured = "besoin" in vals or "defis" in vals
            total = (
                round(sum(w[k] * v for k, v in vals.items()) / sum(w[k] for k in vals), 4)
                if measured
                else np.nan
            )
            missing = [
                theme_short(t)
                for t in s.themes
                if t not in p.defis and not any(t in th for th, *_ in p.evidence.values())
            ]
            text = " ; ".join(t for t, _ in parts)
            if missing:
                text += ("" if not text else " ; ") + f"besoin non mesuré : {', '.join(missing)}"
            rows.append(
                {
                    "solution_id": s.id,
                    "solution": s.nom,
                    "commune": p.name,
                    **{k: round(vals[k], 3) if k in vals else np.nan for k in CRITERIA},
                    "total": total,
                    "statut": "service sans site" if measured else UNMEASURED,
                    "explication": text,
                    "sources": ";".join(dict.fromkeys(src for _, src in parts if src)),
                }
            )
    return pd.DataFrame(rows)


def rank_communes(
    best_by_commune: pd.DataFrame,
    *,
    weights: Mapping[str, float] | None = None,
    n_draws: int = 500,
    solutions: Sequence[Solution] | None = None,
) -> pd.DataFrame:
    """Rank the communes for every solution, with gap and stability of the n°1 commune.

    Parameters
    ----------
    best_by_commune : DataFrame
        One row per (solution, commune): ``solution_id``, ``commune``, ``total`` and the
        criteria columns (a site-based solution's best site, a service's commune score).

    Returns
    -------
    DataFrame
        The rows with ``rang`` (ties shared), ``ex_aequo``, ``ecart`` (best − second-best
        commune, on the n°1 row), ``stabilite_n1``, ``tau_kendall`` and ``classement``.
    """
    w = check_weights(weights)
    df = best_by_commune.copy()
    df["_s"] = pd.factorize(df["solution_id"])[0]
    df = df.sort_values(
        ["_s", "total", "commune"], ascending=[True, False, True], na_position="last"
    ).reset_index(drop=True)
    sol = df["_s"].to_numpy()
    total = df["total"].to_numpy(dtype=float)
    rank = competition_rank(sol, total)
    df["rang"] = pd.array([None if r != r else int(r) for r in rank], dtype="Int64")
    key = pd.Series(sol * 1000 + np.nan_to_num(rank).astype(int))
    df["ex_aequo"] = key.duplicated(keep=False).to_numpy() & ~np.isnan(rank)
    is_top = (df["rang"] == 1).fillna(False).to_numpy(dtype=bool)
    below = (df["rang"] > 1).fillna(False).to_numpy(dtype=bool)
    second = df[below].groupby("_s")["total"].max()
    top = df[is_top].groupby("_s")["total"].max()
    n_top = df[is_top].groupby("_s").size()
    gap = (top - second.reindex(top.index)).where(n_top.reindex(top.index) < 2, 0.0)
    df["ecart"] = np.where(is_top, df["_s"].map(gap).to_numpy(dtype=float), np.nan)
    values = df[list(CRITERIA)].to_numpy(dtype=float)
    robust = sensitivity(
        values,
        sol,
        rank,
        total,
        w,
        list(CRITERIA),
        int(sol.max()) + 1 if len(sol) else 0,
        n_draws=n_draws,
        single="une seule commune où le besoin est mesuré",
    )
    df = df.join(robust, on="_s")
    df.loc[df["total"].isna(), "classement"] = UNMEASURED
    df["indiscernable_de"] = _indistinguishable(df)
    by_id = {s.id: s for s in solutions or ()}
    df["indiscernable_pourquoi"] = [
        _why_indistinguishable(by_id.get(str(sid)), [by_id.get(o) for o in others.split(", ")])
        if others
        else ""
        for sid, others in zip(df["solution_id"], df["indiscernable_de"], strict=True)
    ]
    return df.drop(columns="_s")


def _fmt_area(value: float | None) -> str:
    if value is None:
        return "aucune"
    return f"{value:g} m²".replace(".", ",")


def requirement_differences(a: Solution, b: Solution) -> list[str]:
    """French list of what the catalogue gives differently to two solutions (themes, needs).

    Empty when their themes and requirements are identical in the catalogue.
    """
    out: list[str] = []
    if set(a.themes) != set(b.themes):
        only = sorted(set(a.themes) ^ set(b.themes))
        out.append("thèmes (" + ", ".join(theme_short(t) for t in only) + ")")
    ra, rb = a.exigences, b.exigences
    if set(ra.types_sites) != set(rb.types_sites):
        only = sorted(set(ra.types_sites) ^ set(rb.types_sites))
        labels = [SITE_KINDS[k].label.split(" (")[0] if k in SITE_KINDS else k for k in only]
        out.append("types de sites (" + " ; ".join(labels) + ")")
    for name, label in (
        ("surface_min_m2", "surface minimale"),
        ("surface_max_m2", "surface maximale"),
    ):
        va, vb = getattr(ra, name), getattr(rb, name)
        if va != vb:
            out.append(f"{label} ({_fmt_area(va)} / {_fmt_area(vb)})")
    for name in (
        "surface_requise",
        "espace_public",
        "site_partageable",
        "sans_site",
        "coupures",
        "gares",
        "qpv",
        "densite",
    ):
        if getattr(ra, name) != getattr(rb, name):
            out.append(name.replace("_", " "))
    return out


#: Why a catalogue difference leaves two solutions' commune scores equal.
_UNTESTED = {
    "thèmes": "qu'aucune couche ne mesure",
    "types de sites": "sites classés mais jamais au premier rang dans ces communes",
    "surface minimale": "qu'aucun site de surface connue ne départage",
    "surface maximale": "qu'aucun site de surface connue ne départage",
}


def _why_indistinguishable(a: Solution | None, others: list[Solution | None]) -> str:
    """Why two solutions get the same commune scores: same requirements, or untested ones."""
    if a is None or any(o is None for o in others):
        return ""
    parts = []
    for o in others:
        assert o is not None
        diff = requirement_differences(a, o)
        if not diff:
            parts.append(f"exigences identiques à {o.nom} dans le catalogue")
        else:
            why = [
                _UNTESTED.get(d.split(" (")[0], "sans effet sur leur meilleur site") for d in diff
            ]
            parts.append(
                f"ne diffère de {o.nom} que par : "
                + ", ".join(f"{d}, {w}" for d, w in zip(diff, why, strict=True))
            )
    return " ; ".join(parts)


def _indistinguishable(df: pd.DataFrame) -> np.ndarray:
    """For each row, the other solutions whose commune scores are all identical to this one's.

    Two solutions whose requirements differ only where no layer measures anything (a theme
    with no evidence, a minimum area no site of known area tests) get the same scores; the
    output says so instead of pretending to tell them apart.
    """
    table = df.pivot_table(index="solution_id", columns="commune", values="total", dropna=False)
    key = table.round(4).fillna(-1.0).apply(lambda r: tuple(r), axis=1)
    groups = key.groupby(key).groups
    same = {
        sid: ", ".join(str(o) for o in members if o != sid)
        for members in groups.values()
        for sid in members
        if len(members) > 1
    }
    return df["solution_id"].map(same).fillna("").to_numpy(dtype=object)
