"""Suitability of sites for solutions: hard constraints, criteria scores, ranks and reasons.

For every pair (solution, site) :func:`assess_sites` applies the **hard constraints** first —
site inside the quarter (plus :data:`qmi_geo.matching.sites.SITE_MARGIN_M`), site kind
accepted, area within the solution's bounds, public space when required, closeness to a break
when required — and gives each excluded pair its reason. Feasible pairs are then scored on
**criteria**, each in [0, 1]:

``besoin``
    the need for the solution's themes, measured by the evidence of
    :mod:`qmi_geo.matching._context` (heat rank of the IRIS, sealed share, nuisance grid, FUB
    streets, walk annotations and hot spots, break crossings). Each piece of evidence counts
    once, combined as ``1 − Π(1 − w·s)`` where *w* is 1 when it measures the solution's
    first theme (its purpose) and :data:`SECONDARY_THEME_WEIGHT` (½) when it measures only a
    secondary one (a co-benefit); the sealed share is left out of the need when the
    ``mineralisation`` criterion applies, and break proximity when ``coupures`` applies, so
    that no evidence is counted twice. Themes nothing measures are « besoin non mesuré »;
    a solution with no measured theme and no workshop challenge on its themes is **not
    ranked** (``statut`` = « besoin non mesuré »).
``defis``
    challenges placed and ranked by the commune at the « carte sur table » workshop on the
    solution's themes, within 300 m (distance decay ÷ priority, 1 = top priority; a
    challenge on a secondary theme counts half, as in the need).
``mineralisation``
    sealed share of the site's IRIS (solutions that transform mineral ground).
``qpv`` — social fragility
    mean of what measures it: 1 inside a QPV falling to 0 at 500 m; the IRIS poverty rate
    (or, without it, its median income); the IPS of the nearest collège within 1 km.
``coupures``
    1 on a break or crossing, falling to 0 at 500 m.
``transports``
    1 within 100 m of a station, falling to 0 at 800 m (a 10-minute walk).
``densite``
    population density of the IRIS, 1 at 20 000 inhabitants/km² and more.
``surface``
    area fit: 0.6 at the minimum area, 1 from twice the minimum; 0.5 when the area is unknown
    (the reason says « surface inconnue »).

A criterion counts only for the solutions it concerns and only where it is measured; the total
is the weighted mean of the criteria that count (:data:`DEFAULT_WEIGHTS`, or the spec's).

**Ties.** Totals are rounded to 4 decimals; equal totals share one rank (competition ranking:
1, 1, 3) and are flagged ``ex_aequo``; within a tie, rows are listed by site name then id. No
hidden tie-break: the same rank appears in ``appariements.csv``, the allocation and the maps.

Everything is computed on arrays of shape (solutions × sites); French explanations are built
only for the pairs that are written (each solution's ``explain_top`` best sites).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from qmi_geo.errors import SpecError
from qmi_geo.matching._context import THEME_CODES, SiteContext, _decay, site_context
from qmi_geo.matching.catalogue import Solution
from qmi_geo.style import SITE_KINDS

__all__ = [
    "CRITERIA",
    "DEFAULT_WEIGHTS",
    "EXPLAIN_TOP",
    "SCORE_COLUMNS",
    "SECONDARY_THEME_WEIGHT",
    "UNMEASURED",
    "Suitability",
    "assess_sites",
    "check_weights",
    "competition_rank",
    "score_sites",
    "theme_weights",
]

#: Default weights of the criteria; a spec's ``[weights]`` table overrides some or all of them.
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
    "besoin": "Besoin mesuré",
    "defis": "Défis de l'atelier",
    "mineralisation": "Minéralisation",
    "qpv": "Fragilité sociale (QPV, revenus, IPS)",
    "coupures": "Coupures urbaines",
    "transports": "Proximité d'une gare",
    "densite": "Densité de population",
    "surface": "Adéquation de la surface",
}

#: Weight of a solution's secondary themes (all but the first) in its need and challenges:
#: the catalogue lists a solution's themes by importance, its purpose first.
SECONDARY_THEME_WEIGHT = 0.5

#: Status of a solution none of whose themes is measured in the quarter.
UNMEASURED = "besoin non mesuré"
RANKED = "classé"

#: Each solution's best sites (ties included) that get a French explanation.
EXPLAIN_TOP = 20

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
    "ex_aequo",
    "statut",
    "theme_principal",
    "explication",
    "sources",
    "a_verifier",
]

#: A site within this distance (m) of a break satisfies ``coupures = "requis"``.
BREAK_REQUIRED_M = 50.0
BREAK_RADIUS_M = 500.0
STATION_NEAR_M, STATION_FAR_M = 100.0, 800.0
DENSE_PER_KM2 = 20_000.0

# exclusion codes, the first failing constraint in this order wins
OUTSIDE, BAD_KIND, TOO_SMALL, TOO_BIG, PRIVATE, FAR_BREAK, SERVICE = 6, 1, 2, 3, 4, 5, 7
#: Status of a service without a site (ranked per commune, :mod:`qmi_geo.matching.communes`).
SERVICE_STATUS = "service sans site"


@dataclass
class Suitability:
    """Result of :func:`assess_sites`.

    Attributes
    ----------
    scores : DataFrame
        Feasible pairs, columns :data:`SCORE_COLUMNS`, sorted by solution then rank; the
        ``explication`` is filled for each solution's ``explain_top`` best sites.
    excluded : DataFrame
        Excluded pairs: ``solution_id``, ``site_id``, ``code`` and ``motif`` (French reason).
    context : SiteContext
        The per-site evidence behind the scores.
    weights : dict
        The weights used.
    summary : DataFrame
        One row per solution: status, measured and unmeasured themes, number of compatible
        sites, best and second-best totals and their gap (``ecart``), ties at the top.
    matrix : dict
        Criteria values of the feasible pairs (aligned on ``scores``) and which apply, for the
        sensitivity analysis (:func:`qmi_geo.matching.robustness.sensitivity`).
    """

    scores: pd.DataFrame
    exclusions: Exclusions
    context: SiteContext
    weights: dict[str, float]
    summary: pd.DataFrame
    matrix: dict[str, np.ndarray]

    @property
    def excluded(self) -> pd.DataFrame:
        """Every excluded pair with its reason (built on first access)."""
        return self.exclusions.pairs()

    def exclusion_summary(self) -> pd.DataFrame:
        """One row per (solution, reason): number of sites and the first ten by name."""
        return self.exclusions.summary()


class Exclusions:
    """The excluded pairs, kept compact.

    A solution's sites outside the quarter and of kinds it does not accept are implied by the
    site arrays; only the other failures are stored.
    """

    def __init__(
        self,
        solutions: Sequence[Solution],
        sites: gpd.GeoDataFrame,
        explicit: tuple[np.ndarray, np.ndarray, np.ndarray],
        kinds: list[str],
        kind_idx: np.ndarray,
        inside: np.ndarray,
        area: np.ndarray,
        smin: np.ndarray,
        smax: np.ndarray,
        ctx: SiteContext,
    ) -> None:
        self.solutions, self.sites, self.explicit = solutions, sites, explicit
        self.kinds, self.kind_idx, self.inside = kinds, kind_idx, inside
        self.area, self.smin, self.smax, self.ctx = area, smin, smax, ctx
        self._pairs: pd.DataFrame | None = None

    def _reasons(self, sol: np.ndarray, site: np.ndarray, code: np.ndarray) -> pd.DataFrame:
        """French exclusion reasons of the given (solution, site, code) pairs."""
        from qmi_geo.matching._explain import exclusion_reasons

        return exclusion_reasons(
            self.solutions,
            self.sites,
            sol,
            site,
            code,
            self.kinds,
            self.kind_idx,
            self.area,
            self.smin,
            self.smax,
            self.ctx,
        )

    def _all(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sols, sites, codes = [self.explicit[0]], [self.explicit[1]], [self.explicit[2]]
        outside = np.flatnonzero(~self.inside)
        for i, s in enumerate(self.solutions):
            if s.exigences.sans_site:
                continue
            accepted = [self.kinds.index(k) for k in s.exigences.types_sites]
            bad = np.flatnonzero(self.inside & ~np.isin(self.kind_idx, accepted))
            for idx, reason in ((outside, OUTSIDE), (bad, BAD_KIND)):
                sols.append(np.full(len(idx), i))
                sites.append(idx)
                codes.append(np.full(len(idx), reason, dtype=np.int8))
        sol_all = np.concatenate(sols).astype(np.int64)
        site_all = np.concatenate(sites).astype(np.int64)
        code_all = np.concatenate(codes).astype(np.int8)
        order = np.lexsort((site_all, sol_all))
        return sol_all[order], site_all[order], code_all[order]

    def pairs(self) -> pd.DataFrame:
        """Every excluded pair: ``solution_id``, ``site_id``, ``code``, ``motif``, area."""
        if self._pairs is None:
            self._pairs = self._reasons(*self._all())
        return self._pairs

    def summary(self) -> pd.DataFrame:
        """One row per (solution, reason), built from the compact arrays."""
        sol, site, code = self._all()
        key = sol * 100 + code.astype(np.int64) * 10  # kind kept apart below
        kind_of = np.where(code == BAD_KIND, self.kind_idx[site], 0)
        key = key * 100 + kind_of
        order = np.argsort(key, kind="stable")
        key, sol, site, code = key[order], sol[order], site[order], code[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        first = self._reasons(sol[starts], site[starts], code[starts])
        counts = np.diff(np.r_[starts, len(key)])
        names = self.sites["nom"].astype(str).to_numpy(dtype=object)
        listed = [
            ", ".join(names[site[a : a + min(c, 10)]])
            + (f", … ({c - 10} autres)" if c > 10 else "")
            for a, c in zip(starts.tolist(), counts.tolist(), strict=True)
        ]
        return pd.DataFrame(
            {
                "solution_id": first["solution_id"].astype(object).to_numpy(),
                "motif": first["motif"].astype(object).to_numpy(),
                "nombre_sites": counts,
                "sites": listed,
            }
        )


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


def competition_rank(group: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Rank of each row within its group, best total first, ties sharing a rank (1, 1, 3).

    ``group`` must be sorted and, within a group, ``total`` sorted descending. NaN totals get
    NaN ranks.

    Examples
    --------
    >>> competition_rank(np.array([0, 0, 0, 1]), np.array([0.9, 0.9, 0.5, 0.7])).tolist()
    [1.0, 1.0, 3.0, 1.0]
    """
    n = len(group)
    out = np.full(n, np.nan)
    if n == 0:
        return out
    start = np.r_[True, group[1:] != group[:-1]]
    pos = np.arange(n) - np.maximum.accumulate(np.where(start, np.arange(n), 0))
    new_value = start | np.r_[True, total[1:] != total[:-1]]
    first_pos = np.maximum.accumulate(np.where(new_value, np.arange(n), 0))
    rank = (pos - (np.arange(n) - first_pos)) + 1.0
    return np.where(np.isnan(total), np.nan, rank)


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
    """Score and rank the feasible (solution, site) pairs; see :func:`assess_sites`."""
    return assess_sites(
        solutions,
        sites,
        context=context,
        annotations=annotations,
        hotspots=hotspots,
        defis=defis,
        weights=weights,
    ).scores


def theme_weights(solutions: Sequence[Solution]) -> np.ndarray:
    """Weight of each theme in each solution's need, shape (n_sol, n_themes).

    1 for a solution's first theme, :data:`SECONDARY_THEME_WEIGHT` for the others, 0 for the
    themes it does not address.

    >>> from qmi_geo.matching import load_solutions
    >>> w = theme_weights(load_solutions(only=["vytal"]))[0]
    >>> [float(w[THEME_CODES.index(t)]) for t in ("proprete", "commerces_animation", "eau")]
    [1.0, 0.5, 0.0]
    """
    out = np.zeros((len(solutions), len(THEME_CODES)))
    for i, s in enumerate(solutions):
        for k, t in enumerate(s.themes):
            out[i, THEME_CODES.index(t)] = 1.0 if k == 0 else SECONDARY_THEME_WEIGHT
    return out


def relevant_evidence(
    solutions: Sequence[Solution], ctx: SiteContext, applies: Mapping[str, np.ndarray]
) -> np.ndarray:
    """(n_sol, n_evidence) weights of the evidence each solution's need counts (each once).

    A piece of evidence weighs as the most important theme of the solution it measures (1 for
    the first theme, :data:`SECONDARY_THEME_WEIGHT` for the others); 0 where it does not count.
    """
    tw = theme_weights(solutions)
    ev = ctx.evidence_themes()
    if ev.shape[0] == 0:
        return np.zeros((len(solutions), 0))
    rel = np.where(ev[None, :, :], tw[:, None, :], 0.0).max(axis=2)
    codes = [e.code for e in ctx.evidence]
    if "impermeable" in codes:  # the sealed share is the mineralisation criterion there
        rel[applies["mineralisation"], codes.index("impermeable")] = 0.0
    if "coupure" in codes:  # break proximity is the coupures criterion there
        rel[applies["coupures"], codes.index("coupure")] = 0.0
    return rel


def assess_sites(
    solutions: Sequence[Solution],
    sites: gpd.GeoDataFrame,
    *,
    context: Mapping[str, gpd.GeoDataFrame],
    annotations: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    defis: gpd.GeoDataFrame | None = None,
    weights: Mapping[str, float] | None = None,
    explain_top: int | None = EXPLAIN_TOP,
    ctx: SiteContext | None = None,
    n_draws: int | None = None,
) -> Suitability:
    """Apply the hard constraints, score the criteria, rank and explain the best pairs.

    Parameters
    ----------
    solutions : sequence of Solution
        From :func:`qmi_geo.matching.load_solutions`.
    sites : GeoDataFrame
        From :func:`qmi_geo.matching.candidate_sites` (EPSG:2154).
    context : mapping of str to GeoDataFrame
        Analytic layers by kind: ``surfaces_minerales``, ``qpv``, ``coupures``, ``gares``,
        ``iris``, ``nuisances``, ``rues_citees``, ``chaleur`` (each optional).
    annotations, hotspots, defis : GeoDataFrame, optional
        Walk annotations, hot spots and workshop challenges (EPSG:2154).
    weights : mapping, optional
        Overrides of :data:`DEFAULT_WEIGHTS`.
    explain_top : int or None
        Explain each solution's best ``explain_top`` sites (ties included); None: all pairs.
    ctx : SiteContext, optional
        A context already measured for these sites.
    n_draws : int, optional
        Draws of the sensitivity analysis (default
        :data:`qmi_geo.matching.robustness.N_DRAWS`; 0 skips it).

    Returns
    -------
    Suitability
    """
    from qmi_geo.matching._explain import explain_pairs

    w = check_weights(weights)
    if ctx is None:
        ctx = site_context(
            sites, context=context, annotations=annotations, hotspots=hotspots, defis=defis
        )
    n_sol, n_site = len(solutions), len(sites)
    kinds = list(SITE_KINDS)
    kind_idx = (
        sites["type"]
        .map({k: i for i, k in enumerate(kinds)})
        .fillna(kinds.index("autre"))
        .to_numpy(dtype=int)
    )
    area = sites["surface_m2"].to_numpy(dtype=float)
    owner = sites["proprietaire"] if "proprietaire" in sites.columns else pd.Series(None)
    private = owner.astype(str).str.lower().str.contains("priv", na=False).to_numpy()
    private = private & owner.notna().to_numpy() if len(owner) == n_site else np.zeros(n_site, bool)
    inside = (
        sites["dans_quartier"].fillna(True).to_numpy(dtype=bool)
        if "dans_quartier" in sites.columns
        else np.ones(n_site, dtype=bool)
    )

    req = [s.exigences for s in solutions]
    accepts = np.zeros((n_sol, len(kinds)), dtype=bool)
    for i, r in enumerate(req):
        accepts[i, [kinds.index(k) for k in r.types_sites]] = True
    smin = np.array([r.surface_min_m2 if r.surface_min_m2 is not None else np.nan for r in req])
    smax = np.array([r.surface_max_m2 if r.surface_max_m2 is not None else np.nan for r in req])
    public = np.array([r.espace_public for r in req], dtype=bool)
    need_break = np.array([r.coupures == "requis" for r in req], dtype=bool)

    known = ~np.isnan(area)
    # constraints per solution on the sites of its accepted kinds only (no dense pair matrix);
    # the first failing constraint wins: outside > kind > too small > too big > private > break
    far = ctx.coupure_distance > BREAK_REQUIRED_M
    ok_sol, ok_site, ex_sol, ex_site, ex_code = [], [], [], [], []
    cand_cache: dict[frozenset[str], np.ndarray] = {}  # many solutions accept the same kinds
    for i, r in enumerate(req):
        if r.sans_site:  # services are matched to communes, not to sites
            continue
        kinds_key = frozenset(r.types_sites)
        if kinds_key not in cand_cache:
            cand_cache[kinds_key] = np.flatnonzero(accepts[i][kind_idx] & inside)
        cand = cand_cache[kinds_key]
        code = np.zeros(len(cand), dtype=np.int8)
        if need_break[i]:
            code[far[cand]] = FAR_BREAK
        if public[i]:
            code[private[cand]] = PRIVATE
        a_c = area[cand]
        if np.isfinite(smax[i]):
            code[known[cand] & (a_c > smax[i])] = TOO_BIG
        if np.isfinite(smin[i]):
            code[known[cand] & (a_c < smin[i])] = TOO_SMALL
        good = code == 0
        ok_sol.append(np.full(int(good.sum()), i))
        ok_site.append(cand[good])
        ex_sol.append(np.full(int((~good).sum()), i))
        ex_site.append(cand[~good])
        ex_code.append(code[~good])
    empty = np.zeros(0, dtype=np.int64)
    explicit = (
        np.concatenate(ex_sol or [empty]).astype(np.int64),
        np.concatenate(ex_site or [empty]).astype(np.int64),
        np.concatenate(ex_code or [empty]).astype(np.int8),
    )

    applies = {
        "besoin": np.ones(n_sol, dtype=bool),
        "defis": np.full(n_sol, ctx.available["defis"]),
        "mineralisation": np.array([r.surface_requise == "minerale" for r in req], dtype=bool)
        & ctx.available["mineralisation"],
        "qpv": np.array([r.qpv == "favorable" for r in req], dtype=bool) & ctx.available["qpv"],
        "coupures": np.array([r.coupures != "indifferent" for r in req], dtype=bool)
        & ctx.available["coupures"],
        "transports": np.array([r.gares == "favorable" for r in req], dtype=bool)
        & ctx.available["transports"],
        "densite": np.array([r.densite == "favorable" for r in req], dtype=bool)
        & ctx.available["densite"],
        "surface": np.ones(n_sol, dtype=bool),
    }
    rel = relevant_evidence(solutions, ctx, applies)
    theme_w = theme_weights(solutions)
    theme_mask = theme_w > 0
    defi_themes = np.asarray(
        ctx.defi.max(axis=0) > 0 if n_site else np.zeros(len(THEME_CODES), dtype=bool)
    )
    has_defi = (theme_mask & defi_themes[None, :]).any(axis=1)
    measured = (rel > 0).any(axis=1) | has_defi
    applies["besoin"] = np.asarray((rel > 0).any(axis=1), dtype=bool)
    applies["defis"] = np.asarray(applies["defis"] & has_defi, dtype=bool)

    sol_i = np.concatenate(ok_sol or [empty]).astype(np.int64)
    site_i = np.concatenate(ok_site or [empty]).astype(np.int64)

    # weighted noisy-OR of the evidence (and of the challenges' themes): 1 - prod(1 - w·score),
    # w the weight of the theme it measures; one row per distinct set of weights (solutions
    # sharing it share the row), factors multiplied in evidence order as a plain loop would;
    # then one gather of the feasible pairs
    def noisy_or(weights_: np.ndarray, scores_t: np.ndarray) -> np.ndarray:
        rows_u, inv = np.unique(weights_, axis=0, return_inverse=True)
        clipped = np.clip(scores_t, 0.0, 0.999)  # (n_ev, n_site), rows contiguous
        free = np.ones((len(rows_u), n_site))
        for u, row in enumerate(rows_u):
            for e in np.flatnonzero(row):
                free[u] *= 1.0 - row[e] * clipped[e]
        return 1.0 - np.take(free, inv.reshape(-1)[sol_i] * n_site + site_i)

    ev_scores = ctx.scores
    if ev_scores.shape[1]:
        besoin = noisy_or(rel, np.ascontiguousarray(ev_scores.T))
    else:
        besoin = np.zeros(len(sol_i))
    if applies["defis"].any():
        defis_v = noisy_or(theme_w, np.ascontiguousarray(ctx.defi.T))
    else:  # no workshop challenge on these solutions' themes: the criterion never counts
        defis_v = np.zeros(len(sol_i))
    ratio = area[site_i] / smin[sol_i]
    fit = np.where(np.isnan(smin[sol_i]), 1.0, np.clip(0.6 + 0.4 * (ratio - 1.0), 0.6, 1.0))
    fit = np.where(known[site_i], fit, 0.5)
    per_site = {
        "mineralisation": np.nan_to_num(ctx.taux_impermeable),
        "qpv": ctx.social,
        "coupures": _decay(ctx.coupure_distance, BREAK_RADIUS_M),
        "transports": np.clip(
            (STATION_FAR_M - ctx.gare_distance) / (STATION_FAR_M - STATION_NEAR_M), 0, 1
        ),
        "densite": np.clip(np.nan_to_num(ctx.densite) / DENSE_PER_KM2, 0, 1),
    }
    # pairs are grouped by solution (ascending): per-solution weights spread with np.repeat;
    # each criterion adds its weighted value in CRITERIA order (the loop's order, same floats)
    counts = np.bincount(sol_i, minlength=n_sol)
    num = np.zeros(len(sol_i))
    den = np.zeros(len(sol_i))
    pair_values = {"besoin": besoin, "defis": defis_v, "surface": fit}
    has_nan: dict[str, bool] = {}
    for key in CRITERIA:
        applied = applies[key]
        site_vals = per_site.get(key)
        has_nan[key] = bool(
            np.isnan(site_vals if site_vals is not None else pair_values[key]).any()
        )
        if not applied.any() or w[key] <= 0:
            continue
        vals = site_vals[site_i] if site_vals is not None else pair_values[key]
        weight = np.repeat(np.where(applied, w[key], 0.0), counts)
        if has_nan[key]:
            missing = np.isnan(vals)
            weight[missing] = 0.0
            vals = np.where(missing, 0.0, vals)
        num += weight * vals
        den += weight
    total = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    total = np.where(measured[sol_i], np.round(total, 4), np.nan)

    names = sites["nom"].astype(str).to_numpy(dtype=object)
    site_ids = sites["site_id"].to_numpy(dtype=object)
    # documented order within a tie: site name then id (ranks of the sites, not strings per pair)
    site_order = np.empty(n_site, dtype=np.int64)
    site_order[np.lexsort((np.asarray(site_ids, dtype=str), np.asarray(names, dtype=str)))] = (
        np.arange(n_site)
    )
    # one integer key: solution, then total descending (4 decimals, NaN last), then site order
    tot4 = np.where(np.isnan(total), -1, np.rint(np.nan_to_num(total) * 10_000)).astype(np.int64)
    sort_key = (sol_i * 10_003 + (10_001 - tot4)) * max(n_site, 1) + site_order[site_i]
    order = np.argsort(sort_key)  # the keys are unique: no stable sort needed
    sol_i, site_i, total = sol_i[order], site_i[order], total[order]
    # the criteria of the sorted pairs, one contiguous column each: NaN where a criterion
    # does not count (not applicable to the solution, zero weight, not measured at the site)
    stacked = np.empty((len(sol_i), len(CRITERIA)), order="F")  # (n_pairs, n_criteria)
    for c, key in enumerate(CRITERIA):
        column = stacked[:, c]
        applied = applies[key]
        if not applied.any() or w[key] <= 0:
            column.fill(np.nan)
            continue
        site_vals = per_site.get(key)
        if site_vals is not None:
            np.take(site_vals, site_i, out=column)
        else:
            np.take(pair_values[key], order, out=column)
        if not applied.all():
            column[~np.repeat(applied, counts)] = np.nan  # still grouped by solution
    values = {k: stacked[:, c] for c, k in enumerate(CRITERIA)}
    rank = competition_rank(sol_i, total)
    # a tie: the same (solution, rank) as the previous or the next pair (pairs are sorted)
    same = (sol_i[1:] == sol_i[:-1]) & (rank[1:] == rank[:-1])
    ex_aequo = np.r_[same, False] | np.r_[False, same]

    if explain_top is None:
        chosen = np.arange(len(sol_i))
    else:
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        pos = np.arange(len(sol_i)) - starts
        chosen = np.flatnonzero(
            (np.nan_to_num(rank, nan=np.inf) <= explain_top)
            | (np.isnan(rank) & (pos < explain_top))
        )
    # the written pairs only: every pair's values stay in ``matrix`` for the sensitivity
    cs, cj = sol_i[chosen], site_i[chosen]
    scores = pd.DataFrame(
        {
            "solution_id": np.array([s.id for s in solutions], dtype=object)[cs],
            "solution": np.array([s.nom for s in solutions], dtype=object)[cs],
            "site_id": site_ids[cj],
            "type_site": sites["type"].to_numpy(dtype=object)[cj],
            "nom_site": names[cj],
            "surface_m2": area[cj],
            **{k: np.round(values[k][chosen], 3) for k in CRITERIA},
            "total": total[chosen],
            "rang": pd.array(
                [None if r != r else int(r) for r in rank[chosen].tolist()], dtype="Int64"
            ),
            "ex_aequo": ex_aequo[chosen],
            "statut": np.where(measured[cs], RANKED, UNMEASURED).astype(object),
        }
    )
    texts = explain_pairs(solutions, sites, ctx, cs, cj, rel, theme_w, values, chosen, smin)
    for col in ("theme_principal", "explication", "sources", "a_verifier"):
        scores[col] = pd.Series(texts[col], index=scores.index, dtype=object)
    scores = scores[SCORE_COLUMNS]

    exclusions = Exclusions(
        solutions, sites, explicit, kinds, kind_idx, inside, area, smin, smax, ctx
    )
    summary = _summary(solutions, names, site_i, sol_i, rank, total, measured, rel, ctx)
    matrix = {
        "sol": sol_i,
        "site": site_i,
        "values": stacked,
        "rank": rank,
        "total": total,
    }
    from qmi_geo.matching.robustness import N_DRAWS, sensitivity

    draws = N_DRAWS if n_draws is None else n_draws
    if draws > 0:
        robust = sensitivity(
            matrix["values"], sol_i, rank, total, w, list(CRITERIA), n_sol, n_draws=draws
        )
        summary = pd.concat([summary, robust], axis=1)
        summary.loc[summary["statut"] == UNMEASURED, "classement"] = UNMEASURED
        summary.loc[summary["statut"] == SERVICE_STATUS, "classement"] = ""
        summary["robustesse"] = [
            _robust_text(c, sh, t)
            for c, sh, t in zip(
                summary["classement"], summary["stabilite_n1"], summary["tau_kendall"], strict=True
            )
        ]
        scores["robustesse"] = scores["solution_id"].map(
            summary.set_index("solution_id")["robustesse"]
        )
    return Suitability(scores, exclusions, ctx, w, summary, matrix)


def _robust_text(label: str, share: float, tau: float) -> str:
    """« classement robuste (n°1 inchangé dans 98 % des tirages, τ de Kendall 0,95) »."""
    if label not in ("classement robuste", "classement fragile"):
        return str(label)
    tau_txt = f", τ de Kendall {tau:.2f}".replace(".", ",") if tau == tau else ""
    return f"{label} (n°1 inchangé dans {share * 100:.0f} % des tirages ±25 %{tau_txt})"


def _summary(
    solutions: Sequence[Solution],
    names: np.ndarray,
    site_i: np.ndarray,
    sol_i: np.ndarray,
    rank: np.ndarray,
    total: np.ndarray,
    measured: np.ndarray,
    rel: np.ndarray,
    ctx: SiteContext,
) -> pd.DataFrame:
    from qmi_geo.matching._context import theme_short

    measured_themes = ctx.measured_themes()
    codes = [e.code for e in ctx.evidence]
    rows = []
    starts = np.searchsorted(sol_i, np.arange(len(solutions)), side="left")
    ends = np.searchsorted(sol_i, np.arange(len(solutions)), side="right")
    for i, s in enumerate(solutions):
        a, b = starts[i], ends[i]
        tot, rk = total[a:b], rank[a:b]
        best = tot[0] if b > a and not np.isnan(tot[0]) else np.nan
        lower = tot[(rk > 1)] if b > a else np.array([])
        second = lower[0] if len(lower) else np.nan
        n_top = int(np.sum(rk == 1)) if b > a else 0
        themes = list(s.themes)
        rows.append(
            {
                "solution_id": s.id,
                "solution": s.nom,
                "statut": SERVICE_STATUS
                if s.exigences.sans_site
                else RANKED
                if measured[i]
                else UNMEASURED,
                "nb_sites_compatibles": int(b - a),
                "meilleur_site": names[site_i[a]] if b > a else None,
                "score_1": best,
                "score_2": second if n_top < 2 else best,
                "ecart": 0.0 if n_top >= 2 else (best - second if np.isfinite(second) else np.nan),
                "ex_aequo_en_tete": n_top,
                "besoins_mesures": ", ".join(
                    theme_short(t) for t in themes if t in measured_themes
                ),
                "besoins_non_mesures": ", ".join(
                    theme_short(t) for t in themes if t not in measured_themes
                ),
                "preuves": ", ".join(codes[e] for e in np.flatnonzero(rel[i])),
            }
        )
    return pd.DataFrame(rows)
