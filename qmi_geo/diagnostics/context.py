"""Context indicators: area, population, income, distance to stations.

Definitions
-----------
* ``surface_km2`` — area of the quarter (EPSG:2154), km².
* ``population`` — INSEE population (RP 2021 at IRIS grain) summed over the IRIS of the
  quarter; an IRIS cut by the perimeter contributes in proportion to the area inside
  (area-weighted, i.e. assumes an even spread of residents in the IRIS).
* ``revenu_median`` — INSEE Filosofi median disposable income per consumption unit of the
  IRIS, averaged with weights equal to each IRIS's (area-weighted) population; a median of
  medians does not exist, so this is an estimate.
* ``distance_gare`` / ``distance_gare_gpe`` — straight-line distance from the quarter's
  centroid to the nearest rail/RER station and to the nearest Grand Paris Express station.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from qmi_geo.diagnostics._geom import check_crs, pairs, zone_area
from qmi_geo.diagnostics._rows import ESTIMATED, Rows, missing_layer

__all__ = [
    "ORIGINAL_AREA",
    "context_rows",
    "distance_to_nearest",
    "iris_weighted_mean",
    "iris_weighted_sum",
    "quarter_area",
    "rail_stations",
]

#: Field holding an IRIS's area before any clipping (m²); when present, area weights use it.
ORIGINAL_AREA = "surface_origine_m2"

RAIL_MODES = r"(?i)\b(?:rer|train|ter|transilien)\b"


def quarter_area(zones: gpd.GeoDataFrame) -> pd.Series:
    """Area of each zone, in km².

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 2000, 500)], crs=2154)
    >>> float(quarter_area(z).iloc[0])
    1.0
    """
    return (zone_area(zones) / 1e6).rename("surface_km2")


def _iris_fractions(
    zones: gpd.GeoDataFrame, iris: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zone positions, IRIS positions and the share of each IRIS's area inside the zone."""
    check_crs(zones, iris, "iris")
    zi, ii = pairs(zones, iris)
    inter = zones.geometry.values[zi].intersection(iris.geometry.values[ii]).area
    full = iris.geometry.values[ii].area
    if ORIGINAL_AREA in iris:  # IRIS clipped upstream: weight by the share of the whole IRIS
        orig = pd.to_numeric(iris[ORIGINAL_AREA], errors="coerce").to_numpy(dtype=float)[ii]
        full = np.where(np.isnan(orig), full, orig)
    frac = np.divide(inter, full, out=np.zeros_like(inter), where=full > 0)
    return zi, ii, frac


def iris_weighted_sum(
    zones: gpd.GeoDataFrame, iris: gpd.GeoDataFrame, *, column: str = "population"
) -> pd.Series:
    """Area-weighted sum of an IRIS count (population) over each zone.

    Parameters
    ----------
    zones
        Zones (EPSG:2154).
    iris
        IRIS polygons carrying ``column``.
    column
        The count to spread (default ``population``).

    Returns
    -------
    pandas.Series
        Named ``column``; NaN for a zone with no IRIS value at all.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 500, 1000)], crs=2154)
    >>> iris = gpd.GeoDataFrame(
    ...     {"population": [1000.0]}, geometry=[box(0, 0, 1000, 1000)], crs=2154
    ... )
    >>> float(iris_weighted_sum(z, iris).iloc[0])
    500.0
    """
    zi, ii, frac = _iris_fractions(zones, iris)
    vals = pd.to_numeric(iris[column], errors="coerce").to_numpy(dtype=float)[ii]
    known = ~np.isnan(vals)
    out = np.zeros(len(zones))
    np.add.at(out, zi[known], vals[known] * frac[known])
    has = np.zeros(len(zones), dtype=bool)
    has[zi[known]] = True
    return pd.Series(np.where(has, out, np.nan), index=zones.index, name=column)


def iris_weighted_mean(
    zones: gpd.GeoDataFrame,
    iris: gpd.GeoDataFrame,
    *,
    column: str = "revenu_median",
    weight: str | None = "population",
) -> pd.Series:
    """Mean of an IRIS rate (median income…) weighted by the population inside each zone.

    The weight of an IRIS is ``weight × share of its area inside the zone``; without a
    ``weight`` column (or when it is empty) the area inside the zone is used.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 2000, 1000)], crs=2154)
    >>> iris = gpd.GeoDataFrame(
    ...     {"revenu_median": [20000.0, 30000.0], "population": [3000.0, 1000.0]},
    ...     geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
    ...     crs=2154,
    ... )
    >>> float(iris_weighted_mean(z, iris).iloc[0])
    22500.0
    """
    zi, ii, frac = _iris_fractions(zones, iris)
    vals = pd.to_numeric(iris[column], errors="coerce").to_numpy(dtype=float)[ii]
    if weight is not None and weight in iris and iris[weight].notna().any():
        w = pd.to_numeric(iris[weight], errors="coerce").to_numpy(dtype=float)[ii] * frac
    else:
        w = frac * iris.geometry.values[ii].area
    ok = ~np.isnan(vals) & ~np.isnan(w) & (w > 0)
    num = np.zeros(len(zones))
    den = np.zeros(len(zones))
    np.add.at(num, zi[ok], vals[ok] * w[ok])
    np.add.at(den, zi[ok], w[ok])
    res = np.divide(num, den, out=np.full(len(zones), np.nan), where=den > 0)
    return pd.Series(res, index=zones.index, name=column)


def rail_stations(gares: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Existing rail/RER/Transilien stations of a ``gares`` layer (not metro/tram, not GPE)."""
    reseau = gares["reseau"] if "reseau" in gares else pd.Series("existant", index=gares.index)
    mode = gares["mode"].astype("string") if "mode" in gares else None
    ligne = gares["ligne"].astype("string") if "ligne" in gares else None
    mask = reseau.fillna("existant").ne("grand_paris_express")
    rail = pd.Series(False, index=gares.index)
    for col in (mode, ligne):
        if col is not None:
            rail |= col.str.contains(RAIL_MODES, regex=True).fillna(False).astype(bool)
    return gares[mask & rail]


def distance_to_nearest(zones: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> pd.Series:
    """Distance (m) from each zone's centroid to the nearest of ``points``.

    Returns NaN for every zone when ``points`` is empty.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box, Point
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=2154)
    >>> g = gpd.GeoDataFrame(geometry=[Point(500, 1800), Point(5000, 5000)], crs=2154)
    >>> float(distance_to_nearest(z, g).iloc[0])
    1300.0
    """
    check_crs(zones, points, "gares")
    if len(points) == 0:
        return pd.Series(np.nan, index=zones.index, name="distance")
    centres = zones.geometry.centroid
    (zi, _), dist = points.sindex.nearest(centres.values, return_distance=True, return_all=False)
    out = np.full(len(zones), np.nan)
    out[zi] = dist
    return pd.Series(out, index=zones.index, name="distance")


def context_rows(
    zones: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame], *, buffer_m: float | None = None
) -> pd.DataFrame:
    """Long-form context indicators for every zone (see the module docstring)."""
    rows = Rows(zones.index, "Contexte")
    rows.add("surface_km2", "Surface du quartier", "km²", quarter_area(zones), kinds=("quartier",))
    iris = layers.get("iris")
    lbl_pop, lbl_inc = "Population (estimée à partir des IRIS)", "Revenu médian (moyenne des IRIS)"
    if iris is None or len(iris) == 0:
        rows.unavailable("population", lbl_pop, "habitants", missing_layer("iris"), kinds=("iris",))
        rows.unavailable(
            "revenu_median", lbl_inc, "€ par UC", missing_layer("iris"), kinds=("iris",)
        )
    else:
        for code, lbl, unit, col, func, note in (
            (
                "population",
                lbl_pop,
                "habitants",
                "population",
                iris_weighted_sum,
                "pondéré par la surface des IRIS coupés par le périmètre",
            ),
            (
                "revenu_median",
                lbl_inc,
                "€ par UC",
                "revenu_median",
                iris_weighted_mean,
                "moyenne des revenus médians des IRIS pondérée par la population"
                if "population" in iris and iris["population"].notna().any()
                else "moyenne des revenus médians des IRIS pondérée par la surface",
            ),
        ):
            if col not in iris or iris[col].isna().all():
                rows.unavailable(
                    code, lbl, unit, f"champ « {col} » absent de la couche IRIS", kinds=("iris",)
                )
                continue
            rows.add(
                code,
                lbl,
                unit,
                func(zones, iris, column=col),
                kinds=("iris",),
                statut=ESTIMATED,
                note=note,
                missing_note=f"aucun IRIS avec « {col} » dans le quartier",
            )
    gares = layers.get("gares")
    far = "aucune gare dans le périmètre élargi"
    if buffer_m:
        far += f" (quartier + {buffer_m:g} m)"
    if gares is None:
        rows.unavailable(
            "distance_gare",
            "Distance du centre à la gare RER/train la plus proche",
            "m",
            missing_layer("gares"),
            kinds=("gares",),
        )
        rows.unavailable(
            "distance_gare_gpe",
            "Distance du centre à la gare du Grand Paris Express la plus proche",
            "m",
            missing_layer("gares"),
            kinds=("gares",),
        )
    else:
        gpe = gares[gares["reseau"].eq("grand_paris_express")] if "reseau" in gares else gares[:0]
        rows.add(
            "distance_gare",
            "Distance du centre à la gare RER/train la plus proche",
            "m",
            distance_to_nearest(zones, rail_stations(gares)),
            kinds=("gares",),
            note="à vol d'oiseau, depuis le centroïde",
            missing_note=far,
        )
        rows.add(
            "distance_gare_gpe",
            "Distance du centre à la gare du Grand Paris Express la plus proche",
            "m",
            distance_to_nearest(zones, gpe),
            kinds=("gares",),
            note="à vol d'oiseau, depuis le centroïde ; gares en projet",
            missing_note=far,
        )
    return rows.frame()
