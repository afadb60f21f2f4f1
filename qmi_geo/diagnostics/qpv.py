"""QPV indicators: share of the quarter in QPV, their names and codes, population in QPV.

Definitions
-----------
* ``part_qpv`` — area of the quarter inside a QPV 2024 perimeter (ANCT) divided by the
  quarter's area, in %. QPV are dissolved first so an overlap is not counted twice.
* ``nb_qpv`` and ``liste_qpv`` — the QPV intersecting the quarter (with at least
  ``min_area_m2`` inside, to ignore slivers from the 4-decimal rounding of the contours).
* ``population_qpv`` — IRIS population spread evenly over each IRIS's area, summed over the
  parts of the IRIS inside a QPV and the quarter (an estimate).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo.diagnostics._geom import (
    check_crs,
    dissolve_parts,
    intersection_measure,
    pairs,
    zone_area,
)
from qmi_geo.diagnostics._rows import ESTIMATED, Rows, missing_layer
from qmi_geo.diagnostics.context import ORIGINAL_AREA

__all__ = ["population_in_qpv", "qpv_list", "qpv_of_communes", "qpv_rows", "qpv_share"]


def qpv_share(zones: gpd.GeoDataFrame, qpv: gpd.GeoDataFrame) -> pd.Series:
    """Share of each zone's area inside a QPV, in %.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=2154)
    >>> q = gpd.GeoDataFrame(
    ...     {"code_qp": ["QN09301M"]}, geometry=[box(500, 0, 1500, 1000)], crs=2154
    ... )
    >>> float(qpv_share(z, q).iloc[0])
    50.0
    """
    check_crs(zones, qpv, "qpv")
    inside = intersection_measure(zones, dissolve_parts(qpv))
    return (100.0 * inside / zone_area(zones)).rename("part_qpv")


def qpv_list(
    zones: gpd.GeoDataFrame, qpv: gpd.GeoDataFrame, *, min_area_m2: float = 1000.0
) -> pd.Series:
    """Codes and names of the QPV in each zone, ``"QN… Nom ; QN… Nom"`` (empty if none).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=2154)
    >>> q = gpd.GeoDataFrame(
    ...     {"code_qp": ["QN09349M", "QN09353M"], "lib_qp": ["Rougemont", "Duclos"]},
    ...     geometry=[box(500, 0, 1500, 1000), box(2000, 0, 3000, 1000)],
    ...     crs=2154,
    ... )
    >>> qpv_list(z, q).iloc[0]
    'QN09349M Rougemont'
    """
    check_crs(zones, qpv, "qpv")
    zi, qi = pairs(zones, qpv)
    area = shapely.area(shapely.intersection(zones.geometry.values[zi], qpv.geometry.values[qi]))
    keep = area >= min_area_m2
    codes = qpv["code_qp"].astype(str).to_numpy()
    names = (
        qpv["lib_qp"].fillna("").astype(str).to_numpy()
        if "lib_qp" in qpv
        else np.full(len(qpv), "")
    )
    labels = [f"{c} {n}".strip() for c, n in zip(codes, names, strict=True)]
    out: list[list[str]] = [[] for _ in range(len(zones))]
    for z, q in zip(zi[keep], qi[keep], strict=True):
        if labels[q] not in out[z]:
            out[z].append(labels[q])
    return pd.Series([" ; ".join(sorted(v)) for v in out], index=zones.index, name="liste_qpv")


def population_in_qpv(
    zones: gpd.GeoDataFrame,
    qpv: gpd.GeoDataFrame,
    iris: gpd.GeoDataFrame,
    *,
    column: str = "population",
) -> pd.Series:
    """Estimated population living in a QPV inside each zone (area-weighted from IRIS).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=2154)
    >>> q = gpd.GeoDataFrame({"code_qp": ["QN1"]}, geometry=[box(0, 0, 250, 1000)], crs=2154)
    >>> iris = gpd.GeoDataFrame(
    ...     {"population": [4000.0]}, geometry=[box(0, 0, 1000, 1000)], crs=2154
    ... )
    >>> float(population_in_qpv(z, q, iris).iloc[0])
    1000.0
    """
    check_crs(zones, qpv, "qpv")
    check_crs(zones, iris, "iris")
    merged = dissolve_parts(qpv)
    pop = pd.to_numeric(iris[column], errors="coerce").to_numpy(dtype=float)
    area = iris.geometry.area.to_numpy()
    if ORIGINAL_AREA in iris:
        orig = pd.to_numeric(iris[ORIGINAL_AREA], errors="coerce").to_numpy(dtype=float)
        area = np.where(np.isnan(orig), area, orig)
    density = pop / area
    # IRIS ∩ QPV pieces, each with its IRIS density, then measured inside each zone
    ii, qi = pairs(iris, merged)
    pieces = gpd.GeoDataFrame(
        {"density": density[ii]},
        geometry=shapely.intersection(iris.geometry.values[ii], merged.values[qi]),
        crs=zones.crs,
    )
    res = intersection_measure(zones, pieces, weights=pieces["density"].to_numpy())
    known = intersection_measure(zones, iris, weights=(~np.isnan(pop)).astype(float))
    return res.where(known > 0).rename("population_qpv")


def qpv_of_communes(qpv: gpd.GeoDataFrame, communes: list[str]) -> gpd.GeoDataFrame:
    """The QPV whose ANCT commune list (``insee_com``, comma-joined) names one of ``communes``.

    For a quarter that is a whole commune this is the ANCT 2024 list itself, not a geometric
    guess: neighbours' QPV touching the simplified commune outline are left out.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> q = gpd.GeoDataFrame(
    ...     {"code_qp": ["QN1", "QN2"], "insee_com": ["93066,93001", "93070"]},
    ...     geometry=[box(0, 0, 1, 1), box(1, 1, 2, 2)],
    ...     crs=2154,
    ... )
    >>> qpv_of_communes(q, ["93066", "93059"])["code_qp"].tolist()
    ['QN1']
    """
    if "insee_com" not in qpv or qpv["insee_com"].isna().all():
        return qpv
    wanted = set(communes)
    listed = qpv["insee_com"].fillna("").astype(str).str.split(",")
    return qpv[listed.map(lambda cs: bool(wanted & {c.strip() for c in cs}))]


def qpv_rows(
    zones: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    communes: list[str] | None = None,
    layer_errors: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Long-form QPV indicators for every zone (see the module docstring).

    ``communes`` (the quarter's commune and its absorbed parts, when the quarter is the whole
    commune) restricts the QPV to those the ANCT list gives for it. A QPV layer in
    ``layer_errors`` (empty, unreadable, outside the quarter, wrong CRS) makes every QPV
    indicator « non disponible » with that reason, never 0.
    """
    rows = Rows(zones.index, "QPV")
    qpv = layers.get("qpv")
    if qpv is not None and communes:
        qpv = qpv_of_communes(qpv, communes)
    failed = (layer_errors or {}).get("qpv")
    if qpv is None or failed:
        reason = failed or missing_layer("qpv")
        rows.unavailable("part_qpv", "Part du quartier en QPV", "%", reason, kinds=("qpv",))
        rows.unavailable("nb_qpv", "Nombre de QPV", "nombre", reason, kinds=("qpv",))
        rows.unavailable(
            "population_qpv", "Population en QPV (estimée)", "habitants", reason, kinds=("qpv",)
        )
        return rows.frame()
    rows.add("part_qpv", "Part du quartier en QPV", "%", qpv_share(zones, qpv), kinds=("qpv",))
    names = qpv_list(zones, qpv)
    count = names.map(lambda s: len(s.split(" ; ")) if s else 0).astype(float)
    rows.add(
        "nb_qpv",
        "Nombre de QPV",
        "nombre",
        count,
        kinds=("qpv",),
        note=names.where(names != "", "aucun QPV"),
    )
    iris = layers.get("iris")
    if iris is None or "population" not in iris or iris["population"].isna().all():
        rows.unavailable(
            "population_qpv",
            "Population en QPV (estimée)",
            "habitants",
            "population par IRIS non disponible",
            kinds=("qpv", "iris"),
        )
    else:
        rows.add(
            "population_qpv",
            "Population en QPV (estimée)",
            "habitants",
            population_in_qpv(zones, qpv, iris),
            kinds=("qpv", "iris"),
            statut=ESTIMATED,
            note="population des IRIS répartie uniformément sur leur surface",
            missing_note="aucun IRIS avec population dans le quartier",
        )
    return rows.frame()
