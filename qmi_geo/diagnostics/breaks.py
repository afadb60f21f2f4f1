"""Urban breaks (coupures urbaines): density by kind and crossing points.

Definitions
-----------
* ``densite_coupures_<kind>`` — length of the break corridors of one kind (``rail``,
  ``route``, ``eau``) inside the zone, per km² of zone. Parallel tracks or carriageways less
  than ``corridor_m`` apart form one corridor and are counted once: the corridor length is
  the length of the lines once the parts within ``corridor_m / 2`` of a longer line of the
  same kind are removed (:func:`dedup_parallel`), the lines being first cut to the zone:
  only what lies inside the zone counts, so the figure does not depend on how far around
  the quarter the layer was read (a quarter with its buffer, or the whole region give
  the same value). A kind without any line in the zone is « non disponible » (no
  evidence that the sources cover the zone), not zero.
  Underground or at-grade lines that do not cut the street network (metro, tram, by
  default) are left out.
* ``franchissements`` — number of points where a street of the network crosses a break
  (bridge, tunnel or level crossing), crossing points closer than ``merge_m`` being merged
  (a street crossing four parallel tracks is one crossing). Requires a street layer.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo.diagnostics._geom import check_crs, pairs, zone_area
from qmi_geo.diagnostics._rows import ESTIMATED, Rows, missing_layer
from qmi_geo.style import BREAK_KINDS

__all__ = [
    "EXCLUDED_SUB_TYPES",
    "break_density",
    "breaks_rows",
    "crossing_points",
    "crossings_count",
    "dedup_parallel",
    "effective_breaks",
]

EXCLUDED_SUB_TYPES = ("metro", "tramway", "tram", "subway", "light_rail", "val", "navette")


def effective_breaks(
    coupures: gpd.GeoDataFrame, *, exclude: tuple[str, ...] = EXCLUDED_SUB_TYPES
) -> gpd.GeoDataFrame:
    """The breaks that cut pedestrians off: drop sub-types such as metro and tram.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> c = gpd.GeoDataFrame(
    ...     {"type": ["rail", "rail"], "sous_type": ["RER", "METRO"]},
    ...     geometry=[LineString([(0, 0), (1, 0)])] * 2,
    ...     crs=2154,
    ... )
    >>> len(effective_breaks(c))
    1
    """
    if "sous_type" not in coupures or not exclude:
        return coupures
    sub = coupures["sous_type"].astype("string").str.strip().str.lower()
    return coupures[~sub.isin([e.lower() for e in exclude]).fillna(False).astype(bool)]


def dedup_parallel(lines: gpd.GeoDataFrame, *, corridor_m: float = 30.0) -> gpd.GeoSeries:
    """Line parts left once parallel duplicates closer than ``corridor_m / 2`` are removed.

    Lines are taken longest first; from each line, the parts within ``corridor_m / 2`` of a
    line already kept are dropped (greedy, with a spatial index so only neighbours are
    compared). Several tracks or lines sharing a corridor are thus counted once.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> two = gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (1000, 0)]), LineString([(0, 10), (1000, 10)])], crs=2154
    ... )
    >>> round(float(dedup_parallel(two).length.sum()), 6)
    1000.0
    """
    geoms = gpd.GeoSeries(lines.geometry).explode(ignore_index=True)
    geoms = geoms[~geoms.is_empty & geoms.notna()]
    if not len(geoms):
        return gpd.GeoSeries([], crs=lines.crs)
    values = geoms.values[np.argsort(-geoms.length.to_numpy(), kind="stable")]
    tol = corridor_m / 2.0
    tree = shapely.STRtree(values)
    kept: list[object] = []
    for i, geom in enumerate(values):
        near = tree.query(geom, predicate="dwithin", distance=tol)
        near = near[near < i]
        part = geom
        if len(near):
            part = shapely.difference(geom, shapely.union_all(shapely.buffer(values[near], tol)))
        if not shapely.is_empty(part):
            kept.append(part)
    return gpd.GeoSeries(kept, crs=lines.crs)


def break_density(
    zones: gpd.GeoDataFrame,
    coupures: gpd.GeoDataFrame,
    *,
    corridor_m: float = 30.0,
    exclude: tuple[str, ...] = EXCLUDED_SUB_TYPES,
) -> pd.DataFrame:
    """Length of break corridors of each kind per km² of zone.

    Returns
    -------
    pandas.DataFrame
        One column per kind (``rail``, ``route``, ``eau``), km/km², aligned to
        ``zones.index``.

    Examples
    --------
    Two tracks 10 m apart crossing a 1 km² square count as one 1 km corridor:

    >>> import geopandas as gpd
    >>> from shapely.geometry import box, LineString
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=2154)
    >>> rail = gpd.GeoDataFrame(
    ...     {"type": ["rail", "rail"]},
    ...     geometry=[LineString([(0, 500), (1000, 500)]), LineString([(0, 510), (1000, 510)])],
    ...     crs=2154,
    ... )
    >>> round(float(break_density(z, rail).loc[0, "rail"]), 6)
    1.0
    """
    check_crs(zones, coupures, "coupures")
    breaks = effective_breaks(coupures, exclude=exclude)
    area_km2 = zone_area(zones) / 1e6
    out = {}
    for kind in ("rail", "route", "eau"):
        lines = breaks[breaks["type"].eq(kind)]
        lines = lines[lines.geom_type.isin(["LineString", "MultiLineString"])]
        km = _zone_corridors(zones, lines, corridor_m / 2.0) / 1000.0
        out[kind] = km / area_km2
    return pd.DataFrame(out, index=zones.index)


def _zone_corridors(zones: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, tol: float) -> np.ndarray:
    """Corridor length (m) of each zone: :func:`dedup_parallel` of the lines cut to the zone.

    All zones at once: the lines are cut to every zone they cross, each cut part loses
    what lies within ``tol`` of a longer part of the same zone (longest first, as in
    :func:`dedup_parallel`), and the lengths left are summed per zone.
    """
    out = np.zeros(len(zones), dtype=float)
    zi, li = pairs(zones, lines)
    if not len(zi):
        return out
    cut = shapely.intersection(zones.geometry.values[zi], lines.geometry.values[li])
    linear = np.isin(shapely.get_type_id(cut), (1, 5))  # a per-zone layer keeps only these
    cut, zi = cut[linear], zi[linear]
    parts, which = shapely.get_parts(cut, return_index=True)
    zone = zi[which]
    keep = ~shapely.is_empty(parts)
    parts, zone = parts[keep], zone[keep]
    if not len(parts):
        return out
    length = shapely.length(parts)
    order = np.lexsort((-length, zone))  # by zone, longest first (stable, like a sort)
    parts, zone, length = parts[order], zone[order], length[order]
    tree = shapely.STRtree(parts)
    a, b = tree.query(parts, predicate="dwithin", distance=tol)
    earlier = (zone[a] == zone[b]) & (b < a)  # a longer part (earlier) of the same zone
    a, b = a[earlier], b[earlier]
    if len(a):
        by = np.lexsort((b, a))
        a, b = a[by], b[by]
        halo = shapely.buffer(parts[b], tol)
        starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
        own = a[starts]
        sizes = np.diff(np.r_[starts, len(a)])
        # a part minus the union of its longer neighbours' halos is the part minus each
        # halo in turn: round r takes every part's r-th halo, all parts in one call (no
        # union of buffers, which cost a Python loop of union_all over the groups)
        left = parts[own]
        for r in range(int(sizes.max())):
            go = np.flatnonzero(sizes > r)
            left[go] = shapely.difference(left[go], halo[starts[go] + r])
        length[own] = shapely.length(left)
    np.add.at(out, zone, length)
    return out


def crossing_points(
    coupures: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    *,
    merge_m: float = 40.0,
    exclude: tuple[str, ...] = EXCLUDED_SUB_TYPES,
) -> gpd.GeoDataFrame:
    """Points where streets cross breaks, merged within ``merge_m``.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per crossing with the break kind (``type``), in the layers' CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> rail = gpd.GeoDataFrame(
    ...     {"type": ["rail"]}, geometry=[LineString([(0, 0), (1000, 0)])], crs=2154
    ... )
    >>> street = gpd.GeoDataFrame(geometry=[LineString([(500, -300), (500, 300)])], crs=2154)
    >>> pt = crossing_points(rail, street).geometry.iloc[0]
    >>> round(pt.x), round(pt.y)
    (500, 0)
    """
    check_crs(coupures, streets, "rues")
    breaks = effective_breaks(coupures, exclude=exclude)
    frames = []
    for kind in ("rail", "route", "eau"):
        lines = breaks[breaks["type"].eq(kind)]
        si, bi = pairs(streets, lines)
        if not len(si):
            continue
        inter = shapely.intersection(streets.geometry.values[si], lines.geometry.values[bi])
        pts = shapely.get_parts(shapely.extract_unique_points(inter))
        if not len(pts):
            continue
        # merge nearby points: union of small discs, one crossing per connected blob
        blobs = shapely.get_parts(shapely.union_all(shapely.buffer(pts, merge_m / 2.0)))
        frames.append(
            gpd.GeoDataFrame(
                {"type": kind},
                index=range(len(blobs)),
                geometry=shapely.centroid(blobs),
                crs=streets.crs,
            )
        )
    if not frames:
        return gpd.GeoDataFrame({"type": pd.Series([], dtype="str")}, geometry=[], crs=streets.crs)
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=streets.crs)


def crossings_count(
    zones: gpd.GeoDataFrame,
    coupures: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    *,
    merge_m: float = 40.0,
    exclude: tuple[str, ...] = EXCLUDED_SUB_TYPES,
) -> pd.DataFrame:
    """Number of street crossings of each break kind inside each zone (plus ``total``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box, LineString
    >>> z = gpd.GeoDataFrame(geometry=[box(0, -500, 1000, 500)], crs=2154)
    >>> rail = gpd.GeoDataFrame(
    ...     {"type": ["rail"]}, geometry=[LineString([(0, 0), (1000, 0)])], crs=2154
    ... )
    >>> street = gpd.GeoDataFrame(geometry=[LineString([(500, -300), (500, 300)])], crs=2154)
    >>> int(crossings_count(z, rail, street).loc[0, "total"])
    1
    """
    check_crs(zones, streets, "rues")
    pts = crossing_points(coupures, streets, merge_m=merge_m, exclude=exclude)
    out = pd.DataFrame(0.0, index=zones.index, columns=["rail", "route", "eau", "total"])
    zi, pi = pairs(zones, pts)
    kinds = pts["type"].to_numpy()
    for kind in ("rail", "route", "eau"):
        sel = kinds[pi] == kind
        counts = np.bincount(zi[sel], minlength=len(zones)).astype(float)
        out[kind] = counts
    out["total"] = out[["rail", "route", "eau"]].sum(axis=1)
    return out


def breaks_rows(
    zones: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    n_pairs: int = 50,
    seed: int = 0,
    severance: bool = True,
) -> pd.DataFrame:
    """Long-form urban-break indicators for every zone (see the module docstring)."""
    from qmi_geo.diagnostics.severance import severance_ratio

    rows = Rows(zones.index, "Coupures")
    coupures = layers.get("coupures")
    streets = layers.get("rues")
    kinds_lbl = {k: BREAK_KINDS[k].label.lower() for k in ("rail", "route", "eau")}
    if coupures is None:
        for kind, lbl in kinds_lbl.items():
            rows.unavailable(
                f"densite_coupures_{kind}",
                f"Densité de coupures : {lbl}",
                "km/km²",
                missing_layer("coupures"),
                kinds=("coupures",),
            )
    else:
        dens = break_density(zones, coupures)
        # a kind is known in a zone when the layer has some line of it in the zone: the
        # same answer whether the layer was cut to the quarter or covers the region
        zi, li = pairs(zones, coupures)
        types = coupures["type"].astype("string").to_numpy(dtype=object, na_value=None)[li]
        present = pd.DataFrame(
            {k: np.bincount(zi[types == k], minlength=len(zones)) > 0 for k in kinds_lbl},
            index=zones.index,
        )
        for kind, lbl in kinds_lbl.items():
            rows.add(
                f"densite_coupures_{kind}",
                f"Densité de coupures : {lbl}",
                "km/km²",
                dens[kind].where(present[kind]),
                kinds=("coupures",),
                note="voies parallèles comptées une fois",
                missing_note="aucune donnée de ce type de coupure pour ce quartier "
                "(les sources ne couvrent pas toutes les communes)",
            )
        missing = present.apply(
            lambda r: ", ".join(kinds_lbl[k] for k in kinds_lbl if not r[k]), axis=1
        )
        rows.add(
            "densite_coupures",
            "Densité de coupures (tous types)",
            "km/km²",
            dens.where(present, 0.0)[list(kinds_lbl)].sum(axis=1),
            kinds=("coupures",),
            statut=missing.map(lambda m: ESTIMATED if m else "ok"),
            note=missing.map(lambda m: f"sans données pour : {m} (valeur minorante)" if m else ""),
        )
    no_streets = "réseau de rues OpenStreetMap absent pour ce quartier"
    lbl_x = "Franchissements des coupures par les rues"
    lbl_r = "Détour piéton à travers les coupures (médiane réseau / vol d'oiseau)"
    if coupures is None or streets is None:
        reason = no_streets if streets is None else missing_layer("coupures")
        rows.unavailable("franchissements", lbl_x, "nombre", reason, kinds=("coupures", "rues"))
        rows.unavailable("ratio_detour", lbl_r, "ratio", reason, kinds=("coupures", "rues"))
        return rows.frame()
    drive = (
        "highway" in streets
        and not streets["highway"]
        .astype("string")
        .str.contains("footway|pedestrian|path|steps", regex=True)
        .fillna(False)
        .any()
    )
    net_note = " ; réseau routier (pas de chemins piétons) : valeur majorante" if drive else ""
    cross = crossings_count(zones, coupures, streets)
    rows.add(
        "franchissements",
        lbl_x,
        "nombre",
        cross["total"],
        kinds=("coupures", "rues"),
        note=cross.apply(
            lambda r: f"rail {int(r.rail)} ; route {int(r.route)} ; eau {int(r.eau)}", axis=1
        ),
    )
    if severance:
        sev = severance_ratio(zones, coupures, streets, n_pairs=n_pairs, seed=seed)
        note = sev["n_paires"].map(
            lambda n: f"{int(n)} paires tirées de part et d'autre des coupures{net_note}"
        )
        rows.add(
            "ratio_detour",
            lbl_r,
            "ratio",
            sev["ratio_detour"],
            kinds=("coupures", "rues"),
            statut=ESTIMATED,
            note=note,
            missing_note="aucune paire de points reliée par le réseau de rues",
        )
    return rows.frame()
