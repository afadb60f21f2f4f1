"""Candidate deployment sites: count and area by kind.

Definitions
-----------
* ``sites`` / ``sites_<kind>`` — number of candidate sites intersecting the quarter, in
  total and per kind (:data:`qmi_geo.style.SITE_KINDS`). The per-kind rows are given for
  the kinds that have a site in the quarter (for many zones at once, zone by zone, as
  each quarter's own table would).
* ``surface_sites`` / ``surface_sites_<kind>`` — their area in m²: the ``surface_m2`` field
  when given, else the polygon's area; points and lines without ``surface_m2`` have no
  known area and are counted in the note.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from qmi_geo.diagnostics._geom import check_crs, pairs
from qmi_geo.diagnostics._rows import Rows, missing_layer
from qmi_geo.style import SITE_KINDS

__all__ = ["site_areas", "sites_by_kind", "sites_rows"]

ALL_UNKNOWN = "surface inconnue (sites ponctuels ou linéaires sans champ surface_m2)"


def site_areas(sites: gpd.GeoDataFrame) -> pd.Series:
    """Area of each site in m²: ``surface_m2`` if given, else the polygon area, else NaN."""
    given = (
        pd.to_numeric(sites["surface_m2"], errors="coerce")
        if "surface_m2" in sites
        else pd.Series(np.nan, index=sites.index)
    )
    poly = sites.geom_type.isin(["Polygon", "MultiPolygon"])
    return given.fillna(sites.geometry.area.where(poly)).astype(float).rename("surface_m2")


def sites_by_kind(zones: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """Count, known area and number of sites of unknown area per zone and kind.

    Returns
    -------
    pandas.DataFrame
        Long frame with columns ``zone`` (label), ``type``, ``n``, ``surface_m2``,
        ``n_sans_surface``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box, Point
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=2154)
    >>> s = gpd.GeoDataFrame({"type": ["parking", "parking", "toiture"]},
    ...                      geometry=[box(0, 0, 50, 20), box(100, 100, 110, 110),
    ...                                Point(500, 500)], crs=2154)
    >>> sites_by_kind(z, s)[["type", "n", "surface_m2", "n_sans_surface"]].to_dict("records")
    [{'type': 'parking', 'n': 2, 'surface_m2': 1100.0, 'n_sans_surface': 0}, \
{'type': 'toiture', 'n': 1, 'surface_m2': 0.0, 'n_sans_surface': 1}]
    """
    check_crs(zones, sites, "sites")
    zi, si = pairs(zones, sites)
    area = site_areas(sites).to_numpy()[si]
    frame = pd.DataFrame(
        {
            "zone": zones.index.to_numpy()[zi],
            "type": sites["type"].astype(str).to_numpy()[si],
            "surface_m2": np.nan_to_num(area),
            "sans": np.isnan(area).astype(int),
        }
    )
    out = frame.groupby(["zone", "type"], sort=True).agg(
        n=("type", "size"), surface_m2=("surface_m2", "sum"), n_sans_surface=("sans", "sum")
    )
    return out.reset_index()


def sites_rows(zones: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Long-form site indicators for every zone."""
    rows = Rows(zones.index, "Sites")
    sites = layers.get("sites")
    if sites is None:
        rows.unavailable(
            "sites",
            "Sites de déploiement candidats",
            "nombre",
            missing_layer("sites"),
            kinds=("sites",),
        )
        rows.unavailable(
            "surface_sites",
            "Surface des sites candidats",
            "m²",
            missing_layer("sites"),
            kinds=("sites",),
        )
        return rows.frame()
    table = sites_by_kind(zones, sites)
    total = table.groupby("zone")[["n", "surface_m2", "n_sans_surface"]].sum()
    total = total.reindex(zones.index, fill_value=0)
    unknown = total["n_sans_surface"].map(
        lambda n: f"{int(n)} site(s) sans surface connue (points, lignes)" if n else ""
    )
    rows.add("sites", "Sites de déploiement candidats", "nombre", total["n"], kinds=("sites",))
    rows.add(
        "surface_sites",
        "Surface des sites candidats",
        "m²",
        total["surface_m2"].where(total["n_sans_surface"] < total["n"]),
        kinds=("sites",),
        note=unknown,
        missing_note=ALL_UNKNOWN,
    )
    kinds = [k for k in SITE_KINDS if k in set(table["type"])]
    kinds += sorted(set(table["type"]) - set(SITE_KINDS))
    found = set(zip(table["zone"], table["type"], strict=True))
    done = len(rows)
    for kind in kinds:
        sub = table.loc[table["type"] == kind, ["zone", "n", "surface_m2", "n_sans_surface"]]
        sub = sub.set_index("zone").reindex(zones.index, fill_value=0)
        label = SITE_KINDS[kind].label if kind in SITE_KINDS else kind
        rows.add(f"sites_{kind}", f"Sites : {label}", "nombre", sub["n"], kinds=("sites",))
        note = sub["n_sans_surface"].map(lambda n: f"{int(n)} sans surface connue" if n else "")
        rows.add(
            f"surface_sites_{kind}",
            f"Surface des sites : {label}",
            "m²",
            sub["surface_m2"].where(sub["n_sans_surface"] < sub["n"]),
            kinds=("sites",),
            note=note,
            missing_note=ALL_UNKNOWN,
        )
    frame = rows.frame()
    if len(kinds):  # drop the per-kind rows of zones without a site of that kind
        per_kind = np.zeros(len(frame), dtype=bool)
        per_kind[done:] = True
        kind_of = frame["code"].str.replace(r"^(?:surface_)?sites_", "", regex=True)
        has = [(z, k) in found for z, k in zip(frame["zone"], kind_of, strict=True)]
        frame = frame[~per_kind | np.array(has, dtype=bool)].reset_index(drop=True)
    return frame
