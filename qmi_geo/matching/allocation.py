"""Allocation of solutions to communes and sites under capacity constraints.

:func:`allocate` solves one mixed-integer linear programme (:func:`scipy.optimize.milp`):

* a binary variable per candidate (solution, commune, site) — the solution's sites scored at or
  above ``min_score`` by :func:`qmi_geo.matching.score_sites`;
* maximise the sum of the suitability totals of the chosen pairs;
* each solution goes to at most one commune and one site;
* each commune receives between ``min_per_commune`` and ``max_per_commune`` solutions (6 to 8 in
  the programme); when there are not enough good candidates, a penalised slack variable lets
  the programme stay feasible and the report names the shortfall;
* with ``one_per_site``, a site hosts at most one solution, except solutions whose catalogue
  entry allows sharing (``site_partageable``).

Only each solution's ``max_per_commune`` best sites per commune enter the programme: at most
``max_per_commune`` solutions go to a commune, so at least one of those sites is always free and
no better answer is lost (exchange argument), while the programme stays small.

Examples
--------
>>> import pandas as pd
>>> def frame(rows):
...     return pd.DataFrame(rows, columns=["solution_id", "site_id", "total"])
>>> scores = {
...     "A": frame([("s1", "a1", 0.9), ("s2", "a1", 0.8)]),
...     "B": frame([("s1", "b1", 0.5), ("s2", "b1", 0.6)]),
... }
>>> result = allocate(scores, min_per_commune=1, max_per_commune=1)
>>> sorted(zip(result.assignments.commune, result.assignments.solution_id))
[('A', 's1'), ('B', 's2')]
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qmi_geo.errors import QmiGeoError

__all__ = ["Allocation", "AllocationError", "allocate"]


class AllocationError(QmiGeoError, ValueError):
    """The allocation inputs are inconsistent (bad capacities, missing columns)."""


_SHORTFALL_PENALTY = 10.0  # per missing solution; larger than any total (≤ 1)


@dataclass
class Allocation:
    """Result of :func:`allocate`.

    Attributes
    ----------
    assignments : DataFrame
        One row per allocated solution: ``commune``, ``solution_id``, ``site_id``, ``total``
        and, when the scores had them, ``solution``, ``nom_site``, ``type_site``,
        ``explication``, ``rang`` (rank of the site for the solution in that commune).
    unassigned : DataFrame
        Solutions left out: ``solution_id``, ``motif`` (French reason).
    by_commune : DataFrame
        Per commune: ``commune``, ``nb_solutions``, ``solutions``, ``score_moyen``, ``manque``
        (solutions missing to reach the minimum).
    objective : float
        Sum of the totals of the allocated pairs.
    status : str
        Solver message.
    """

    assignments: pd.DataFrame
    unassigned: pd.DataFrame
    by_commune: pd.DataFrame
    objective: float
    status: str
    params: dict[str, object] = field(default_factory=dict)

    def report(self) -> str:
        """French text: what each commune gets and why, and which solutions found no site."""
        lines = ["Répartition des solutions entre les communes", "=" * 46, ""]
        p = self.params
        lines.append(
            f"Capacités : {p.get('min_per_commune')} à {p.get('max_per_commune')} solutions par "
            f"commune ; {'un site par solution' if p.get('one_per_site') else 'sites partagés'} ; "
            f"score minimal retenu : {p.get('min_score')}."
        )
        lines.append(f"Somme des scores retenus : {_fr2(self.objective)}.")
        lines.append("")
        for row in self.by_commune.itertuples():
            lines.append(
                f"{row.commune} — {row.nb_solutions} solution(s), "
                f"score moyen {_fr2(row.score_moyen)}"
                if row.nb_solutions
                else f"{row.commune} — aucune solution"
            )
            if row.manque:
                lines.append(
                    f"  Attention : {row.manque} solution(s) de moins que le minimum, "
                    "faute de candidates avec un site adapté."
                )
            sub = self.assignments[self.assignments["commune"] == row.commune]
            for a in sub.itertuples():
                name = getattr(a, "solution", a.solution_id)
                site = getattr(a, "nom_site", a.site_id)
                why = getattr(a, "explication", "")
                lines.append(
                    f"  • {name} → {site} (score {_fr2(a.total)})"
                    + (f" : {why}" if isinstance(why, str) and why else "")
                )
            lines.append("")
        if len(self.unassigned):
            lines.append("Solutions non attribuées")
            lines.append("-" * 24)
            for u in self.unassigned.itertuples():
                lines.append(f"  • {getattr(u, 'solution', u.solution_id)} : {u.motif}")
        return "\n".join(lines) + "\n"


def _fr2(value: float) -> str:
    """A score with two decimals, French style: ``0,78``."""
    return f"{float(value):.2f}".replace(".", ",")


def allocate(
    scores_by_commune: Mapping[str, pd.DataFrame],
    *,
    min_per_commune: int = 6,
    max_per_commune: int = 8,
    one_per_site: bool = True,
    min_score: float = 0.3,
    shareable: Collection[str] = (),
    solution_ids: Collection[str] | Mapping[str, str] | None = None,
    services: Collection[str] = (),
) -> Allocation:
    """Allocate solutions to communes and sites, maximising the total suitability.

    Parameters
    ----------
    scores_by_commune : mapping of str to DataFrame
        Commune name (or INSEE code) -> the feasible pairs of :func:`score_sites` (at least
        ``solution_id``, ``site_id``, ``total``).
    min_per_commune, max_per_commune : int
        Capacities of every commune (6 and 8 in the programme).
    one_per_site : bool
        A site hosts at most one solution (except the ``shareable`` ones).
    min_score : float
        Pairs below this total are not good enough to be proposed.
    shareable : collection of str
        Ids of solutions that may share a site (catalogue ``site_partageable``).
    solution_ids : collection of str, or mapping of id to name, optional
        Every solution to allocate, so that those with no feasible site anywhere are reported
        too (by name when a mapping is given); default: the solutions present in the scores.
    services : collection of str
        Ids of services without a site (catalogue ``sans_site``): reported as ranked per
        commune, not allocated to a site.

    Returns
    -------
    Allocation
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    if min_per_commune < 0 or max_per_commune < max(min_per_commune, 1):
        raise AllocationError(
            f"Capacités incohérentes : minimum {min_per_commune}, maximum {max_per_commune} "
            "(il faut 0 ≤ minimum ≤ maximum et maximum ≥ 1)."
        )
    frames = []
    for commune, frame in scores_by_commune.items():
        missing = {"solution_id", "site_id", "total"} - set(frame.columns)
        if missing:
            raise AllocationError(
                f"Scores de {commune} : colonne(s) {', '.join(sorted(missing))} manquante(s)."
            )
        f = frame.copy()
        f["commune"] = commune
        frames.append(f)
    allp = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["commune", "solution_id", "site_id", "total"])
    )
    all_ids = list(dict.fromkeys([*(solution_ids or []), *allp["solution_id"]]))
    best = allp.groupby("solution_id")["total"].max() if len(allp) else pd.Series(dtype=float)
    cand = allp[allp["total"] >= min_score]
    cand = (
        cand.sort_values(
            ["solution_id", "commune", "total", "site_id"],
            ascending=[True, True, False, True],
            kind="stable",
        )
        .groupby(["solution_id", "commune"], sort=False)
        .head(max_per_commune)
        .reset_index(drop=True)
    )
    communes = list(scores_by_commune)
    n, m = len(cand), len(communes)
    # variables: n pair choices, then m shortfall slacks
    c = np.concatenate([-cand["total"].to_numpy(dtype=float), np.full(m, _SHORTFALL_PENALTY)])
    rows, cols, lo, hi = [], [], [], []
    r = 0

    def add(group_codes: np.ndarray, members: np.ndarray, lower: float, upper: float) -> None:
        nonlocal r
        codes, inverse = np.unique(group_codes, return_inverse=True)
        rows.extend((r + inverse).tolist())
        cols.extend(members.tolist())
        lo.extend([lower] * len(codes))
        hi.extend([upper] * len(codes))
        r += len(codes)

    idx = np.arange(n)
    if n:
        add(cand["solution_id"].to_numpy(), idx, 0, 1)
        if one_per_site:
            excl = ~cand["solution_id"].isin(list(shareable)).to_numpy()
            keys = (cand["commune"].astype(str) + "\x1f" + cand["site_id"].astype(str)).to_numpy()
            if excl.any():
                add(keys[excl], idx[excl], 0, 1)
    commune_pos = {cm: i for i, cm in enumerate(communes)}
    cpos = cand["commune"].map(commune_pos).to_numpy(dtype=int) if n else np.array([], dtype=int)
    for i in range(m):  # min ≤ Σx + slack, Σx ≤ max
        members = idx[cpos == i]
        rows.extend([r] * (len(members) + 1))
        cols.extend([*members.tolist(), n + i])
        lo.append(min_per_commune)
        hi.append(np.inf)
        r += 1
        rows.extend([r] * len(members))
        cols.extend(members.tolist())
        lo.append(-np.inf)
        hi.append(max_per_commune)
        r += 1
    A = coo_array((np.ones(len(rows)), (rows, cols)), shape=(r, n + m)).tocsr()
    res = milp(
        c,
        constraints=LinearConstraint(A, lo, hi),
        integrality=np.concatenate([np.ones(n), np.zeros(m)]),
        bounds=Bounds(np.zeros(n + m), np.concatenate([np.ones(n), np.full(m, min_per_commune)])),
    )
    if res.x is None:  # pragma: no cover - the slack keeps the programme feasible
        raise AllocationError(f"Le solveur n'a pas trouvé de répartition : {res.message}")
    chosen = res.x[:n] > 0.5
    shortfall = np.rint(res.x[n:]).astype(int)
    assignments = cand[chosen].copy()
    if "rang" not in assignments.columns:  # the scores' own rank, ties included, when given
        assignments["rang"] = _rank_in_commune(allp, assignments)
    front = [
        c
        for c in (
            "commune",
            "solution_id",
            "solution",
            "site_id",
            "nom_site",
            "type_site",
            "total",
            "rang",
            "explication",
        )
        if c in assignments.columns
    ]
    assignments = assignments[front].sort_values(["commune", "total"], ascending=[True, False])
    assignments = assignments.reset_index(drop=True)

    names = (
        allp.drop_duplicates("solution_id").set_index("solution_id")["solution"]
        if "solution" in allp.columns
        else pd.Series(dtype=object)
    )
    unassigned = []
    taken = set(assignments["solution_id"])
    cand_ids = set(cand["solution_id"])
    for sid in all_ids:
        if sid in taken:
            continue
        if sid in services:
            motif = (
                "service sans site : classé par commune (classement_communes.csv), aucun site "
                "à attribuer"
            )
        elif sid not in best.index:
            motif = "aucun site compatible dans les communes (contraintes de type ou de surface)"
        elif not np.isfinite(best[sid]):
            motif = (
                "besoin non mesuré : aucune couche, marche ni défi de l'atelier ne mesure les "
                "thèmes de la solution dans ces communes"
            )
        elif sid not in cand_ids:
            motif = (
                f"aucun site assez adapté : meilleur score {_fr2(best[sid])} "
                f"(minimum {_fr2(min_score)})"
            )
        else:
            top = cand[cand["solution_id"] == sid].iloc[0]
            motif = (
                f"capacités atteintes : les communes ont reçu des solutions mieux adaptées "
                f"(meilleur site : {top.get('nom_site', top['site_id'])} à {top['commune']},"
                f" score {_fr2(top['total'])})"
            )
        label = names.get(sid) or (
            solution_ids.get(sid, sid) if isinstance(solution_ids, Mapping) else sid
        )
        unassigned.append({"solution_id": sid, "solution": label, "motif": motif})
    by_commune = pd.DataFrame(
        [
            {
                "commune": cm,
                "nb_solutions": int((assignments["commune"] == cm).sum()),
                "solutions": ", ".join(
                    assignments.loc[
                        assignments["commune"] == cm,
                        "solution" if "solution" in assignments.columns else "solution_id",
                    ]
                ),
                "score_moyen": float(assignments.loc[assignments["commune"] == cm, "total"].mean())
                if (assignments["commune"] == cm).any()
                else 0.0,
                "manque": int(shortfall[i]),
            }
            for i, cm in enumerate(communes)
        ]
    )
    return Allocation(
        assignments=assignments,
        unassigned=pd.DataFrame(unassigned, columns=["solution_id", "solution", "motif"]),
        by_commune=by_commune,
        objective=float(assignments["total"].sum()),
        status=str(res.message),
        params={
            "min_per_commune": min_per_commune,
            "max_per_commune": max_per_commune,
            "one_per_site": one_per_site,
            "min_score": min_score,
        },
    )


def _rank_in_commune(allp: pd.DataFrame, chosen: pd.DataFrame) -> np.ndarray:
    """Rank of each chosen site among the solution's sites in that commune (1 = best)."""
    ranks = []
    for row in chosen.itertuples():  # one row per allocated solution (≤ 8 per commune)
        sub = allp[(allp["solution_id"] == row.solution_id) & (allp["commune"] == row.commune)]
        ranks.append(int((sub["total"].round(4) > round(float(row.total), 4)).sum()) + 1)
    return np.array(ranks, dtype=int)
