from __future__ import annotations

import itertools

import pandas as pd
import pytest

from qmi_geo.matching import AllocationError, allocate


def frame(rows):
    return pd.DataFrame(rows, columns=["solution_id", "site_id", "total"])


# 3 solutions, 2 communes, capacities 1..2, one solution per site.
# Hand solution: s1 and s2 both want X/x1; x1 can host one. Best: s1->X/x1 (0.9),
# s2->Y/y1 (0.7), s3->X/x2 (0.6) = 2.2 (s2->X/x1 + s1->Y/y1 gives 0.8+0.5+0.6 = 1.9).
CASE = {
    "X": frame([("s1", "x1", 0.9), ("s2", "x1", 0.8), ("s3", "x2", 0.6), ("s3", "x1", 0.65)]),
    "Y": frame([("s1", "y1", 0.5), ("s2", "y1", 0.7), ("s3", "y1", 0.4)]),
}


def test_optimal_on_hand_checkable_case():
    res = allocate(CASE, min_per_commune=1, max_per_commune=2)
    got = sorted(
        zip(
            res.assignments.commune,
            res.assignments.solution_id,
            res.assignments.site_id,
            strict=True,
        )
    )
    assert got == [("X", "s1", "x1"), ("X", "s3", "x2"), ("Y", "s2", "y1")]
    assert res.objective == pytest.approx(2.2)
    assert res.by_commune.set_index("commune")["nb_solutions"].to_dict() == {"X": 2, "Y": 1}


def brute_force(scores, lo, hi, one_per_site):
    rows = [
        (c, r.solution_id, r.site_id, r.total) for c, f in scores.items() for r in f.itertuples()
    ]
    best = 0.0
    for k in range(len(rows) + 1):
        for combo in itertools.combinations(rows, k):
            sols = [r[1] for r in combo]
            sites = [(r[0], r[2]) for r in combo]
            per = {c: sum(r[0] == c for r in combo) for c in scores}
            if len(set(sols)) < len(sols) or any(not lo <= n <= hi for n in per.values()):
                continue
            if one_per_site and len(set(sites)) < len(sites):
                continue
            best = max(best, sum(r[3] for r in combo))
    return best


@pytest.mark.parametrize(("lo", "hi", "one"), [(1, 2, True), (0, 1, True), (1, 3, False)])
def test_matches_brute_force_and_respects_capacities(lo, hi, one):
    res = allocate(CASE, min_per_commune=lo, max_per_commune=hi, one_per_site=one, min_score=0)
    assert res.objective == pytest.approx(brute_force(CASE, lo, hi, one))
    counts = res.assignments.groupby("commune").size()
    assert (counts <= hi).all()
    assert res.assignments["solution_id"].is_unique
    if one:
        assert not res.assignments.duplicated(["commune", "site_id"]).any()


def test_shareable_solutions_may_share_a_site():
    res = allocate(CASE, min_per_commune=0, max_per_commune=3, shareable={"s2"}, min_score=0)
    x = res.assignments[res.assignments.commune == "X"]
    assert set(x.solution_id) >= {"s1", "s2"} and (x.site_id == "x1").sum() == 2


def test_unassigned_solutions_have_reasons_and_shortfall_is_reported():
    scores = {"X": frame([("s1", "x1", 0.9), ("s2", "x2", 0.1)]), "Y": frame([])}
    res = allocate(scores, min_per_commune=1, max_per_commune=1, solution_ids=["s1", "s2", "s3"])
    reasons = res.unassigned.set_index("solution_id")["motif"]
    assert reasons["s2"].startswith("aucun site assez adapté : meilleur score 0,10")
    assert reasons["s3"].startswith("aucun site compatible")
    assert res.by_commune.set_index("commune").loc["Y", "manque"] == 1
    text = res.report()
    assert "Y — aucune solution" in text and "1 solution(s) de moins que le minimum" in text


def test_capacity_reason_and_bad_capacities():
    scores = {"X": frame([("s1", "x1", 0.9), ("s2", "x2", 0.8)])}
    res = allocate(scores, min_per_commune=0, max_per_commune=1)
    assert res.unassigned["motif"].item().startswith("capacités atteintes")
    with pytest.raises(AllocationError, match="Capacités incohérentes"):
        allocate(scores, min_per_commune=3, max_per_commune=2)


def test_solutions_with_no_site_anywhere_are_reported_by_name():
    scores = {"X": frame([("s1", "x1", 0.9)])}
    res = allocate(
        scores, min_per_commune=0, max_per_commune=2, solution_ids={"s1": "Un", "s9": "Modulatio'"}
    )
    row = res.unassigned.set_index("solution_id").loc["s9"]
    assert row["solution"] == "Modulatio'" and row["motif"].startswith("aucun site compatible")
