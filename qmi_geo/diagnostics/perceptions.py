"""Perceptions: walk annotations, hot spots, and the FUB cyclists' problem streets.

Definitions
-----------
* ``annotations`` — number of annotations of the marche sensible inside the quarter
  (annotations flagged ``doublon`` are left out); per valence and per theme.
* ``part_negative`` — share of those annotations with a negative valence, in %.
* ``points_chauds`` — number of hot spots (clusters of annotations) inside the quarter;
  « non disponible » without a walk (the FUB streets alone make no hot spot of felt
  impressions).
* ``part_negatives_en_qpv`` — share of the negative annotations located in a QPV, in %.
* ``rues_citees`` / ``votes_rues_citees`` — streets cited as problematic for cycling in the
  FUB Baromètre des villes cyclables 2017 that touch the quarter, and the number of
  respondents citing them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from qmi_geo.diagnostics._geom import check_crs, dissolve_parts, pairs
from qmi_geo.diagnostics._rows import Rows, missing_layer
from qmi_geo.style import THEMES, VALENCES
from qmi_geo.walks.fub import FUB_WALK_ID

__all__ = [
    "annotation_counts",
    "negative_share",
    "negative_share_in_qpv",
    "perceptions_rows",
    "problem_streets",
]


def _kept(annotations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    # FUB streets have their own indicators (rues_citees, votes_rues_citees): not walks
    if "marche" in annotations:
        annotations = annotations[annotations["marche"].astype("string") != FUB_WALK_ID]
    if "signalements" not in annotations:
        return annotations
    flags = annotations["signalements"].astype("string").fillna("")
    return annotations[~flags.str.contains(r"\bdoublon\b", regex=True).astype(bool)]


def _zone_of(zones: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> np.ndarray:
    """Zone position of each point (first zone it intersects), -1 when outside every zone."""
    zi, pi = pairs(zones, points)
    out = np.full(len(points), -1)
    out[pi[::-1]] = zi[::-1]  # first match wins
    return out


def annotation_counts(
    zones: gpd.GeoDataFrame, annotations: gpd.GeoDataFrame, *, by: str | None = None
) -> pd.DataFrame:
    """Number of annotations in each zone, in total (``by=None``) or per value of ``by``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box, Point
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs=2154)
    >>> a = gpd.GeoDataFrame(
    ...     {"theme": ["bruit", "bruit", "chaleur"]},
    ...     geometry=[Point(1, 1), Point(2, 2), Point(500, 500)],
    ...     crs=2154,
    ... )
    >>> annotation_counts(z, a, by="theme").to_dict("records")
    [{'bruit': 2}]
    """
    check_crs(zones, annotations, "annotations")
    ann = _kept(annotations)
    where = _zone_of(zones, ann)
    inside = where >= 0
    keys = ann[by].astype(str).to_numpy()[inside] if by else np.full(inside.sum(), "total")
    frame = pd.DataFrame({"zone": where[inside], "key": keys})
    table = frame.groupby(["zone", "key"]).size().unstack(fill_value=0)
    table = table.reindex(range(len(zones)), fill_value=0)
    table.index = zones.index
    table.columns.name = None
    return table.astype(int)


def negative_share(zones: gpd.GeoDataFrame, annotations: gpd.GeoDataFrame) -> pd.Series:
    """Share of negative annotations in each zone, in % (NaN without annotations)."""
    counts = annotation_counts(zones, annotations, by="valence")
    total = counts.sum(axis=1)
    neg = counts["negatif"] if "negatif" in counts else pd.Series(0, index=zones.index)
    return (100.0 * neg / total.where(total > 0)).rename("part_negative")


def negative_share_in_qpv(
    zones: gpd.GeoDataFrame, annotations: gpd.GeoDataFrame, qpv: gpd.GeoDataFrame
) -> pd.Series:
    """Share of each zone's negative annotations located inside a QPV, in %.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box, Point
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs=2154)
    >>> q = gpd.GeoDataFrame({"code_qp": ["QN1"]}, geometry=[box(0, 0, 50, 100)], crs=2154)
    >>> a = gpd.GeoDataFrame(
    ...     {"valence": ["negatif", "negatif", "positif"]},
    ...     geometry=[Point(10, 10), Point(80, 10), Point(20, 20)],
    ...     crs=2154,
    ... )
    >>> float(negative_share_in_qpv(z, a, q).iloc[0])
    50.0
    """
    check_crs(zones, qpv, "qpv")
    neg = _kept(annotations)
    neg = neg[neg["valence"].eq("negatif")]
    parts = dissolve_parts(qpv)
    in_qpv = np.zeros(len(neg), dtype=bool)
    _, ni = pairs(gpd.GeoDataFrame(geometry=parts), neg)
    in_qpv[ni] = True
    where = _zone_of(zones, neg)
    total = np.bincount(where[where >= 0], minlength=len(zones)).astype(float)
    hit = np.bincount(where[(where >= 0) & in_qpv], minlength=len(zones)).astype(float)
    res = np.divide(100.0 * hit, total, out=np.full(len(zones), np.nan), where=total > 0)
    return pd.Series(res, index=zones.index, name="part_negatives_en_qpv")


def problem_streets(zones: gpd.GeoDataFrame, streets: gpd.GeoDataFrame) -> pd.DataFrame:
    """Number of FUB cited streets touching each zone and the sum of their votes.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box, LineString
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs=2154)
    >>> s = gpd.GeoDataFrame(
    ...     {"nom": ["Rue A", "Rue B"], "votes": [3.0, 5.0]},
    ...     geometry=[LineString([(0, 50), (200, 50)]), LineString([(300, 0), (300, 100)])],
    ...     crs=2154,
    ... )
    >>> problem_streets(z, s).to_dict("records")
    [{'rues_citees': 1.0, 'votes_rues_citees': 3.0}]
    """
    check_crs(zones, streets, "rues_citees")
    zi, si = pairs(zones, streets)
    votes = pd.to_numeric(streets["votes"], errors="coerce").fillna(0).to_numpy(dtype=float)
    count = np.bincount(zi, minlength=len(zones)).astype(float)
    total = np.bincount(zi, weights=votes[si], minlength=len(zones)).astype(float)
    return pd.DataFrame({"rues_citees": count, "votes_rues_citees": total}, index=zones.index)


def perceptions_rows(
    zones: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    annotations: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Long-form perception indicators for every zone."""
    rows = Rows(zones.index, "Perceptions")
    no_walk = "aucune annotation de marche sensible fournie"
    only_fub = (
        annotations is not None
        and len(annotations) > 0
        and "marche" in annotations
        and bool(annotations["marche"].astype("string").eq(FUB_WALK_ID).all())
    )
    with_fub = (
        annotations is not None
        and "marche" in annotations
        and bool(annotations["marche"].astype("string").eq(FUB_WALK_ID).any())
    )
    if only_fub:  # FUB streets have their own rows below: no walk was provided
        annotations = None
    if annotations is None:
        rows.unavailable(
            "annotations",
            "Annotations de la marche sensible",
            "nombre",
            no_walk,
            kinds=("annotations",),
        )
        rows.unavailable(
            "part_negative", "Part des annotations négatives", "%", no_walk, kinds=("annotations",)
        )
    else:
        total = annotation_counts(zones, annotations)
        total_s = total["total"] if "total" in total else pd.Series(0, index=zones.index)
        rows.add(
            "annotations",
            "Annotations de la marche sensible",
            "nombre",
            total_s,
            kinds=("annotations",),
            note="doublons exclus",
        )
        rows.add(
            "part_negative",
            "Part des annotations négatives",
            "%",
            negative_share(zones, annotations),
            kinds=("annotations",),
            missing_note="aucune annotation dans le quartier",
        )
        by_val = annotation_counts(zones, annotations, by="valence")
        for code, val in VALENCES.items():
            rows.add(
                f"annotations_{code}",
                f"Annotations : {val.label.lower()}",
                "nombre",
                by_val.get(code, pd.Series(0, index=zones.index)),
                kinds=("annotations",),
            )
        by_theme = annotation_counts(zones, annotations, by="theme")
        for code in [c for c in THEMES if c in by_theme] + [c for c in by_theme if c not in THEMES]:
            label = THEMES[code].label if code in THEMES else code
            rows.add(
                f"annotations_theme_{code}",
                f"Annotations « {label} »",
                "nombre",
                by_theme[code],
                kinds=("annotations",),
            )
        qpv = layers.get("qpv")
        if qpv is None:
            rows.unavailable(
                "part_negatives_en_qpv",
                "Part des annotations négatives en QPV",
                "%",
                missing_layer("qpv"),
                kinds=("annotations", "qpv"),
            )
        else:
            rows.add(
                "part_negatives_en_qpv",
                "Part des annotations négatives en QPV",
                "%",
                negative_share_in_qpv(zones, annotations, qpv),
                kinds=("annotations", "qpv"),
                missing_note="aucune annotation négative dans le quartier",
            )
    if annotations is None or hotspots is None:
        # without a walk, clusters of the FUB streets alone are no hot spots of felt
        # impressions: « non disponible », like the annotations, never « 0, ok »
        rows.unavailable(
            "points_chauds",
            "Points chauds des ressentis",
            "nombre",
            no_walk if annotations is None else "points chauds non calculés",
            kinds=("annotations",),
        )
    else:
        check_crs(zones, hotspots, "points_chauds")
        spots = hotspots
        if "theme" in hotspots and hotspots["theme"].eq("tous").any():
            spots = hotspots[hotspots["theme"].eq("tous")]  # all-theme clusters only
        zi, _ = pairs(zones, gpd.GeoDataFrame(geometry=spots.geometry.representative_point()))
        rows.add(
            "points_chauds",
            "Points chauds des ressentis",
            "nombre",
            pd.Series(np.bincount(zi, minlength=len(zones)).astype(float), index=zones.index),
            kinds=("annotations",),
            note="grappes des annotations de la marche et des rues citées par la FUB 2017"
            if with_fub
            else "grappes des annotations de la marche",
        )
    streets = layers.get("rues_citees")
    lbl_n = "Rues citées comme problématiques à vélo (FUB 2017)"
    lbl_v = "Votes pour ces rues (FUB 2017)"
    if streets is None:
        rows.unavailable(
            "rues_citees", lbl_n, "nombre", missing_layer("rues_citees"), kinds=("rues_citees",)
        )
        rows.unavailable(
            "votes_rues_citees",
            lbl_v,
            "votes",
            missing_layer("rues_citees"),
            kinds=("rues_citees",),
        )
    else:
        fub = problem_streets(zones, streets)
        rows.add("rues_citees", lbl_n, "nombre", fub["rues_citees"], kinds=("rues_citees",))
        rows.add(
            "votes_rues_citees", lbl_v, "votes", fub["votes_rues_citees"], kinds=("rues_citees",)
        )
    return rows.frame()
