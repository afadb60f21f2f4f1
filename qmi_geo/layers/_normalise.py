"""Normalise a layer to its kind: CRS, coordinate order, validity, fields, clipping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo._validate import (
    SourceRef,
    ValidationReport,
    check_geometry_types,
    check_not_empty,
    check_required_fields,
    drop_missing_geometries,
    fix_swapped_coordinates,
    infer_crs,
    repair_geometries,
)
from qmi_geo.errors import LayerError
from qmi_geo.layers._schemas import KINDS, LayerKind
from qmi_geo.style import BREAK_KINDS, SITE_KINDS

__all__ = ["LAMBERT93", "clip_to", "map_fields", "normalise_layer"]

LAMBERT93 = 2154

_BOOL_TRUE = {"1", "true", "vrai", "oui", "yes", "t", "o", "y"}


def map_fields(
    gdf: gpd.GeoDataFrame,
    kind: LayerKind,
    *,
    fields: Mapping[str, str] | None = None,
    constants: Mapping[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    """Rename source fields to the kind's canonical names and coerce their types.

    ``fields`` maps canonical names to source field names and wins over the kind's aliases;
    ``constants`` sets a canonical field to one value for every feature (e.g. ``type = "rail"``
    for a railway layer). Source fields that are not mapped are kept as they are.
    """
    gdf = gdf.copy()
    explicit = dict(fields or {})
    lower = {c.lower(): c for c in gdf.columns}
    for spec in kind.fields:
        if spec.name in explicit:
            src = explicit[spec.name]
            if src not in gdf.columns:
                raise LayerError(
                    f"champ « {src} » introuvable pour « {spec.name} » ; champs présents : "
                    f"{', '.join(c for c in gdf.columns if c != 'geometry')}."
                )
        elif spec.name in gdf.columns:
            continue
        else:
            found = next((lower[a.lower()] for a in spec.aliases if a.lower() in lower), None)
            if found is None or found == gdf.geometry.name:
                continue
            src = str(found)
        if spec.name in gdf.columns and src != spec.name:
            gdf = gdf.rename(columns={spec.name: f"{spec.name}_source"})
        gdf[spec.name] = gdf[src]
        if src != spec.name and src.lower() == spec.name:  # same name, other case: keep one
            gdf = gdf.drop(columns=[src])
    for key, value in (constants or {}).items():
        gdf[key] = value
    for spec in kind.fields:
        if spec.name in gdf.columns:
            gdf[spec.name] = _coerce(gdf[spec.name], spec.dtype)
    return gdf


def _coerce(series: pd.Series, dtype: str) -> pd.Series:
    if dtype == "str":
        return series.astype("string").str.strip().astype(object).where(series.notna(), None)
    if dtype in ("float", "int"):
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            series = pd.to_numeric(
                series.astype("string").str.replace(",", ".", regex=False), errors="coerce"
            )
        return series.astype("Int64") if dtype == "int" else series.astype(float)
    if dtype == "bool":
        if pd.api.types.is_bool_dtype(series):
            return series
        return series.astype("string").str.strip().str.lower().isin(_BOOL_TRUE).astype(bool)
    return series


def clip_to(gdf: gpd.GeoDataFrame, area: shapely.Geometry, kind: LayerKind) -> gpd.GeoDataFrame:
    """Keep what concerns ``area``.

    Polygons and points intersecting it are kept whole (so that area-weighted indicators
    stay right); lines are cut to it.
    """
    if gdf.empty:
        return gdf
    idx = gdf.sindex.query(area, predicate="intersects")
    out = gdf.iloc[np.sort(idx)].copy()
    lines = out.geometry.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    if lines.any():
        cut = out.geometry[lines].intersection(area)
        cut = cut.map(lambda g: _keep_lines(g))
        out.loc[lines, out.geometry.name] = cut
        out = out[~(out.geometry.isna() | out.geometry.is_empty)]
    return out


def _keep_lines(geom: shapely.Geometry) -> shapely.Geometry | None:
    if geom.geom_type in ("LineString", "MultiLineString"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "LineString"]
    return shapely.multilinestrings(parts) if parts else None


def normalise_layer(
    gdf: gpd.GeoDataFrame,
    kind: str,
    source: SourceRef,
    report: ValidationReport,
    *,
    fields: Mapping[str, str] | None = None,
    constants: Mapping[str, Any] | None = None,
    clip: shapely.Geometry | None = None,
    before_clip: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame] | None = None,
) -> gpd.GeoDataFrame:
    """Validate a raw layer and bring it to its kind's schema in Lambert-93.

    Steps: infer a missing CRS (warned), fix swapped coordinates, reproject to EPSG:2154,
    reject features without geometry, repair invalid geometries, keep accepted geometry
    types, map fields to canonical names, check required fields and vocabularies, clip.
    Every step records what it did in ``report``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> raw = gpd.GeoDataFrame(
    ...     {"res_com": ["RER B"]}, geometry=[LineString([(2.49, 48.93), (2.50, 48.94)])], crs=4326
    ... )
    >>> out = normalise_layer(
    ...     raw,
    ...     "coupures",
    ...     SourceRef("rail.geojson"),
    ...     ValidationReport(),
    ...     constants={"type": "rail"},
    ... )
    >>> out.crs.to_epsg(), out.loc[0, "type"], out.loc[0, "nom"]
    (2154, 'rail', 'RER B')
    """
    if kind not in KINDS:
        raise LayerError(
            f"type de couche inconnu « {kind} » ; types possibles : {', '.join(KINDS)}."
        )
    spec = KINDS[kind]
    check_not_empty(gdf, source)
    gdf = gdf.reset_index(drop=True)
    gdf = drop_missing_geometries(gdf, source, report)
    check_not_empty(gdf, source)
    gdf = infer_crs(gdf, source, report)
    gdf, _ = fix_swapped_coordinates(gdf, source, report)
    if gdf.crs.to_epsg() != LAMBERT93:
        report.add(
            "info", f"reprojeté de {gdf.crs.to_string()} vers Lambert-93 (EPSG:2154).", source
        )
        gdf = gdf.to_crs(LAMBERT93)
    gdf, _ = fix_swapped_coordinates(gdf, source, report)
    gdf, _ = repair_geometries(gdf, source, report, accepted=spec.geom_types)
    gdf = check_geometry_types(gdf, spec.geom_types, source, report, kind=kind)
    try:
        gdf = map_fields(gdf, spec, fields=fields, constants=constants)
    except LayerError as exc:
        raise LayerError(f"{source.where()} : {exc}") from None
    check_required_fields(gdf, spec.required, source, kind=kind)
    gdf = _check_vocabulary(gdf, kind, source, report)
    if gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).any():
        # whole-feature area before any clipping, for area-weighted indicators
        gdf["surface_origine_m2"] = gdf.geometry.area
    if before_clip is not None:  # a whole-layer step (IRIS populations reconciled per commune)
        gdf = before_clip(gdf)
    if clip is not None:
        n = len(gdf)
        gdf = clip_to(gdf, clip, spec)
        report.add("info", f"{len(gdf)} entité(s) sur {n} dans le quartier et son tampon.", source)
    if kind == "sites":
        if "surface_m2" not in gdf.columns:
            gdf["surface_m2"] = float("nan")
        polys = gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        missing = gdf["surface_m2"].isna().to_numpy() & polys
        gdf.loc[missing, "surface_m2"] = gdf.geometry[missing].area
    return gdf


def _check_vocabulary(
    gdf: gpd.GeoDataFrame, kind: str, source: SourceRef, report: ValidationReport
) -> gpd.GeoDataFrame:
    vocabularies: dict[str, dict[str, Any]] = {"coupures": BREAK_KINDS, "sites": SITE_KINDS}
    vocab = vocabularies.get(kind)
    if vocab is None or "type" not in gdf.columns:
        return gdf
    values = gdf["type"].astype("string").str.strip().str.lower()
    unknown = ~values.isin(list(vocab)) | values.isna()
    if unknown.any():
        rows = np.flatnonzero(unknown.to_numpy())
        bad = sorted(set(values[unknown].fillna("(vide)")))
        report.add(
            "avertissement",
            f"type(s) inconnu(s) {', '.join(bad)} pour « {kind} » (types possibles : "
            f"{', '.join(vocab)}) ; entités mises dans les rejets.",
            source,
            rows,
        )
        report.reject(gdf[unknown.to_numpy()], f"type inconnu pour « {kind} »", source)
    gdf = gdf[~unknown.to_numpy()].copy()
    gdf["type"] = values[~unknown].astype(object)
    return gdf
