"""Commune-level figures: INSEE population, heat per postal code, brownfields, collèges, stations.

Definitions
-----------
* ``population`` — when the quarter is the whole commune: the INSEE population municipale of
  the 2026 package (Etalab ``@etalab/decoupage-administratif`` 6.0.0), status « ok »;
  otherwise the IRIS estimate of :mod:`qmi_geo.diagnostics.context` (« estimé »).
* ``population_iris`` — the IRIS populations summed over the quarter, area-weighted for IRIS
  cut by the perimeter; « estimé », its note says how the IRIS figures were obtained (the IRIS
  layer's ``population_methode``): the commune's INSEE population distributed over its IRIS
  by dwellings (region-wide IRIS) or by their RP 2021 population (Underlaid's IRIS,
  :func:`qmi_geo.layers.communes.reconcile_iris_population`). Its total reconciles with the
  INSEE figure.
* ``chaleur_*`` / ``lcz_*`` — L'Institut Paris Region ICU 2022 and Cerema LCZ 2022 means of
  the commune's postal codes (a postal code covering several communes carries one value):
  commune-level, not the quarter's own figure when the quarter is smaller.
* ``nb_friches`` / ``surface_friches`` — Cerema Cartofriches sites of the commune.
* ``nb_colleges`` / ``ips_colleges`` — collèges inside the quarter and the mean of their DEPP
  IPS 2023 (social position index; national mean ≈ 100).
* ``nb_gares`` — stations (metro, RER, train, tram) inside the quarter, listed in the note.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from qmi_geo.diagnostics._geom import check_crs
from qmi_geo.diagnostics._rows import ESTIMATED, Rows, missing_layer

__all__ = ["commune_rows", "stations_inside"]

POPULATION_NOTE = "population municipale INSEE (populations légales, paquet Etalab 2026)"
#: How the IRIS populations were obtained when the IRIS layer does not say
#: (``population_methode``, see :func:`qmi_geo.layers.communes.reconcile_iris_population`)
IRIS_METHOD = "population des IRIS de la couche"
AREA_WEIGHTED = "pondérée par la surface des IRIS coupés par le périmètre"


def iris_population_method(iris: gpd.GeoDataFrame | None, communes: list[str] | None = None) -> str:
    """How the IRIS populations of ``communes`` (all IRIS when None) were obtained, in French.

    Examples
    --------
    >>> import geopandas as gpd
    >>> iris = gpd.GeoDataFrame(
    ...     {"insee_com": ["1", "2"], "population_methode": ["par logements", "RP 2021"]},
    ...     geometry=[None, None],
    ... )
    >>> iris_population_method(iris, ["2"]), iris_population_method(None)
    ('RP 2021', 'population des IRIS de la couche')
    """
    from qmi_geo.layers.communes import POPULATION_METHOD

    if iris is None or POPULATION_METHOD not in iris:
        return IRIS_METHOD
    if communes is not None and "insee_com" in iris:
        iris = iris[iris["insee_com"].astype(str).isin(communes)]
    methods = list(dict.fromkeys(iris[POPULATION_METHOD].dropna().astype(str)))
    return " ; ".join(methods) or IRIS_METHOD


def stations_inside(zones: gpd.GeoDataFrame, gares: gpd.GeoDataFrame) -> pd.Series:
    """Names and lines of the existing stations inside each zone, « Nom (lignes) ; … »."""
    check_crs(zones, gares, "gares")
    out: list[list[str]] = [[] for _ in range(len(zones))]
    existing = gares
    if "reseau" in gares:
        existing = gares[gares["reseau"].fillna("existant").ne("grand_paris_express")]
    if len(existing):
        gi, zi = zones.sindex.query(existing.geometry.values, predicate="within")
        names = existing["nom"].fillna("").astype(str).to_numpy()
        lines = (
            existing["ligne"].fillna("").astype(str).to_numpy()
            if "ligne" in existing
            else np.full(len(existing), "")
        )
        for g, z in zip(gi, zi, strict=True):
            label = f"{names[g]} ({lines[g]})" if lines[g] else names[g]
            if label not in out[z]:
                out[z].append(label)
    return pd.Series([" ; ".join(sorted(v)) for v in out], index=zones.index, name="gares")


def commune_rows(
    zones: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    commune: Mapping[str, Any] | None,
    *,
    whole_commune: bool = True,
) -> pd.DataFrame:
    """Long-form commune-level indicators (see the module docstring)."""
    rows = Rows(zones.index, "Contexte")
    gares = layers.get("gares")
    lbl_g = "Gares et stations dans le quartier"
    if gares is None:
        rows.unavailable("nb_gares", lbl_g, "nombre", missing_layer("gares"), kinds=("gares",))
    else:
        names = stations_inside(zones, gares)
        count = names.map(lambda s: len(s.split(" ; ")) if s else 0).astype(float)
        rows.add(
            "nb_gares",
            lbl_g,
            "nombre",
            count,
            kinds=("gares",),
            note=names.where(names != "", "aucune gare dans le quartier"),
        )
    sites = layers.get("sites")
    colleges = None
    if sites is not None and "ips_2023" in sites:
        colleges = (
            sites[sites["source"].eq("sites_colleges")]
            if "source" in sites
            else sites[sites["ips_2023"].notna()]
        )
    lbl_c, lbl_i = "Collèges dans le quartier", "IPS moyen des collèges (DEPP 2023)"
    if colleges is None:
        reason = "couche des collèges (avec IPS) absente pour ce quartier"
        rows.unavailable("nb_colleges", lbl_c, "nombre", reason, kinds=("sites",))
        rows.unavailable("ips_colleges", lbl_i, "indice", reason, kinds=("sites",))
    else:
        check_crs(zones, colleges, "sites")
        ci, zi = zones.sindex.query(colleges.geometry.values, predicate="within")
        n = np.bincount(zi, minlength=len(zones)).astype(float)
        ips = pd.to_numeric(colleges["ips_2023"], errors="coerce").to_numpy(dtype=float)[ci]
        ok = ~np.isnan(ips)
        total = np.bincount(zi[ok], weights=ips[ok], minlength=len(zones))
        k = np.bincount(zi[ok], minlength=len(zones))
        mean = np.divide(total, k, out=np.full(len(zones), np.nan), where=k > 0)
        rows.add("nb_colleges", lbl_c, "nombre", pd.Series(n, index=zones.index), kinds=("sites",))
        rows.add(
            "ips_colleges",
            lbl_i,
            "indice",
            pd.Series(mean, index=zones.index),
            kinds=("sites",),
            note="moyenne simple des IPS des collèges du quartier (moyenne nationale ≈ 100)",
            missing_note="aucun collège avec IPS dans le quartier",
        )
    if commune is None or commune.get("population") is None:
        return rows.frame()
    scope = "" if whole_commune else " ; valeur de la commune entière, pas du seul quartier"
    from qmi_geo.layers.communes import HEAT_FIELDS

    for field, table, label, unit in HEAT_FIELDS:
        value = commune.get(field)
        code = ("chaleur_" if table.startswith("chaleur") else "lcz_") + field
        rows.add(
            code,
            label,
            unit,
            np.nan if value is None else float(value),
            kinds=(f"table:{table}",),
            note="moyenne des codes postaux de la commune ("
            + ", ".join(commune.get("codes_postaux", []))
            + ")"
            + scope,
            missing_note="aucun code postal de la commune dans la source",
        )
    rows.add(
        "nb_friches",
        "Friches recensées dans la commune",
        "nombre",
        float(commune.get("nb_friches", 0)),
        kinds=("table:cartofriches_communes",),
        note="Cartofriches ; une commune absente du fichier n'a aucune friche recensée" + scope,
    )
    rows.add(
        "surface_friches",
        "Surface des friches recensées dans la commune",
        "ha",
        float(commune.get("surface_friches_m2", 0.0)) / 1e4,
        kinds=("table:cartofriches_communes",),
        note="Cartofriches" + scope,
    )
    return rows.frame()


def population_rows(
    long: pd.DataFrame,
    commune: Mapping[str, Any] | None,
    *,
    whole_commune: bool,
    method: str = IRIS_METHOD,
) -> pd.DataFrame:
    """Set ``population`` to the INSEE figure for a whole commune; keep the IRIS sum apart.

    The IRIS-based row becomes ``population_iris`` (« estimé », with its ``method``).
    """
    note = f"{method} ; {AREA_WEIGHTED}"
    out = long.copy()
    is_pop = out["code"] == "population"
    iris_rows = out[is_pop].copy()
    iris_rows["code"] = "population_iris"
    iris_rows["libelle"] = "Population des IRIS du quartier (estimée)"
    known = iris_rows["statut"] != "non disponible"
    iris_rows.loc[known, "statut"] = ESTIMATED
    iris_rows.loc[known, "note"] = note
    if commune is not None and commune.get("population") is not None and whole_commune:
        out.loc[is_pop, "valeur"] = float(commune["population"])
        out.loc[is_pop, "statut"] = "ok"
        out.loc[is_pop, "note"] = POPULATION_NOTE
        out.loc[is_pop, "libelle"] = "Population (INSEE)"
        out.loc[is_pop, "couches"] = "table:communes_2026"
    else:
        out.loc[is_pop & (out["statut"] != "non disponible"), "note"] = note
    pos = int(np.flatnonzero(is_pop.to_numpy())[-1]) + 1 if is_pop.any() else len(out)
    out = pd.concat([out.iloc[:pos], iris_rows, out.iloc[pos:]], ignore_index=True)
    people = out["code"].isin(["population", "population_iris", "population_qpv"])
    out.loc[people, "valeur"] = out.loc[people, "valeur"].round()  # no fractional inhabitants
    return out
