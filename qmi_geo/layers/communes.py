"""The communes as they are in 2026: INSEE populations, EPT, Métropole membership, merged parts.

Read from the catalogue's tables (``layers/regional_idf/communes_idf_2026.csv``, from the
Etalab package ``@etalab/decoupage-administratif`` 6.0.0) and, for heat and brownfields, the
tables per postal code and per commune. The commune boundaries bundled (ADMIN EXPRESS 2018)
predate the 2025 merger of Pierrefitte-sur-Seine (93059) into Saint-Denis (93066): a
commune's outline is the union of its current code and its former codes
(:func:`commune_parts`).

Examples
--------
>>> table = communes_2026()
>>> int(table.loc["93066", "population"]), table.loc["93066", "ept_nom"]
(149077, 'Plaine Commune')
>>> commune_parts("93066")
['93066', '93059']
>>> len(metropole_communes())
130
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from qmi_geo.layers.catalogue import load_tables

__all__ = [
    "HEAT_FIELDS",
    "POPULATION_METHOD",
    "commune_facts",
    "commune_parts",
    "communes_2026",
    "france_communes",
    "iris_codes_by_commune",
    "metropole_communes",
    "metropole_reference",
    "reconcile_iris_population",
]

#: Column of an IRIS layer saying, in French, how its ``population`` was obtained
POPULATION_METHOD = "population_methode"

#: (field, table, French label, unit) of the heat figures averaged per commune
HEAT_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("alean_note", "chaleur_icu_codes_postaux", "Aléa chaleur de nuit (ICU)", "note"),
    ("aleaj_note", "chaleur_icu_codes_postaux", "Aléa chaleur de jour (ICU)", "note"),
    ("vulnn_note", "chaleur_icu_codes_postaux", "Vulnérabilité à la chaleur de nuit (ICU)", "note"),
    ("ror", "lcz_cerema_codes_postaux", "Surface minérale imperméable (LCZ)", "%"),
    ("ver", "lcz_cerema_codes_postaux", "Végétation (LCZ)", "%"),
)


@lru_cache(maxsize=1)
def communes_2026() -> pd.DataFrame:
    """Every current commune of Île-de-France, indexed by INSEE code.

    Columns: ``nom``, ``departement``, ``population`` (INSEE population municipale, int),
    ``codes_postaux`` and ``anciens_codes`` (tuples), ``epci_nom``, ``ept_nom``,
    ``membre_mgp`` (bool).
    """
    src = load_tables()["communes_2026"]
    df = pd.read_csv(src.path, sep=";", dtype=str, keep_default_na=False)
    out = pd.DataFrame(
        {
            "nom": df["nom"].to_numpy(),
            "departement": df["departement"].to_numpy(),
            "population": pd.to_numeric(df["population_municipale"]).astype(int).to_numpy(),
            "codes_postaux": [tuple(v.split()) for v in df["codes_postaux"]],
            "anciens_codes": [tuple(v.split()) for v in df["anciens_codes"]],
            "epci_nom": df["epci_nom"].to_numpy(),
            "ept_nom": df["ept_nom"].to_numpy(),
            "membre_mgp": (df["membre_mgp"] == "1").to_numpy(),
        },
        index=pd.Index(df["insee"], name="insee"),
    )
    return out


def metropole_communes() -> list[str]:
    """INSEE codes of the 130 communes of the Métropole du Grand Paris (2026), sorted."""
    table = communes_2026()
    return sorted(table.index[table["membre_mgp"]])


def commune_parts(insee: str) -> list[str]:
    """The codes whose (older) outlines make up the commune: itself and its absorbed communes.

    Former codes of another département (the 1968 renumbering of Seine and Seine-et-Oise:
    75059 for Saint-Denis, 78027 for Athis-Mons) and codes still in use are left out.
    """
    return list(_parts().get(insee, (insee,)))


@lru_cache(maxsize=1)
def _parts() -> dict[str, tuple[str, ...]]:
    """Every current commune's parts, built once (pandas indexes are slow to iterate)."""
    table = communes_2026()
    codes = table.index.tolist()
    current = set(codes)
    return {
        insee: (insee, *(c for c in olds if c not in current and c[:2] == insee[:2]))
        for insee, olds in zip(codes, table["anciens_codes"].tolist(), strict=True)
    }


@lru_cache(maxsize=1)
def france_communes() -> pd.DataFrame:
    """Name, département and region of every current commune of France (to say « hors IDF »)."""
    src = load_tables()["communes_france_2026"]
    return pd.read_csv(src.path, sep=";", dtype=str, keep_default_na=False).set_index("insee")


@lru_cache(maxsize=4)
def _table(name: str) -> pd.DataFrame:
    src = load_tables()[name]
    sep = ";" if name == "cartofriches_communes" else ","
    return pd.read_csv(src.path, sep=sep, dtype={"code_postal": str, "insee": str})


def commune_facts(insee: str) -> dict[str, Any]:
    """INSEE population, EPT, heat averages over its postal codes and brownfields of a commune.

    Values are None when the commune is not in the tables. Heat figures are the plain mean of
    the commune's postal codes (a postal code covering several communes carries one value).
    """
    table = communes_2026()
    if insee not in table.index:
        return {"insee": insee, "population": None}
    row = table.loc[insee]
    facts: dict[str, Any] = {
        "insee": insee,
        "nom": row["nom"],
        "population": int(row["population"]),
        "ept_nom": row["ept_nom"],
        "membre_mgp": bool(row["membre_mgp"]),
        "codes_postaux": list(row["codes_postaux"]),
        "parts": commune_parts(insee),
    }
    for field, name, _, _ in HEAT_FIELDS:
        heat = _table(name)
        vals = heat.loc[heat["code_postal"].isin(row["codes_postaux"]), field]
        facts[field] = float(np.mean(vals)) if len(vals) else None
    friches = _table("cartofriches_communes")
    hit = friches[friches["insee"] == insee]
    facts["nb_friches"] = int(hit["nb_friches"].iloc[0]) if len(hit) else 0
    facts["surface_friches_m2"] = float(hit["surface_m2"].iloc[0]) if len(hit) else 0.0
    facts["attributions"] = {n: s.attribution for n, s in load_tables().items()}
    return facts


@lru_cache(maxsize=1)
def metropole_reference() -> pd.DataFrame | None:
    """The metropolitan reference values (``layers/reference_metropole.csv``), if built.

    Columns ``insee``, ``code``, ``valeur``, ``rang``, ``mediane``, ``n`` (see
    ``scripts/build_reference_metropole.py``).
    """
    from qmi_geo.layers.catalogue import bundled_layers_dir

    path = bundled_layers_dir() / "reference_metropole.csv"
    if not path.exists():
        return None
    return pd.read_csv(path, sep=";", decimal=",", dtype={"insee": str}, encoding="utf-8-sig")


@lru_cache(maxsize=1)
def iris_codes_by_commune() -> dict[str, frozenset[str]]:
    """The IRIS codes of each current commune, from the region-wide IRIS (``iris_idf``)."""
    from qmi_geo.layers.catalogue import load_catalogue

    src = load_catalogue()["iris_idf"]
    df = pd.read_parquet(src.path, columns=["code_iris", "insee_com"])
    iris = df["code_iris"].astype(str).to_numpy(dtype=object)
    commune = df["insee_com"].astype(str).to_numpy(dtype=object)
    # grouped with numpy (sorted once, split at the changes): iterating a pandas groupby of
    # 1,266 communes cost ≈ 0.03 s of every diagnostic
    order = np.argsort(commune, kind="stable")
    commune, iris = commune[order], iris[order]
    if not len(commune):
        return {}
    starts = np.flatnonzero(np.r_[True, commune[1:] != commune[:-1]])
    bounds = [*starts.tolist(), len(commune)]
    return {str(commune[a]): frozenset(iris[a:b].tolist()) for a, b in pairwise(bounds)}


@lru_cache(maxsize=1)
def _absorbed() -> dict[str, str]:
    table = communes_2026()
    return {old: new for new, olds in table["anciens_codes"].items() for old in olds}


def _current_commune(codes: pd.Series) -> pd.Series:
    """Each INSEE code as the current commune it belongs to (absorbed codes to their new one)."""
    current = codes.isin(communes_2026().index)
    return codes.where(current, codes.map(_absorbed()).fillna(codes))


def _whole_people(counts: np.ndarray, total: int) -> np.ndarray:
    """``counts`` scaled to sum to ``total`` in whole people (largest remainders).

    >>> _whole_people(np.array([1.0, 1.0, 1.0]), 10).tolist()
    [4.0, 3.0, 3.0]
    """
    known = ~np.isnan(counts)
    share = np.where(known, counts, 0.0) * (total / np.nansum(counts))
    whole = np.floor(share)
    left = round(total - whole.sum())
    if left > 0:
        order = np.argsort(-(share - whole), kind="stable")[:left]
        whole[order] += 1
    return np.where(known, whole, np.nan)


def reconcile_iris_population(iris: pd.DataFrame) -> pd.DataFrame:
    """Scale each commune's IRIS populations to its INSEE population (2026 package).

    An IRIS layer with ``population`` and ``insee_com`` (a census vintage such as RP 2021)
    rarely sums to the commune's current INSEE figure. For every commune whose IRIS are all
    in the layer (checked against the region-wide IRIS), the IRIS populations are multiplied
    by ``INSEE population / their sum`` (in whole people, largest remainders): the
    distribution between IRIS stays the source's, the total is the INSEE figure.
    :data:`POPULATION_METHOD` says per IRIS how its figure
    was obtained (the source's own method, when it declares one as a constant, is kept in
    the text). Call it on the whole layer, before clipping to a quarter.

    Examples
    --------
    >>> codes = sorted(iris_codes_by_commune()["92071"])
    >>> iris = pd.DataFrame({"code_iris": codes, "insee_com": "92071", "population": 1000.0})
    >>> out = reconcile_iris_population(iris)
    >>> int(out["population"].sum()), int(communes_2026().loc["92071", "population"])
    (20884, 20884)
    >>> bool((out["population"] % 1 == 0).all())  # no fractional inhabitants
    True
    >>> print(out[POPULATION_METHOD].iloc[0])  # doctest: +ELLIPSIS
    population INSEE de la commune (paquet Etalab 2026) répartie sur ses IRIS au prorata ...
    """
    if "population" not in iris or "insee_com" not in iris or "code_iris" not in iris:
        return iris
    out = iris.copy()
    pop = pd.to_numeric(out["population"], errors="coerce").astype(float)
    own = out[POPULATION_METHOD] if POPULATION_METHOD in out else pd.Series(None, index=out.index)
    commune = _current_commune(out["insee_com"].astype(str)).astype(object)
    # per commune: the source's total, the INSEE figure, whether all its IRIS are in the layer
    total = pop.groupby(commune).sum(min_count=1)
    insee = communes_2026()["population"].to_dict()
    expected = iris_codes_by_commune()
    codes = set(out["code_iris"].astype(str))
    firsts = own.dropna().astype(str).groupby(commune[own.notna()]).first().to_dict()
    method: dict[str, str] = {}
    where = commune.to_numpy()
    for code, value in total.items():
        basis = firsts.get(code, "population dans la source")
        target = insee.get(code)
        if target is None or code not in expected or not value > 0:
            method[code] = f"{basis} (non recalée sur la population INSEE de la commune)"
        elif abs(value - target) < 0.5:
            method[code] = basis
        elif not expected[code] <= codes:
            method[code] = (
                f"{basis} (non recalée sur la population INSEE : IRIS de la commune incomplets "
                "dans la source)"
            )
        else:
            rows = np.flatnonzero(where == code)
            pop.iloc[rows] = _whole_people(pop.iloc[rows].to_numpy(), int(target))
            method[code] = (
                "population INSEE de la commune (paquet Etalab 2026) répartie sur ses IRIS au "
                f"prorata de leur {basis}"
            )
    out[POPULATION_METHOD] = commune.map(method).astype(object)
    out["population"] = pop
    return out
