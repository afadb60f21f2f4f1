"""Centralised validation of geospatial input.

Every check states what is wrong, where (file, layer, feature number) and how to fix it, in
French, and records it in a :class:`ValidationReport`. Checks repair what can be repaired
(missing CRS inferred with a warning, swapped coordinates put back, invalid geometries made
valid) and only raise when nothing sensible can be done (empty layer, missing required field,
no geometry of an accepted type). Records that cannot be kept are never dropped silently: they
are returned as rejects with their reason.

Examples
--------
>>> import warnings
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> gdf = gpd.GeoDataFrame(geometry=[Point(48.85, 2.35), Point(2.29, 48.86)])  # no CRS
>>> report = ValidationReport()
>>> ref = SourceRef("gares.geojson")
>>> with warnings.catch_warnings():  # the inference and the fix are warned about
...     warnings.simplefilter("ignore")
...     gdf = infer_crs(gdf, ref, report)
...     gdf, n = fix_swapped_coordinates(gdf, ref, report)
>>> gdf.crs.to_epsg()
4326
>>> n, float(round(gdf.geometry.iloc[0].x, 2))
(1, 2.35)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo.errors import (
    CoordinatesSwappedWarning,
    CRSError,
    CRSInferredWarning,
    EmptyLayerError,
    GeometryRepairedWarning,
    MissingFieldError,
    WrongGeometryTypeError,
)

__all__ = [
    "FRANCE_BOUNDS_L93",
    "FRANCE_BOUNDS_WGS84",
    "IDF_BOUNDS_L93",
    "IDF_BOUNDS_WGS84",
    "Issue",
    "SourceRef",
    "ValidationReport",
    "check_crs_area",
    "check_geometry_types",
    "check_not_empty",
    "check_required_fields",
    "drop_missing_geometries",
    "fix_swapped_coordinates",
    "infer_crs",
    "repair_geometries",
]

# (xmin, ymin, xmax, ymax)
IDF_BOUNDS_WGS84 = (1.40, 48.10, 3.60, 49.25)
IDF_BOUNDS_L93 = (585_000.0, 6_775_000.0, 745_000.0, 6_910_000.0)
FRANCE_BOUNDS_WGS84 = (-5.6, 41.2, 10.0, 51.2)
FRANCE_BOUNDS_L93 = (50_000.0, 6_040_000.0, 1_250_000.0, 7_120_000.0)


@dataclass(frozen=True)
class SourceRef:
    """Where data comes from, for messages: a file and, optionally, a layer inside it."""

    file: str
    layer: str | None = None
    row_offset: int = 1  # added to 0-based positions to give the number users see

    def where(self, rows: Sequence[int] | np.ndarray | None = None) -> str:
        """French location string: « fichier.gpkg, couche x, entités 3, 7 »."""
        text = self.file
        if self.layer:
            text += f", couche « {self.layer} »"
        if rows is not None and len(rows):
            shown = ", ".join(str(r + self.row_offset) for r in list(rows)[:10])
            more = f" (et {len(rows) - 10} autres)" if len(rows) > 10 else ""
            label = "entité" if len(rows) == 1 else "entités"
            text += f", {label} {shown}{more}"
        return text


@dataclass
class Issue:
    """One finding of the validation."""

    level: str  # "erreur" | "avertissement" | "correction" | "info"
    message: str
    source: SourceRef | None = None
    rows: tuple[int, ...] = ()

    def __str__(self) -> str:
        where = f"{self.source.where(self.rows)} : " if self.source else ""
        return f"[{self.level}] {where}{self.message}"


@dataclass
class ValidationReport:
    """Findings of a validation run, plus the rejected records."""

    issues: list[Issue] = field(default_factory=list)
    rejects: list[pd.DataFrame] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(
        self, level: str, message: str, source: SourceRef | None = None, rows: Iterable[int] = ()
    ) -> Issue:
        """Record a finding and return it."""
        issue = Issue(level, message, source, tuple(int(r) for r in rows))
        self.issues.append(issue)
        return issue

    def reject(self, frame: pd.DataFrame, reason: str, source: SourceRef) -> None:
        """Keep rejected records with their file, layer, feature number and reason."""
        if frame.empty:
            return
        out = pd.DataFrame(
            {
                "fichier": source.file,
                "couche": source.layer or "",
                "entite": [int(i) + source.row_offset for i in frame.index],
                "raison": reason,
            }
        )
        attrs = frame.drop(columns=[c for c in frame.columns if c == "geometry"], errors="ignore")
        out["attributs"] = [
            "; ".join(f"{k}={v}" for k, v in row.items() if pd.notna(v))
            for row in attrs.astype(object).to_dict("records")
        ]
        self.rejects.append(out)

    def extend(self, other: ValidationReport) -> None:
        """Append another report's findings."""
        self.issues.extend(other.issues)
        self.rejects.extend(other.rejects)
        self.counts.update(other.counts)

    @property
    def has_errors(self) -> bool:
        """Whether any finding is an error."""
        return any(i.level == "erreur" for i in self.issues)

    def rejects_frame(self) -> pd.DataFrame:
        """All rejected records in one table."""
        if not self.rejects:
            return pd.DataFrame(columns=["fichier", "couche", "entite", "raison", "attributs"])
        return pd.concat(self.rejects, ignore_index=True)

    def to_text(self) -> str:
        """The report as French text, one finding per line."""
        return "\n".join(str(i) for i in self.issues)


def _bounds_within(bounds: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    return (
        (bounds[:, 0] >= box[0])
        & (bounds[:, 2] <= box[2])
        & (bounds[:, 1] >= box[1])
        & (bounds[:, 3] <= box[3])
    )


def infer_crs(
    gdf: gpd.GeoDataFrame, source: SourceRef, report: ValidationReport
) -> gpd.GeoDataFrame:
    """Infer a missing CRS (WGS84 or Lambert-93) from the coordinate ranges.

    Never guesses silently: the inference is reported and warned about
    (:class:`~qmi_geo.errors.CRSInferredWarning`). Raises :class:`~qmi_geo.errors.CRSError`
    when the ranges fit neither.
    """
    if gdf.crs is not None:
        return gdf
    geoms = gdf.geometry[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if geoms.empty:
        return gdf
    xmin, ymin, xmax, ymax = geoms.total_bounds
    if xmin >= -180 and xmax <= 180 and ymin >= -90 and ymax <= 90:
        epsg, name = 4326, "WGS84 (degrés, EPSG:4326)"
    elif xmin >= 0 and xmax <= 1_300_000 and ymin >= 6_000_000 and ymax <= 7_200_000:
        epsg, name = 2154, "Lambert-93 (mètres, EPSG:2154)"
    elif xmin >= 6_000_000 and xmax <= 7_200_000 and ymin >= 0 and ymax <= 1_300_000:
        epsg, name = 2154, "Lambert-93 (mètres, EPSG:2154), X et Y inversés"
    else:
        raise CRSError(
            f"{source.where()} : aucun système de coordonnées n'est déclaré et les coordonnées "
            f"(x de {xmin:.6g} à {xmax:.6g}, y de {ymin:.6g} à {ymax:.6g}) ne ressemblent ni à "
            "du WGS84 ni à du Lambert-93. Déclarez le système de coordonnées du fichier (par "
            "exemple un .prj pour un Shapefile, ou « Définir la projection » dans QGIS)."
        )
    msg = (
        f"aucun système de coordonnées déclaré ; {name} déduit de l'étendue des coordonnées. "
        "Vérifiez-le et déclarez-le dans le fichier pour ne plus voir ce message."
    )
    report.add("avertissement", msg, source)
    warnings.warn(f"{source.where()} : {msg}", CRSInferredWarning, stacklevel=2)
    return gdf.set_crs(epsg)


def _swap_xy(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: xy[:, ::-1])


def fix_swapped_coordinates(
    gdf: gpd.GeoDataFrame, source: SourceRef, report: ValidationReport
) -> tuple[gpd.GeoDataFrame, int]:
    """Detect and fix features whose latitude and longitude (or X and Y) are swapped.

    A feature is swapped when it lies outside Île-de-France in the declared order and inside
    it once its coordinates are swapped. Works on geographic (WGS84) and Lambert-93 data;
    returns the fixed frame and the number of fixed features.
    """
    if gdf.crs is None or gdf.empty:
        return gdf, 0
    epsg = gdf.crs.to_epsg()
    if epsg == 4326 or gdf.crs.is_geographic:
        box = IDF_BOUNDS_WGS84
    elif epsg == 2154:
        box = IDF_BOUNDS_L93
    else:
        return gdf, 0
    geoms = gdf.geometry.values
    valid = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    bounds = shapely.bounds(geoms)
    swapped_bounds = bounds[:, [1, 0, 3, 2]]
    swapped = valid & ~_bounds_within(bounds, box) & _bounds_within(swapped_bounds, box)
    n = int(swapped.sum())
    if n:
        new = np.array(geoms, dtype=object)
        new[swapped] = _swap_xy(new[swapped])
        gdf = gdf.copy()
        gdf[gdf.geometry.name] = gpd.GeoSeries(new, index=gdf.index, crs=gdf.crs)
        rows = np.flatnonzero(swapped)
        msg = (
            f"{n} entité(s) avaient la latitude et la longitude (ou X et Y) inversées ; "
            "elles ont été remises dans l'ordre. Corrigez l'ordre des colonnes à la source."
        )
        report.add("correction", msg, source, rows)
        warnings.warn(f"{source.where(rows)} : {msg}", CoordinatesSwappedWarning, stacklevel=2)
    return gdf, n


_POLY = {"Polygon", "MultiPolygon"}
_LINE = {"LineString", "MultiLineString"}
_POINT = {"Point", "MultiPoint"}


def _family(types: Iterable[str]) -> set[str]:
    out = set()
    for t in types:
        out |= {t} & (_POLY | _LINE | _POINT)
    return out


def _keep_family(geom: shapely.Geometry, family: set[str]) -> shapely.Geometry:
    """From a GeometryCollection, keep the parts of the wanted family (as a multi-part)."""
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in family]
    if not parts:
        return geom
    if family & _POLY:
        return shapely.union_all(parts) if len(parts) > 1 else parts[0]
    if family & _LINE:
        return shapely.multilinestrings(parts) if len(parts) > 1 else parts[0]
    return shapely.multipoints(parts) if len(parts) > 1 else parts[0]


def repair_geometries(
    gdf: gpd.GeoDataFrame,
    source: SourceRef,
    report: ValidationReport,
    *,
    accepted: Iterable[str] | None = None,
) -> tuple[gpd.GeoDataFrame, int]:
    """Repair invalid geometries with ``make_valid`` and report changes of geometry type.

    When ``accepted`` geometry types are given and the repair yields a GeometryCollection
    (e.g. a bow-tie polygon becoming polygons plus a line), the parts of the accepted family
    are kept and the change is reported.
    """
    geoms = gdf.geometry.values
    present = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    invalid = present & ~shapely.is_valid(geoms)
    n = int(invalid.sum())
    if not n:
        return gdf, 0
    rows = np.flatnonzero(invalid)
    before = shapely.get_type_id(geoms[invalid])
    repaired = shapely.make_valid(geoms[invalid])
    family = _family(accepted or ())
    if family:
        repaired = np.array(
            [
                _keep_family(g, family) if g.geom_type == "GeometryCollection" else g
                for g in repaired
            ],
            dtype=object,
        )
    after = shapely.get_type_id(repaired)
    changed = rows[before != after]
    new = np.array(geoms, dtype=object)
    new[invalid] = repaired
    gdf = gdf.copy()
    gdf[gdf.geometry.name] = gpd.GeoSeries(new, index=gdf.index, crs=gdf.crs)
    reasons = shapely.is_valid_reason(geoms[invalid][:3])
    msg = (
        f"{n} géométrie(s) invalide(s) réparée(s) avec make_valid "
        f"(par ex. : {'; '.join(dict.fromkeys(reasons))})"
    )
    if len(changed):
        kinds = sorted({f"{geoms[i].geom_type} → {new[i].geom_type}" for i in changed})
        msg += f" ; {len(changed)} ont changé de type ({', '.join(kinds)})"
    report.add("correction", msg + ".", source, rows)
    warnings.warn(f"{source.where(rows)} : {msg}.", GeometryRepairedWarning, stacklevel=2)
    return gdf, n


def drop_missing_geometries(
    gdf: gpd.GeoDataFrame, source: SourceRef, report: ValidationReport
) -> gpd.GeoDataFrame:
    """Move features without geometry to the rejects, with the reason."""
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        rows = np.flatnonzero(missing.to_numpy())
        report.add(
            "avertissement",
            f"{int(missing.sum())} entité(s) sans géométrie mise(s) dans les rejets.",
            source,
            rows,
        )
        report.reject(gdf[missing.to_numpy()], "géométrie vide ou absente", source)
        gdf = gdf[~missing.to_numpy()]
    return gdf


def check_not_empty(gdf: gpd.GeoDataFrame, source: SourceRef) -> None:
    """Raise :class:`~qmi_geo.errors.EmptyLayerError` when a layer has no feature."""
    if len(gdf) == 0:
        raise EmptyLayerError(
            f"{source.where()} : la couche est vide (aucune entité). Vérifiez le nom de la "
            "couche et le filtre éventuel, ou retirez cette source du fichier de diagnostic."
        )


def check_required_fields(
    gdf: pd.DataFrame, required: Sequence[str], source: SourceRef, *, kind: str = ""
) -> None:
    """Raise :class:`~qmi_geo.errors.MissingFieldError` naming every missing field."""
    missing = [f for f in required if f not in gdf.columns]
    if missing:
        present = ", ".join(c for c in gdf.columns if c != "geometry") or "aucun"
        what = f" pour une couche « {kind} »" if kind else ""
        raise MissingFieldError(
            f"{source.where()} : champ(s) obligatoire(s) absent(s){what} : "
            f"{', '.join(missing)}. Champs présents : {present}. Renommez le champ dans le "
            "fichier ou indiquez la correspondance dans la source (clé « fields »)."
        )


def check_geometry_types(
    gdf: gpd.GeoDataFrame,
    accepted: Iterable[str],
    source: SourceRef,
    report: ValidationReport,
    *,
    kind: str = "",
) -> gpd.GeoDataFrame:
    """Keep features of an accepted geometry type; reject the others with the reason.

    Raises :class:`~qmi_geo.errors.WrongGeometryTypeError` when no feature has an accepted
    type (the layer was most likely given for the wrong kind).
    """
    accepted = set(accepted)
    types = gdf.geometry.geom_type
    ok = types.isin(accepted).to_numpy()
    if ok.all():
        return gdf
    found = ", ".join(sorted(set(types.dropna()) - accepted))
    if not ok.any():
        raise WrongGeometryTypeError(
            f"{source.where()} : géométries de type {found} alors qu'une couche « {kind} » "
            f"attend {', '.join(sorted(accepted))}. Vérifiez que le fichier est bien la bonne "
            "couche pour ce type de donnée."
        )
    rows = np.flatnonzero(~ok)
    report.add(
        "avertissement",
        f"{len(rows)} entité(s) de type {found} non accepté(es) pour « {kind} » "
        "mise(s) dans les rejets.",
        source,
        rows,
    )
    report.reject(gdf[~ok], f"type de géométrie {found} non accepté pour « {kind} »", source)
    return gdf[ok]


@lru_cache(maxsize=32)
def _crs_valid_bounds(crs: Any) -> tuple[float, float, float, float] | None:
    """A CRS's area of use in its own coordinates (a pyproj transformer costs ~20 ms)."""
    area = crs.area_of_use
    if area is None:
        return None
    from pyproj import Transformer

    try:
        xmin, ymin, xmax, ymax = Transformer.from_crs(
            "EPSG:4326", crs, always_xy=True
        ).transform_bounds(area.west, area.south, area.east, area.north)
    except Exception:
        return None
    if crs.is_geographic:
        return -180.0, -90.0, 180.0, 90.0
    return xmin, ymin, xmax, ymax


def check_crs_area(gdf: gpd.GeoDataFrame, source: SourceRef) -> str | None:
    """Why a layer's coordinates cannot be in its declared CRS, or None when they can.

    The layer's bounds are compared with the declared CRS's area of use (from the EPSG
    database, via pyproj), with a margin of a tenth of that area: Lambert-93 metres
    declared as WGS84 degrees, or degrees declared as Lambert-93, fall far outside.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> wrong = gpd.GeoDataFrame(geometry=[Point(2.49, 48.93)], crs=2154)
    >>> print(check_crs_area(wrong, SourceRef("qpv.gpkg")))  # doctest: +ELLIPSIS
    qpv.gpkg : coordonnées (x de 2.49 à 2.49, y de 48.93 à 48.93) hors de la zone de validité...
    >>> check_crs_area(wrong.set_crs(4326, allow_override=True), SourceRef("qpv.gpkg")) is None
    True
    """
    crs = gdf.crs
    geoms = gdf.geometry[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if crs is None or geoms.empty:
        return None
    valid = _crs_valid_bounds(crs)
    if valid is None:
        return None
    xmin, ymin, xmax, ymax = valid
    mx, my = 0.1 * (xmax - xmin), 0.1 * (ymax - ymin)
    bx0, by0, bx1, by1 = geoms.total_bounds
    if bx0 >= xmin - mx and bx1 <= xmax + mx and by0 >= ymin - my and by1 <= ymax + my:
        return None
    name = crs.name
    code = crs.to_epsg()
    label = f"{name} (EPSG:{code})" if code else name
    return (
        f"{source.where()} : coordonnées (x de {bx0:.6g} à {bx1:.6g}, y de {by0:.6g} à "
        f"{by1:.6g}) hors de la zone de validité du système de coordonnées déclaré {label}. "
        "Le fichier déclare sans doute un mauvais système : corrigez-le (« Définir la "
        "projection » dans QGIS)."
    )
