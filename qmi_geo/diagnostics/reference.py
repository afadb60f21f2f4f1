"""Metropolitan reference values: each figure beside its commune and the Métropole.

As the ANCT atlases of QPV do, every indicator of a quarter is shown with the value of its
commune, the median of the 130 communes of the Métropole and the quarter's rank among them
(1 = the highest value). The reference values come from ``layers/reference_metropole.csv``,
built by ``scripts/build_reference_metropole.py`` from one ``qmi metropole`` run (a test
checks it against a fresh computation).

Examples
--------
>>> import pandas as pd
>>> ref = pd.DataFrame(
...     {
...         "insee": ["A", "B", "C"],
...         "code": ["part_qpv"] * 3,
...         "valeur": [10.0, 30.0, 20.0],
...         "mediane": [20.0] * 3,
...         "rang": [3.0, 1.0, 2.0],
...         "n": [3] * 3,
...     }
... )
>>> table = pd.DataFrame({"code": ["part_qpv"], "valeur": [25.0], "statut": ["ok"]})
>>> with_reference(table, ref, "A")[REFERENCE_COLUMNS]
   valeur_commune  mediane_metropole  rang_metropole  n_metropole
0            10.0               20.0             2.0          3.0

A median of people or of counted things is a whole number, like the values it sits beside:

>>> ref["valeur"], ref["mediane"] = [1000.0, 2001.0, 3000.0], 1500.5
>>> people = pd.DataFrame(
...     {"code": ["part_qpv"], "valeur": [2500.0], "unite": ["habitants"], "statut": ["ok"]}
... )
>>> with_reference(people, ref, "B")["mediane_metropole"].item()
1501.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["REFERENCE_COLUMNS", "with_reference"]

REFERENCE_COLUMNS = ["valeur_commune", "mediane_metropole", "rang_metropole", "n_metropole"]

#: Units counting whole things: the median of an even number of communes can fall between
#: two of them (31 145,5 inhabitants); it is shown rounded to a whole, as the values are.
COUNT_UNITS = frozenset({"habitants", "nombre", "votes"})


def with_reference(table: pd.DataFrame, reference: pd.DataFrame, insee: str) -> pd.DataFrame:
    """Add the commune's value, the Métropole's median and the quarter's rank to each row.

    ``rang_metropole`` is the rank of the quarter's value among the ``n_metropole`` communes
    that have one (``k - 1`` communes have a higher value); NaN when the quarter's value is
    « non disponible » or the indicator has no metropolitan reference.
    """
    out = table.copy()
    ref = reference.copy()
    ref["valeur"] = pd.to_numeric(ref["valeur"], errors="coerce")
    mine = ref[ref["insee"].astype(str) == str(insee)].set_index("code")["valeur"]
    values = {code: grp["valeur"].dropna().to_numpy() for code, grp in ref.groupby("code")}
    medians = ref.groupby("code")["mediane"].first()
    out["valeur_commune"] = out["code"].map(mine)
    out["mediane_metropole"] = out["code"].map(medians)
    if "unite" in out.columns:
        counts_of = out["unite"].isin(COUNT_UNITS).to_numpy()
        median = out["mediane_metropole"].to_numpy(dtype=float)
        out["mediane_metropole"] = np.where(counts_of, np.floor(median + 0.5), median)
    ranks, counts = [], []
    for code, value, statut in zip(out["code"], out["valeur"], out["statut"], strict=True):
        pool = values.get(code)
        if pool is None or not len(pool) or statut == "non disponible" or pd.isna(value):
            ranks.append(np.nan)
            counts.append(np.nan)
            continue
        ranks.append(float(np.sum(pool > float(value) + 1e-9) + 1))
        counts.append(float(len(pool)))
    out["rang_metropole"] = ranks
    out["n_metropole"] = counts
    return out
