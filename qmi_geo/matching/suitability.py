"""Suitability of sites for solutions: hard constraints, criteria scores and French reasons.

For every pair (solution, site) :func:`assess_sites` applies the **hard constraints** first —
site kind accepted, area within the solution's bounds, public space when required, closeness to
a break when required — and gives each excluded pair its reason. Feasible pairs are then scored
on **criteria**, each in [0, 1]:

``besoin``
    need for the themes the solution addresses: walk annotations within 300 m, hot spots (distance
    decay × size) and, where the walk says
    nothing, proxies from the analytic layers (heat exposure rank of the IRIS, sealed share,
    air/noise exposure, FUB problem streets, nearby breaks). Several themes combine as
    ``1 − Π(1 − need)``.
``defis``
    challenges placed and ranked by the commune at the « carte sur table » workshop on the
    solution's themes, within 300 m (distance decay ÷ priority, 1 = top priority).
``mineralisation``
    sealed share of the area around the site (solutions that transform mineral ground).
``qpv``
    1 inside a QPV, falling linearly to 0 at 500 m.
``coupures``
    1 on a break or crossing, falling to 0 at 500 m.
``transports``
    1 within 100 m of a station, falling to 0 at 800 m (a 10-minute walk).
``densite``
    population density of the IRIS, 1 at 20 000 inhabitants/km² and more.
``surface``
    area fit: 0.6 at the minimum area, 1 from twice the minimum; 0.5 when the area is unknown
    (the reason says « à vérifier sur place »).

A criterion counts only for the solutions it concerns (e.g. ``mineralisation`` for a
``surface_requise = "minerale"`` solution) and only when its layer was given; the total is the
weighted mean of the criteria that count, with :data:`DEFAULT_WEIGHTS` unless the spec overrides
them. Every feasible pair carries each criterion (NaN when it does not count), its total, its
rank among the solution's sites and a one-line French explanation.

Everything is computed on arrays of shape (solutions × sites); the spatial work is done once per
site with STRtree queries (:func:`qmi_geo.matching._context.site_context`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from qmi_geo.errors import SpecError
from qmi_geo.matching._context import (
    BREAK,
    DEFI,
    MINERAL,
    THEME_CODES,
    SiteContext,
    _decay,
    _m,
    de,
    site_context,
)
from qmi_geo.matching.catalogue import Solution
from qmi_geo.style import SITE_KINDS

__all__ = [
    "CRITERIA",
    "DEFAULT_WEIGHTS",
    "SCORE_COLUMNS",
    "Suitability",
    "assess_sites",
    "check_weights",
    "score_sites",
]

#: Default weights of the criteria (documented in the module docstring); a spec's ``[poids]``
#: table overrides some or all of them.
DEFAULT_WEIGHTS: dict[str, float] = {
    "besoin": 0.30,
    "defis": 0.10,
    "mineralisation": 0.15,
    "qpv": 0.15,
    "coupures": 0.10,
    "transports": 0.10,
    "densite": 0.05,
    "surface": 0.10,
}

#: French labels of the criteria (CSV headers, popups).
CRITERIA: dict[str, str] = {
    "besoin": "Besoin exprimé",
    "defis": "Défis de l'atelier",
    "mineralisation": "Minéralisation",
    "qpv": "Quartier prioritaire",
    "coupures": "Coupures urbaines",
    "transports": "Proximité d'une gare",
    "densite": "Densité de population",
    "surface": "Adéquation de la surface",
}

SCORE_COLUMNS = [
    "solution_id",
    "solution",
    "site_id",
    "type_site",
    "nom_site",
    "surface_m2",
    *CRITERIA,
    "total",
    "rang",
    "theme_principal",
    "explication",
    "a_verifier",
]

#: A site within this distance (m) of a break satisfies ``coupures = "requis"``.
BREAK_REQUIRED_M = 50.0
QPV_RADIUS_M = 500.0
BREAK_RADIUS_M = 500.0
STATION_NEAR_M, STATION_FAR_M = 100.0, 800.0
DENSE_PER_KM2 = 20_000.0
_SHOWN = 0.05  # criteria below this score are not mentioned in the explanation


@dataclass
class Suitability:
    """Result of :func:`assess_sites`.

    Attributes
    ----------
    scores : DataFrame
        Feasible pairs, columns :data:`SCORE_COLUMNS`, sorted by solution then rank.
    excluded : DataFrame
        Excluded pairs: ``solution_id``, ``site_id``, ``motif`` (French reason).
    context : SiteContext
        The per-site measures behind the scores.
    weights : dict
        The weights used.
    """

    scores: pd.DataFrame
    excluded: pd.DataFrame
    context: SiteContext
    weights: dict[str, float]


def check_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """Merge user weights into :data:`DEFAULT_WEIGHTS`, rejecting unknown keys.

    Examples
    --------
    >>> check_weights({"besoin": 0.5})["besoin"]
    0.5
    >>> check_weights({"beosin": 1})
    Traceback (most recent call last):
    ...
    qmi_geo.errors.SpecError: Poids inconnu « beosin » ...
    """
    merged = dict(DEFAULT_WEIGHTS)
    for key, value in (weights or {}).items():
        if key not in DEFAULT_WEIGHTS:
            raise SpecError(
                f"Poids inconnu « {key} » dans la spécification. Critères possibles : "
                f"{', '.join(DEFAULT_WEIGHTS)}."
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise SpecError(f"Poids « {key} » : nombre positif attendu, reçu {value!r}.")
        merged[key] = float(value)
    if sum(merged.values()) <= 0:
        raise SpecError("Tous les poids sont nuls : donnez au moins un poids positif.")
    return merged


def score_sites(
    solutions: Sequence[Solution],
    sites: gpd.GeoDataFrame,
    *,
    context: Mapping[str, gpd.GeoDataFrame],
    annotations: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    defis: gpd.GeoDataFrame | None = None,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Score and rank the feasible (solution, site) pairs; see :func:`assess_sites`.

    Returns
    -------
    DataFrame
        One row per feasible pair, columns :data:`SCORE_COLUMNS`. The excluded pairs and their
        reasons are in ``assess_sites(...).excluded``.
    """
    return assess_sites(
        solutions,
        sites,
        context=context,
        annotations=annotations,
        hotspots=hotspots,
        defis=defis,
        weights=weights,
    ).scores


def assess_sites(
    solutions: Sequence[Solution],
    sites: gpd.GeoDataFrame,
    *,
    context: Mapping[str, gpd.GeoDataFrame],
    annotations: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    defis: gpd.GeoDataFrame | None = None,
    weights: Mapping[str, float] | None = None,
) -> Suitability:
    """Apply the hard constraints, score the criteria and explain every pair.

    Parameters
    ----------
    solutions : sequence of Solution
        From :func:`qmi_geo.matching.load_solutions`.
    sites : GeoDataFrame
        From :func:`qmi_geo.matching.candidate_sites` (EPSG:2154).
    context : mapping of str to GeoDataFrame
        Analytic layers by kind: ``surfaces_minerales``, ``qpv``, ``coupures``, ``gares``,
        ``iris``, ``nuisances``, ``rues_citees`` (each optional).
    annotations, hotspots, defis : GeoDataFrame, optional
        Walk annotations, hot spots and workshop challenges (EPSG:2154).
    weights : mapping, optional
        Overrides of :data:`DEFAULT_WEIGHTS`.

    Returns
    -------
    Suitability
    """
    w = check_weights(weights)
    ctx = site_context(
        sites, context=context, annotations=annotations, hotspots=hotspots, defis=defis
    )
    n_sol, n_site = len(solutions), len(sites)
    kinds = list(SITE_KINDS)
    kind_idx = (
        sites["type"]
        .map({k: i for i, k in enumerate(kinds)})
        .fillna(len(kinds) - 1)
        .to_numpy(dtype=int)
    )
    area = sites["surface_m2"].to_numpy(dtype=float)
    private = sites["proprietaire"].astype(str).str.lower().str.contains("priv", na=False)
    private = private.to_numpy() & sites["proprietaire"].notna().to_numpy()

    req = [s.exigences for s in solutions]
    accepts = np.zeros((n_sol, len(kinds)), dtype=bool)
    for i, r in enumerate(req):
        accepts[i, [kinds.index(k) for k in r.types_sites]] = True
    smin = np.array([r.surface_min_m2 if r.surface_min_m2 is not None else np.nan for r in req])
    smax = np.array([r.surface_max_m2 if r.surface_max_m2 is not None else np.nan for r in req])
    public = np.array([r.espace_public for r in req])
    need_break = np.array([r.coupures == "requis" for r in req])

    # ---- hard constraints, (n_sol, n_site) boolean matrices, first failing reason wins
    bad_kind = ~accepts[:, kind_idx]
    known = ~np.isnan(area)
    too_small = known[None, :] & (area[None, :] < smin[:, None])
    too_big = known[None, :] & (area[None, :] > smax[:, None])
    bad_public = public[:, None] & private[None, :]
    far_break = need_break[:, None] & (ctx.coupure_distance[None, :] > BREAK_REQUIRED_M)
    reason = np.zeros((n_sol, n_site), dtype=np.int8)
    for code, mask in (
        (5, far_break),
        (4, bad_public),
        (3, too_big),
        (2, too_small),
        (1, bad_kind),
    ):
        reason[mask] = code
    feasible = reason == 0

    # ---- criteria, (n_sol, n_site) matrices
    theme_mask = np.zeros((n_sol, len(THEME_CODES)), dtype=bool)
    for i, s in enumerate(solutions):
        theme_mask[i, [THEME_CODES.index(t) for t in s.themes]] = True
    log_free = np.log1p(-np.clip(ctx.need, 0.0, 0.999))  # (n_site, n_theme)
    besoin = 1.0 - np.exp(theme_mask.astype(float) @ log_free.T)
    top_theme = _top_themes(theme_mask, ctx.need)
    log_defi = np.log1p(-np.clip(ctx.defi, 0.0, 0.999))
    defis = 1.0 - np.exp(theme_mask.astype(float) @ log_defi.T)
    top_defi = _top_themes(theme_mask, ctx.defi)

    mineral = np.nan_to_num(ctx.taux_impermeable)
    qpv = _decay(ctx.qpv_distance, QPV_RADIUS_M)
    breaks = _decay(ctx.coupure_distance, BREAK_RADIUS_M)
    station = np.clip((STATION_FAR_M - ctx.gare_distance) / (STATION_FAR_M - STATION_NEAR_M), 0, 1)
    density = np.clip(np.nan_to_num(ctx.densite) / DENSE_PER_KM2, 0, 1)
    ratio = area[None, :] / smin[:, None]
    fit = np.where(np.isnan(smin)[:, None], 1.0, np.clip(0.6 + 0.4 * (ratio - 1.0), 0.6, 1.0))
    fit = np.where(known[None, :], fit, 0.5)

    applies = {
        "besoin": np.ones(n_sol, dtype=bool),
        "defis": np.full(n_sol, ctx.available["defis"]),
        "mineralisation": np.array([r.surface_requise == "minerale" for r in req])
        & ctx.available["mineralisation"],
        "qpv": np.array([r.qpv == "favorable" for r in req]) & ctx.available["qpv"],
        "coupures": np.array([r.coupures != "indifferent" for r in req])
        & ctx.available["coupures"],
        "transports": np.array([r.gares == "favorable" for r in req]) & ctx.available["transports"],
        "densite": np.array([r.densite == "favorable" for r in req]) & ctx.available["densite"],
        "surface": np.ones(n_sol, dtype=bool),
    }
    per_site = {
        "mineralisation": mineral,
        "qpv": qpv,
        "coupures": breaks,
        "transports": station,
        "densite": density,
    }
    sol_i, site_i = np.nonzero(feasible)
    values: dict[str, np.ndarray] = {
        "besoin": besoin[sol_i, site_i],
        "defis": defis[sol_i, site_i],
        **{k: v[site_i] for k, v in per_site.items()},
        "surface": fit[sol_i, site_i],
    }
    num = np.zeros(len(sol_i))
    den = np.zeros(len(sol_i))
    for key, vals in values.items():
        on = applies[key][sol_i]
        num += np.where(on, w[key] * vals, 0.0)
        den += np.where(on, w[key], 0.0)
        values[key] = np.where(on, vals, np.nan)
    total = np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    scores = pd.DataFrame(
        {
            "solution_id": np.array([s.id for s in solutions], dtype=object)[sol_i],
            "solution": np.array([s.nom for s in solutions], dtype=object)[sol_i],
            "site_id": sites["site_id"].to_numpy()[site_i],
            "type_site": sites["type"].to_numpy()[site_i],
            "nom_site": sites["nom"].to_numpy()[site_i],
            "surface_m2": area[site_i],
            **{k: np.round(values[k], 3) for k in CRITERIA},
            "total": total.round(4),
        }
    )
    theme_of_pair = top_theme[sol_i, site_i]
    scores["theme_principal"] = np.where(
        besoin[sol_i, site_i] > _SHOWN, np.array(THEME_CODES, dtype=object)[theme_of_pair], None
    )
    scores["explication"], scores["a_verifier"] = _explain(
        sites, ctx, sol_i, site_i, theme_of_pair, top_defi[sol_i, site_i], values, area, smin
    )
    scores["_s"] = sol_i
    scores = scores.sort_values(
        ["_s", "total", "site_id"], ascending=[True, False, True], kind="stable"
    )
    scores["rang"] = scores.groupby("_s").cumcount() + 1
    scores = scores.drop(columns="_s").reset_index(drop=True)[SCORE_COLUMNS]

    excluded = _excluded(solutions, sites, reason, kinds, kind_idx, area, smin, smax, ctx)
    return Suitability(scores=scores, excluded=excluded, context=ctx, weights=w)


def _top_themes(theme_mask: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Index of the solution's theme with the largest need at each site, (n_sol, n_site)."""
    out = np.zeros((theme_mask.shape[0], need.shape[0]), dtype=np.int16)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, row in enumerate(theme_mask):
        groups.setdefault(tuple(np.flatnonzero(row)), []).append(i)
    for themes, rows in groups.items():  # one pass per distinct theme set, not per pair
        cols = np.array(themes)
        out[rows] = cols[need[:, cols].argmax(axis=1)]
    return out


def _explain(
    sites: gpd.GeoDataFrame,
    ctx: SiteContext,
    sol_i: np.ndarray,
    site_i: np.ndarray,
    theme_i: np.ndarray,
    defi_i: np.ndarray,
    values: Mapping[str, np.ndarray],
    area: np.ndarray,
    smin: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One French line per feasible pair, assembled from per-site phrases."""
    n = len(sites)
    kinds = sites["type"].map(lambda k: SITE_KINDS[k].label if k in SITE_KINDS else k)
    first = kinds.str.split(",").str[0].str.lower().to_numpy(dtype=object)
    names = sites["nom"].astype(str).to_numpy(dtype=object)
    est = (sites["surface_source"] == "estimée").to_numpy()
    desc = np.empty(n, dtype=object)
    for j in range(n):  # one phrase per site
        text = f"{first[j][:1].upper()}{first[j][1:]} « {names[j]} »"
        if not np.isnan(area[j]):
            text += f" de {'≈ ' if est[j] else ''}{_area(float(area[j]))}"
        desc[j] = text
    mineral_txt = np.array(
        [
            f", minéralisé à {t * 100:.0f} %" if t == t and t > _SHOWN else ""
            for t in ctx.taux_impermeable
        ],
        dtype=object,
    )
    qpv_txt = np.array(
        [
            ""
            if not np.isfinite(d)
            else (f", dans le QPV {q}" if d <= 1 else f", à {_m(d)} du QPV {q}")
            for d, q in zip(ctx.qpv_distance, ctx.qpv_nom, strict=False)
        ],
        dtype=object,
    )
    is_bridge = (sites["type"] == "pont").to_numpy()
    break_txt = np.array(
        [
            ""
            if not np.isfinite(d)
            else (
                f", franchissement {de(b)}"
                if d <= 5 and p
                else f", le long {de(b)}"
                if d <= 5
                else f", à {_m(d)} {de(b)}"
            )
            for d, b, p in zip(ctx.coupure_distance, ctx.coupure_nom, is_bridge, strict=False)
        ],
        dtype=object,
    )
    gare_txt = np.array(
        [
            ""
            if not np.isfinite(d)
            else (f", au pied de la gare {g}" if d <= 50 else f", à {_m(d)} de la gare {g}")
            for d, g in zip(ctx.gare_distance, ctx.gare_nom, strict=False)
        ],
        dtype=object,
    )
    dens_txt = np.array(
        [f", secteur de {_thousands(d)} hab./km²" if d == d else "" for d in ctx.densite],
        dtype=object,
    )

    # need phrases only for the (site, theme) cells that explain some pair
    need_shown = values["besoin"] > _SHOWN
    cells = pd.unique(site_i[need_shown].astype(np.int64) * 1000 + theme_i[need_shown])
    phrases = {int(c): ctx.need_phrase(int(c) // 1000, int(c) % 1000) for c in cells}
    key = site_i.astype(np.int64) * 1000 + theme_i
    mapped = pd.Series(key).map({k: ", " + v for k, v in phrases.items()}).to_numpy(dtype=object)
    need_txt = np.where(need_shown, mapped, "")
    defi_shown = ~np.isnan(values["defis"]) & (np.nan_to_num(values["defis"]) > _SHOWN)
    dcells = pd.unique(site_i[defi_shown].astype(np.int64) * 1000 + defi_i[defi_shown])
    dphrases = {int(c): ", " + ctx.need_phrase(int(c) // 1000, int(c) % 1000, DEFI) for c in dcells}
    dkey = site_i.astype(np.int64) * 1000 + defi_i
    defi_txt = np.where(defi_shown, pd.Series(dkey).map(dphrases).to_numpy(dtype=object), "")
    comp = ctx.need_component[site_i, theme_i]
    mineral_dup = need_shown & (comp == MINERAL)
    break_dup = need_shown & (comp == BREAK)

    def pick(crit: str, texts: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
        vals = values[crit]
        on = ~np.isnan(vals) & (vals > _SHOWN)
        if extra is not None:
            on &= extra
        return np.where(on, texts[site_i], "")

    unknown = np.isnan(area[site_i])
    check = np.where(
        unknown & ~np.isnan(smin[sol_i]), "surface inconnue : à vérifier sur place", ""
    )
    check = np.where(unknown & np.isnan(smin[sol_i]), "", check)
    check_txt = np.where(check != "", " ; " + check.astype(object), "")
    line = (
        desc[site_i]
        + pick("mineralisation", mineral_txt, ~mineral_dup)
        + need_txt
        + defi_txt
        + pick("qpv", qpv_txt)
        + pick("coupures", break_txt, ~break_dup)
        + pick("transports", gare_txt)
        + pick("densite", dens_txt)
        + check_txt
    )
    return line, check.astype(object)


def _thousands(value: float) -> str:
    return f"{int(round(value, -2)):,}".replace(",", "\u202f")


def _area(value: float) -> str:
    if value >= 10_000:
        return f"{value / 10_000:.1f} ha".replace(".", ",")
    return f"{_thousands(value) if value >= 1000 else f'{value:.0f}'} m²"


def _excluded(
    solutions: Sequence[Solution],
    sites: gpd.GeoDataFrame,
    reason: np.ndarray,
    kinds: list[str],
    kind_idx: np.ndarray,
    area: np.ndarray,
    smin: np.ndarray,
    smax: np.ndarray,
    ctx: SiteContext,
) -> pd.DataFrame:
    """The excluded pairs with a French reason, built per distinct (solution, reason) case."""
    sol_i, site_i = np.nonzero(reason)
    codes = reason[sol_i, site_i]
    motif = np.empty(len(sol_i), dtype=object)
    # 1: site kind — the reason depends only on (solution, kind)
    m = codes == 1
    if m.any():
        accepted = [
            ", ".join(SITE_KINDS[k].label for k in s.exigences.types_sites) for s in solutions
        ]
        combo = sol_i[m].astype(np.int64) * len(kinds) + kind_idx[site_i[m]]
        uniq, inverse = np.unique(combo, return_inverse=True)
        messages = np.array(
            [
                f"type de site non accepté : {SITE_KINDS[kinds[c % len(kinds)]].label} "
                f"(acceptés : {accepted[c // len(kinds)]})"
                for c in uniq
            ],
            dtype=object,
        )
        motif[m] = messages[inverse]  # one message per distinct (solution, kind)
    for code, fmt in (
        (
            2,
            lambda i, j: (
                f"surface trop petite : {_area(float(area[j]))} pour "
                f"{_area(float(smin[i]))} au minimum"
            ),
        ),
        (
            3,
            lambda i, j: (
                f"surface trop grande : {_area(float(area[j]))} pour "
                f"{_area(float(smax[i]))} au maximum"
            ),
        ),
        (4, lambda i, j: "site privé, la solution doit être installée dans l'espace public"),
        (
            5,
            lambda i, j: (
                f"à {_m(float(ctx.coupure_distance[j]))} de la coupure la plus proche "
                f"({_m(BREAK_REQUIRED_M)} au plus requis)"
                if np.isfinite(ctx.coupure_distance[j])
                else "aucune coupure urbaine connue (couche coupures absente)"
            ),
        ),
    ):
        m = codes == code
        if m.any():
            motif[m] = [fmt(i, j) for i, j in zip(sol_i[m], site_i[m], strict=False)]
    return pd.DataFrame(
        {
            "solution_id": np.array([s.id for s in solutions], dtype=object)[sol_i],
            "site_id": sites["site_id"].to_numpy()[site_i],
            "motif": motif,
        }
    )
