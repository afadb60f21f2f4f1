"""Read geographic walk files.

GeoJSON (uMap), KML/KMZ (Google My Maps, uMap), GPX, GeoPackage (QField) and Shapefile.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import shape

from qmi_geo.errors import WalkError
from qmi_geo.walks._readers._raw import RawWalk, blank_where

__all__ = ["read_geojson_walk", "read_gpx_walk", "read_kml_walk", "read_ogr_walk"]

# KML housekeeping fields that carry no participant content.
_KML_NOISE = (
    "id",
    "timestamp",
    "begin",
    "end",
    "altitudeMode",
    "tessellate",
    "extrude",
    "visibility",
    "drawOrder",
    "icon",
    "snippet",
)
_ROUTE_LAYER_WORDS = ("parcours", "trace", "track", "itineraire", "route", "chemin")


def _from_geometries(
    path: Path,
    fmt: str,
    table: pd.DataFrame,
    geoms: np.ndarray,
    lines: np.ndarray,
    crs: str | None,
    problem: np.ndarray,
    title_columns: list[str],
    messages: list[str],
    route: gpd.GeoDataFrame | None = None,
) -> RawWalk:
    """Build a RawWalk from shapely geometries (points, lines or zones)."""
    geoms = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(geoms)
    geoms = blank_where(missing, geoms)
    geoms = shapely.force_2d(geoms)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    problem = np.where(
        empty & (problem == ""),
        "géométrie absente (élément sans position) : placez-le sur la carte et réexportez",
        problem,
    )
    is_point = shapely.get_type_id(geoms) == 0
    rep = shapely.point_on_surface(blank_where(empty, geoms))
    x = np.where(empty, np.nan, shapely.get_x(rep))
    y = np.where(empty, np.nan, shapely.get_y(rep))
    shapes = blank_where(is_point | empty, geoms)
    coord_text = pd.Series(
        [shapely.to_wkt(g, rounding_precision=7) if g is not None else "" for g in geoms],
        index=table.index,
        dtype=object,
    ).astype(str)
    return RawWalk(
        path=path,
        format=fmt,
        table=table.reset_index(drop=True),
        lines=lines,
        x=np.asarray(x, float),
        y=np.asarray(y, float),
        crs=crs,
        coord_text=coord_text.reset_index(drop=True),
        coord_problem=pd.Series(problem, dtype=object).astype(str),
        shapes=shapes if (~is_point & ~empty).any() else None,
        route=route,
        title_columns=title_columns,
        messages=messages,
    )


#: Words in a line's or zone's title (or its folder / layer) that make it the walk's route.
_ROUTE_TITLE_WORDS = ("parcours", "trace", "itineraire", "trajet", "track", "cheminement")


def _split_routes(
    table: pd.DataFrame,
    geoms: np.ndarray,
    lines: np.ndarray,
    problem: np.ndarray,
    titles: list[str],
    crs: str | None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, gpd.GeoDataFrame | None]:
    """Move the lines and zones that are the walk's route out of the annotations.

    A line or zone is a route when its title, or its folder/layer name, says so
    (« Parcours », « Tracé de la marche »...), or when it carries no text at all (a bare
    line drawn in uMap or My Maps). Lines with a theme or a comment stay annotations
    (« Franchissement des voies »).
    """
    geoms = np.asarray(geoms, dtype=object)
    kind = shapely.get_type_id(geoms)
    shaped = np.isin(kind, [1, 2, 3, 5, 6]) & ~shapely.is_empty(geoms)
    if not shaped.any():
        return table, geoms, lines, problem, None
    from qmi_geo.walks._themes import normalise_text

    text = pd.Series("", index=table.index, dtype=object)
    for col in titles:
        text = text + " " + table[col].map(normalise_text)
    words = text.str.split()
    named = words.map(lambda w: any(t in w for t in _ROUTE_TITLE_WORDS)).to_numpy(dtype=bool)
    content_cols = [c for c in table.columns if c not in ("couche",)]
    if content_cols:
        filled = table[content_cols].map(lambda v: normalise_text(v) != "").any(axis=1)
        bare = ~filled.to_numpy(dtype=bool)
    else:
        bare = np.ones(len(table), dtype=bool)
    route = shaped & (named | bare)
    if not route.any():
        return table, geoms, lines, problem, None
    name_col = next((c for c in titles if c != "couche"), None)
    names = (
        table.loc[route, name_col].fillna("").astype(str).to_numpy()
        if name_col
        else np.full(int(route.sum()), "")
    )
    route_gdf = gpd.GeoDataFrame(
        {"nom": names}, geometry=shapely.force_2d(geoms[route]), crs=crs or "EPSG:4326"
    )
    keep = ~route
    return (
        table.loc[keep].reset_index(drop=True),
        geoms[keep],
        lines[keep],
        problem[keep],
        route_gdf,
    )


def _object_array(items: list[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _crs_of_geojson(doc: dict[str, Any]) -> str:
    name = str(((doc.get("crs") or {}).get("properties") or {}).get("name", ""))
    if name.endswith(("2154", "2154:")) or "2154" in name:
        return "EPSG:2154"
    return "EPSG:4326"


def read_geojson_walk(path: Path) -> RawWalk:
    """Read a GeoJSON FeatureCollection, a uMap GeoJSON export or a ``.umap`` backup.

    uMap's ``_umap_options`` (styling) are dropped; ``name`` and ``description`` are kept.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WalkError(
            f"Le fichier {path.name} n'est pas un GeoJSON valide ({exc}). Réexportez-le depuis "
            "uMap (Partager > Télécharger > GeoJSON)."
        ) from None
    if isinstance(doc, dict) and "layers" in doc and doc.get("type") == "umap":
        features = [f for layer in doc["layers"] for f in layer.get("features", [])]
    elif isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features") or []
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    else:
        raise WalkError(
            f"Le fichier {path.name} ne contient ni FeatureCollection GeoJSON ni carte uMap."
        )
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    problem: list[str] = []
    for feature in features:
        props = dict(feature.get("properties") or {})
        props.pop("_umap_options", None)
        rows.append(
            {
                k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                for k, v in props.items()
            }
        )
        raw = feature.get("geometry")
        try:
            geoms.append(shape(raw) if raw else None)
            problem.append("")
        except (ValueError, TypeError, KeyError, AttributeError, IndexError):
            geoms.append(None)
            problem.append("géométrie GeoJSON illisible : réexportez le fichier depuis uMap")
    table = pd.DataFrame(rows, index=pd.RangeIndex(len(rows)))
    if table.empty and len(rows):
        table = pd.DataFrame(index=pd.RangeIndex(len(rows)))
    lines = np.arange(1, len(rows) + 1, dtype="int64")
    titles = [c for c in ("name", "nom", "titre", "title") if c in table.columns]
    crs = _crs_of_geojson(doc)
    messages = [f"{len(rows)} élément(s) GeoJSON"]
    table, shapes, lines, problems, route = _split_routes(
        table, _object_array(geoms), lines, np.array(problem, dtype=object), titles, crs
    )
    if route is not None:
        messages.append(_route_message(len(route)))
    return _from_geometries(
        path, "geojson", table, shapes, lines, crs, problems, titles, messages, route
    )


def _route_message(n: int) -> str:
    return f"{n} ligne(s) ou zone(s) du parcours de la marche mise(s) dans la couche « parcours »"


def _read_layers(
    path: Path | io.BytesIO, layers: list[str]
) -> tuple[pd.DataFrame, np.ndarray, str | None]:
    """Read vector layers through GDAL into one table of attributes + geometries in WGS84."""
    frames = []
    for layer in layers:
        if isinstance(path, io.BytesIO):
            path.seek(0)
        gdf = pyogrio.read_dataframe(path, layer=layer)
        if gdf.crs is not None and len(gdf):
            gdf = gdf.to_crs(4326)
        gdf["couche"] = layer
        frames.append(gdf)
    if not frames:
        return pd.DataFrame(), np.array([], dtype=object), "EPSG:4326"
    crs = "EPSG:4326" if all(f.crs is not None for f in frames) else None
    gdf = pd.concat(frames, ignore_index=True)
    geom_col = gdf.geometry.name if isinstance(gdf, gpd.GeoDataFrame) else "geometry"
    geoms = np.asarray(gdf[geom_col].array, dtype=object)
    return pd.DataFrame(gdf.drop(columns=[geom_col])), geoms, crs


def _kml_text(path: Path) -> str:
    if path.suffix.lower() == ".kmz":
        with zipfile.ZipFile(path) as z:
            name = next((n for n in z.namelist() if n.lower().endswith(".kml")), None)
            return z.read(name).decode("utf-8", errors="replace") if name else ""
    return path.read_text(encoding="utf-8", errors="replace")


def _restore_kml_names(path: Path, columns: list[str]) -> dict[str, str]:
    """Map ExtendedData names mangled by GDAL back to the names the user typed.

    GDAL's LIBKML driver turns « Intensité » into « Intensit__ ».
    """
    try:
        text = _kml_text(path)
    except (OSError, zipfile.BadZipFile):
        return {}
    names = set(re.findall(r"<(?:\w+:)?(?:Simple)?Data\s+name=\"([^\"]+)\"", text))
    mapping: dict[str, str] = {}
    for name in names:
        mangled = "".join(c if c.isascii() else "_" * len(c.encode()) for c in name)
        if mangled != name and mangled in columns and name not in columns:
            mapping[mangled] = name
    return mapping


def read_kml_walk(path: Path) -> RawWalk:
    """Read a KML or KMZ export from Google My Maps or uMap (all folders).

    Fields: ``Name``, ``description`` and every ``ExtendedData`` field; the folder (layer)
    name is kept in ``couche`` and can serve as the theme.
    """
    try:
        # a KMZ is read as the KML inside it: GDAL's KMZ reading drops SchemaData fields
        source: Path | io.BytesIO = (
            io.BytesIO(_kml_text(path).encode("utf-8")) if path.suffix.lower() == ".kmz" else path
        )
        layers = [str(name) for name in pyogrio.list_layers(source)[:, 0]]
        table, geoms, crs = _read_layers(source, layers)
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        zipfile.BadZipFile,
        OSError,
    ) as exc:
        raise WalkError(
            f"Le fichier {path.name} n'est pas un KML/KMZ lisible ({exc}). Réexportez-le "
            "depuis Google My Maps ou uMap."
        ) from None
    table = table.rename(columns=_restore_kml_names(path, list(table.columns)))
    table = _add_extended_data(path, table, layers)
    for col in _KML_NOISE:
        if col in table.columns:
            table = table.drop(columns=col)
    titles = [c for c in ("Name", "name", "couche") if c in table.columns]
    lines = np.arange(1, len(table) + 1, dtype="int64")
    messages = [f"{len(table)} repère(s) dans {len(layers)} dossier(s)"]
    table, shapes, lines, problems, route = _split_routes(
        table, geoms, lines, np.full(len(table), "", dtype=object), titles, crs
    )
    if route is not None:
        messages.append(_route_message(len(route)))
    return _from_geometries(
        path,
        path.suffix.lower().lstrip("."),
        table,
        shapes,
        lines,
        crs,
        problems,
        titles,
        messages,
        route,
    )


def _add_extended_data(path: Path, table: pd.DataFrame, layers: list[str]) -> pd.DataFrame:
    """Fill in the ExtendedData fields (``Data`` and ``SimpleData``) GDAL did not return.

    GDAL drops ``Data`` fields of placemarks that also have ``SchemaData``. Placemarks are
    read from the KML text in document order, per folder, and matched to GDAL's rows in
    the same order; nothing is added if the counts disagree.
    """
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(_kml_text(path).encode("utf-8"))
    except (ET.ParseError, OSError, zipfile.BadZipFile):
        return table

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    records: list[dict[str, str]] = []
    titles: list[str] = []

    def walk(node: ET.Element) -> None:
        for child in node:
            tag = local(child.tag)
            if tag == "Placemark":
                fields: dict[str, str] = {}
                for el in child.iter():
                    name = el.get("name")
                    if local(el.tag) == "Data" and name:
                        value = next((v for v in el if local(v.tag) == "value"), None)
                        fields[name] = (value.text or "").strip() if value is not None else ""
                    elif local(el.tag) == "SimpleData" and name:
                        fields[name] = (el.text or "").strip()
                records.append(fields)
                title = next((c for c in child if local(c.tag) == "name"), None)
                titles.append(((title.text or "") if title is not None else "").strip())
            elif tag in ("Document", "Folder"):
                walk(child)

    walk(root)
    if len(records) != len(table) or not any(records):
        return table
    if "Name" in table.columns:  # the same placemarks in the same order, or nothing added
        gdal_titles = table["Name"].fillna("").astype(str).str.strip().tolist()
        if gdal_titles != titles:
            return table
    extra = pd.DataFrame(records, index=table.index)
    out = table.copy()
    for col in extra.columns:
        if col not in out.columns:
            out[col] = extra[col].replace("", None)
        else:
            out[col] = out[col].where(out[col].notna(), extra[col].replace("", None))
    return out


def read_gpx_walk(path: Path) -> RawWalk:
    """Read a GPX file: waypoints become annotations, tracks and routes the walk's route."""
    try:
        layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except pyogrio.errors.DataSourceError as exc:
        raise WalkError(f"Le fichier {path.name} n'est pas un GPX lisible ({exc}).") from None
    route_parts = []
    for layer in ("tracks", "routes"):
        if layer in layers:
            gdf = pyogrio.read_dataframe(path, layer=layer)
            gdf = gdf[~(gdf.geometry.is_empty | gdf.geometry.isna())]
            if len(gdf):
                route_parts.append(
                    gpd.GeoDataFrame(
                        {"nom": gdf.get("name", pd.Series("", index=gdf.index)).fillna("")},
                        geometry=shapely.force_2d(gdf.geometry.array),
                        crs=gdf.crs or 4326,
                    )
                )
    route = (
        gpd.GeoDataFrame(pd.concat(route_parts, ignore_index=True), crs=4326)
        if route_parts
        else None
    )
    if "waypoints" in layers:
        table, geoms, crs = _read_layers(path, ["waypoints"])
        table = table.drop(columns=["couche"])
        table = table.loc[:, table.notna().any()]
    else:
        table, geoms, crs = pd.DataFrame(), np.array([], dtype=object), "EPSG:4326"
    messages = [f"{len(table)} point(s) de passage (waypoints)"]
    if route is not None:
        messages.append(f"{len(route)} trace(s) du parcours")
    lines = np.arange(1, len(table) + 1, dtype="int64")
    titles = [c for c in ("name", "type", "sym") if c in table.columns]
    return _from_geometries(
        path,
        "gpx",
        table,
        geoms,
        lines,
        crs,
        np.full(len(table), "", dtype=object),
        titles,
        messages,
        route,
    )


def read_ogr_walk(path: Path) -> RawWalk:
    """Read a GeoPackage (QField project) or a Shapefile.

    Every spatial layer is read; line layers whose name says « parcours », « trace »,
    « track »... become the walk's route, the others annotations.
    """
    try:
        info = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as exc:
        raise WalkError(f"Le fichier {path.name} n'est pas lisible par GDAL ({exc}).") from None
    spatial = [str(name) for name, gtype in info if gtype is not None]
    routes = [n for n in spatial if any(w in n.lower() for w in _ROUTE_LAYER_WORDS)]
    annotations = [n for n in spatial if n not in routes]
    if not annotations:
        raise WalkError(
            f"Aucune couche de points dans {path.name} (couches : {', '.join(spatial) or '—'})."
        )
    route = None
    if routes:
        parts = [pyogrio.read_dataframe(path, layer=n) for n in routes]
        route_df = pd.concat([p.to_crs(4326) if p.crs else p for p in parts], ignore_index=True)
        route = gpd.GeoDataFrame(
            {"nom": [""] * len(route_df)},
            geometry=shapely.force_2d(route_df.geometry.array),
            crs=4326,
        )
    table, geoms, crs = _read_layers(path, annotations)
    if len(annotations) == 1:
        table = table.drop(columns=["couche"])
    titles = [c for c in ("name", "nom", "titre", "couche") if c in table.columns]
    lines = np.arange(1, len(table) + 1, dtype="int64")
    fmt = "gpkg" if path.suffix.lower() == ".gpkg" else "shp"
    return _from_geometries(
        path,
        fmt,
        table,
        geoms,
        lines,
        crs,
        np.full(len(table), "", dtype=object),
        titles,
        [f"couche(s) lue(s) : {', '.join(annotations)}"],
        route,
    )
