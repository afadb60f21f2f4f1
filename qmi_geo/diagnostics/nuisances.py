"""Environmental nuisances from L'Institut Paris Region's 500 m grid.

Definitions
-----------
* ``part_nuisances_2plus`` — share of the quarter's area in grid cells cumulating at least
  ``threshold`` (default 2) environmental nuisances (Bruitparif noise, Airparif air), in %.
* ``part_points_noirs`` — share of the quarter's area in cells flagged « point noir
  environnemental », in %.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from qmi_geo.diagnostics._geom import check_crs, dissolve_parts, intersection_measure, zone_area
from qmi_geo.diagnostics._rows import Rows, missing_layer

__all__ = ["black_spot_share", "nuisance_share", "nuisances_rows"]


def nuisance_share(
    zones: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, *, threshold: int = 2
) -> pd.Series:
    """Share of each zone in cells with at least ``threshold`` nuisances, in %.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=2154)
    >>> cells = gpd.GeoDataFrame(
    ...     {"nb_nuisances": [3, 1, 2, 0]},
    ...     geometry=[
    ...         box(0, 0, 500, 500),
    ...         box(500, 0, 1000, 500),
    ...         box(0, 500, 500, 1000),
    ...         box(500, 500, 1000, 1000),
    ...     ],
    ...     crs=2154,
    ... )
    >>> float(nuisance_share(z, cells).iloc[0])
    50.0
    """
    check_crs(zones, cells, "nuisances")
    n = pd.to_numeric(cells["nb_nuisances"], errors="coerce")
    hit = cells[(n >= threshold).fillna(False).astype(bool)]
    return (100.0 * intersection_measure(zones, dissolve_parts(hit)) / zone_area(zones)).rename(
        "part_nuisances_2plus"
    )


def black_spot_share(zones: gpd.GeoDataFrame, cells: gpd.GeoDataFrame) -> pd.Series:
    """Share of each zone in « point noir environnemental » cells, in %."""
    check_crs(zones, cells, "nuisances")
    flag = cells["point_noir"]
    if flag.dtype == object or str(flag.dtype) in ("string", "str"):
        flag = flag.astype("string").str.lower().isin(["1", "true", "vrai", "oui", "yes"])
    hit = cells[flag.fillna(False).astype(bool)]
    return (100.0 * intersection_measure(zones, dissolve_parts(hit)) / zone_area(zones)).rename(
        "part_points_noirs"
    )


def nuisances_rows(zones: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Long-form nuisance indicators for every zone."""
    rows = Rows(zones.index, "Nuisances")
    cells = layers.get("nuisances")
    lbl2 = "Part du quartier cumulant au moins 2 nuisances"
    lbln = "Part du quartier en point noir environnemental"
    if cells is None:
        rows.unavailable(
            "part_nuisances_2plus", lbl2, "%", missing_layer("nuisances"), kinds=("nuisances",)
        )
        rows.unavailable(
            "part_points_noirs", lbln, "%", missing_layer("nuisances"), kinds=("nuisances",)
        )
        return rows.frame()
    covered = intersection_measure(zones, dissolve_parts(cells)) / zone_area(zones)
    note = covered.map(lambda c: "" if c > 0.99 else f"grille couvrant {100 * c:.0f} % du quartier")
    rows.add(
        "part_nuisances_2plus",
        lbl2,
        "%",
        nuisance_share(zones, cells).where(covered > 0),
        kinds=("nuisances",),
        note=note,
        missing_note="aucune maille dans le quartier",
    )
    if "point_noir" in cells:
        rows.add(
            "part_points_noirs",
            lbln,
            "%",
            black_spot_share(zones, cells).where(covered > 0),
            kinds=("nuisances",),
            note=note,
            missing_note="aucune maille dans le quartier",
        )
    else:
        rows.unavailable(
            "part_points_noirs", lbln, "%", "champ « point_noir » absent", kinds=("nuisances",)
        )
    return rows.frame()
