"""How sure a ranking is: sensitivity of the site rankings to the criteria weights.

:func:`sensitivity` perturbs every weight independently by a uniform factor in
``[1 − spread, 1 + spread]`` (±25 % by default), ``n_draws`` times (500 by default, seeded so
that a rerun gives the same figures), recomputes every feasible pair's total and, per
solution, reports:

``stabilite_n1``
    share of the draws where the baseline n°1 (or one of the sites tied at n°1) is still first;
``tau_kendall``
    mean Kendall's τ between the baseline order and the perturbed order of the solution's
    :data:`TOP_K` best sites (pairs tied in the baseline are left out, τ-a on the others);
``classement``
    « classement robuste » when ``stabilite_n1`` ≥ :data:`ROBUST_SHARE` and ``tau_kendall``
    ≥ :data:`ROBUST_TAU`, otherwise « classement fragile »; « un seul site compatible » and
    « besoin non mesuré » are said as such.

All draws are computed as matrix products over every pair at once, by chunks of draws to
bound memory; nothing loops over solutions or sites.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "N_DRAWS",
    "ROBUST_SHARE",
    "ROBUST_TAU",
    "SPREAD",
    "TOP_K",
    "draw_weights",
    "robustness_label",
    "sensitivity",
]

N_DRAWS = 500
SPREAD = 0.25
TOP_K = 10
ROBUST_SHARE = 0.8
ROBUST_TAU = 0.6
ROBUST, FRAGILE = "classement robuste", "classement fragile"
SINGLE = "un seul site compatible"


def draw_weights(
    weights: Mapping[str, float],
    criteria: Sequence[str],
    *,
    n_draws: int = N_DRAWS,
    spread: float = SPREAD,
    seed: int = 14,
) -> np.ndarray:
    """(n_criteria, n_draws) perturbed weights, each × U(1 − spread, 1 + spread)."""
    rng = np.random.default_rng(seed)
    base = np.array([weights[c] for c in criteria], dtype=float)
    return base[:, None] * rng.uniform(1 - spread, 1 + spread, size=(len(criteria), n_draws))


def robustness_label(share: float, tau: float, n_sites: int, single: str = SINGLE) -> str:
    """French label of a ranking's stability (``single`` when only one item is ranked)."""
    if n_sites == 1:
        return single
    if not np.isfinite(share):
        return ""
    return (
        ROBUST if share >= ROBUST_SHARE and (not np.isfinite(tau) or tau >= ROBUST_TAU) else FRAGILE
    )


def _bound(values: np.ndarray, weights: np.ndarray, t: np.ndarray, spread: float) -> np.ndarray:
    """Max over perturbed weights of Σ a·u·(v − t): < 0 means no draw lifts the total to t."""
    on = ~np.isnan(values)
    a = np.where(on, weights[None, :], 0.0)
    d = np.where(on, values, 0.0) - t[:, None]
    return (a * np.where(d > 0, 1 + spread, 1 - spread) * d).sum(axis=1)


def _can_matter(
    values: np.ndarray,
    sol: np.ndarray,
    rank: np.ndarray,
    weights: Mapping[str, float],
    criteria: Sequence[str],
    spread: float,
    top_k: int,
) -> np.ndarray:
    """Pairs that can reach their solution's n°1 in some draw, plus each solution's top k.

    A pair is left out only when no weights within the spread can lift its total to the
    lowest total the n°1 can fall to (a linear-fractional bound, exact: the draws cannot
    change whether such a pair is first), so the figures are the same as over every pair.
    """
    n = len(sol)
    if n == 0:
        return np.zeros(0, dtype=bool)
    w = np.array([weights[c] for c in criteria], dtype=float)
    top = np.flatnonzero(rank == 1)
    # lowest perturbed total of each n°1: largest t with min_u Σ a·u·(v − t) ≥ 0 (bisection)
    tv = values[top]
    on = ~np.isnan(tv)
    a = np.where(on, w[None, :], 0.0)
    v = np.where(on, tv, 0.0)
    lo, hi = np.zeros(len(top)), np.ones(len(top))
    for _ in range(40):
        mid = (lo + hi) / 2
        d = v - mid[:, None]
        worst = (a * np.where(d > 0, 1 - spread, 1 + spread) * d).sum(axis=1)
        lo, hi = np.where(worst >= 0, mid, lo), np.where(worst >= 0, hi, mid)
    floor = np.full(int(sol.max()) + 1, np.inf)
    np.minimum.at(floor, sol[top], lo - 1e-9)
    starts = np.searchsorted(sol, sol, side="left")
    in_top_k = (np.arange(n) - starts) < top_k
    return in_top_k | (rank == 1) | (_bound(values, w, floor[sol], spread) >= 0)


def sensitivity(
    values: np.ndarray,
    sol: np.ndarray,
    rank: np.ndarray,
    total: np.ndarray,
    weights: Mapping[str, float],
    criteria: Sequence[str],
    n_solutions: int,
    *,
    n_draws: int = N_DRAWS,
    spread: float = SPREAD,
    seed: int = 14,
    chunk: int = 25,
    top_k: int = TOP_K,
    single: str = SINGLE,
) -> pd.DataFrame:
    """Stability of each solution's site ranking under perturbed weights.

    Parameters
    ----------
    values : ndarray (n_pairs, n_criteria)
        Criteria values of the feasible pairs, NaN where a criterion does not count.
    sol : ndarray (n_pairs,)
        Solution index of each pair, sorted; within a solution pairs are in rank order.
    rank, total : ndarray (n_pairs,)
        Baseline ranks and totals (NaN for unranked solutions).
    weights, criteria
        Baseline weights and the criteria order of ``values``.
    n_solutions : int
        Number of solutions (rows of the result, in index order).

    Returns
    -------
    DataFrame
        ``stabilite_n1``, ``tau_kendall``, ``classement``, indexed by solution index.
    """
    ranked = ~np.isnan(total)
    values, sol, rank = values[ranked], sol[ranked], rank[ranked]
    keep = _can_matter(values, sol, rank, weights, criteria, spread, top_k)
    values, sol, rank = values[keep], sol[keep], rank[keep]
    base_totals = total[ranked][keep]
    n = len(sol)
    share = np.full(n_solutions, np.nan)
    tau = np.full(n_solutions, np.nan)
    counts = np.bincount(sol, minlength=n_solutions)
    if n:
        on = (~np.isnan(values)).astype(float)
        v0 = np.where(on > 0, values, 0.0)
        draws = draw_weights(weights, criteria, n_draws=n_draws, spread=spread, seed=seed)
        present = np.flatnonzero(counts)
        starts = np.searchsorted(sol, present)
        is_top = rank == 1
        top_sol = sol[is_top]
        top_starts = np.searchsorted(top_sol, present)
        # top-k pairs per solution (rank order), padded with -1
        pos = np.arange(n) - np.repeat(starts, counts[present])
        k_sel = pos < top_k
        idx = np.full((len(present), top_k), -1)
        idx[np.searchsorted(present, sol[k_sel]), pos[k_sel]] = np.flatnonzero(k_sel)
        base_total = np.where(idx >= 0, base_totals[np.maximum(idx, 0)], np.nan)
        ii, jj = np.triu_indices(top_k, 1)
        base_sign = np.sign(base_total[:, ii] - base_total[:, jj])  # NaN where padded
        usable = (base_sign != 0) & ~np.isnan(base_sign)
        stays = np.zeros(len(present))
        tau_sum = np.zeros(len(present))
        for a in range(0, n_draws, chunk):
            w = draws[:, a : a + chunk]
            t = (v0 @ w) / (on @ w)  # (n, d)
            best = np.maximum.reduceat(t, starts, axis=0)
            best_top = np.maximum.reduceat(t[is_top], top_starts, axis=0)
            stays += (best_top >= best - 1e-12).sum(axis=1)
            tk = np.where((idx >= 0)[:, :, None], t[np.maximum(idx, 0)], np.nan)
            sign = np.sign(tk[:, ii, :] - tk[:, jj, :])
            agree = np.where(usable[:, :, None], sign * base_sign[:, :, None], 0.0)
            npairs = usable.sum(axis=1)
            tau_sum += np.divide(
                agree.sum(axis=1),
                npairs[:, None],
                out=np.zeros_like(agree[:, 0, :]),
                where=npairs[:, None] > 0,
            ).sum(axis=1)
        share[present] = stays / n_draws
        npairs = usable.sum(axis=1)
        tau[present] = np.where(npairs > 0, tau_sum / n_draws, np.nan)
    labels = [
        robustness_label(share[i], tau[i], int(counts[i]), single) for i in range(n_solutions)
    ]
    return pd.DataFrame(
        {"stabilite_n1": np.round(share, 3), "tau_kendall": np.round(tau, 3), "classement": labels}
    )
