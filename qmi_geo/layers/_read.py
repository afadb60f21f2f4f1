"""Read vector and raster sources through pyogrio and rasterio.

:func:`read_vector` reads whatever GDAL reads (GeoPackage with a named layer, GeoJSON,
Shapefile, KML/KMZ, GPX, FlatGeobuf), GeoParquet (through pyarrow) and CSV with coordinate or
WKT columns (separator and encoding detected). :func:`read_raster_info` opens a GeoTIFF and
checks its CRS without loading its pixels.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from qmi_geo._validate import SourceRef, ValidationReport
from qmi_geo.errors import CRSError, LayerError, LayerFileNotFoundError

__all__ = [
    "RasterInfo",
    "read_csv_points",
    "read_raster_info",
    "read_vector",
    "read_vector_cached",
    "sniff_text",
]

VECTOR_SUFFIXES = {
    ".gpkg",
    ".geojson",
    ".json",
    ".shp",
    ".kml",
    ".kmz",
    ".gpx",
    ".fgb",
    ".parquet",
    ".geoparquet",
    ".csv",
    ".tsv",
    ".txt",
    ".zip",
    ".osm",
}

X_NAMES = ("x", "lon", "lng", "long", "longitude", "coord_x", "coordonnee_x", "x_l93", "xl93")
Y_NAMES = ("y", "lat", "latitude", "coord_y", "coordonnee_y", "y_l93", "yl93")
WKT_NAMES = ("wkt", "geometry", "geometrie", "géométrie", "geom", "the_geom")


def sniff_text(path: Path) -> tuple[str, str, str]:
    """Detect encoding and separator of a delimited text file.

    Returns ``(text, encoding, separator)``; tries UTF-8 (with or without BOM) then cp1252.
    """
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly everything
        raise LayerError(f"{path.name} : encodage illisible ; enregistrez le fichier en UTF-8.")
    sample = "\n".join(text.splitlines()[:50])
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=";,\t|").delimiter
    except csv.Error:
        sep = max(";,\t", key=sample.count)
    return text, encoding, sep


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.lower().strip(): c for c in columns}
    for n in names:
        if n in lower:
            return lower[n]
    return None


def _to_float(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    text = series.astype("string").str.strip().str.replace("\u00a0", "", regex=False)
    text = text.str.replace(" ", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce")


def read_csv_points(
    path: Path,
    report: ValidationReport | None = None,
    *,
    x: str | None = None,
    y: str | None = None,
    wkt: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a CSV with coordinate columns (x/y, lon/lat...) or a WKT column.

    Rows whose coordinates cannot be read get an empty geometry (the caller moves them to the
    rejects with their row number). Decimal commas are accepted. The CRS is left unset: the
    validation infers it from the coordinate ranges and says so.
    """
    report = report if report is not None else ValidationReport()
    text, encoding, sep = sniff_text(path)
    df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    source = SourceRef(path.name, row_offset=2)
    if encoding == "cp1252":
        report.add("info", "fichier lu en Windows-1252 (cp1252) ; préférez UTF-8.", source)
    cols = list(df.columns)
    wkt_col = wkt or _find(cols, WKT_NAMES)
    x_col = x or _find(cols, X_NAMES)
    y_col = y or _find(cols, Y_NAMES)
    if wkt_col and wkt_col in df.columns:
        values = df.pop(wkt_col).fillna("").to_numpy(dtype=object)
        geoms = np.empty(len(values), dtype=object)
        for i, v in enumerate(values):
            try:
                geoms[i] = shapely.from_wkt(v) if v else None
            except shapely.errors.GEOSException:
                geoms[i] = None
        geometry = gpd.GeoSeries(geoms, index=df.index)
    elif x_col and y_col:
        xs, ys = _to_float(df[x_col]), _to_float(df[y_col])
        geometry = gpd.GeoSeries(gpd.points_from_xy(xs, ys), index=df.index)
        geometry[xs.isna() | ys.isna()] = None
    else:
        address = [
            c for c in cols if any(k in c.lower() for k in ("adresse", "address", "voie", "rue"))
        ]
        if address:
            raise LayerError(
                f"{path.name} : ce fichier donne des adresses ({', '.join(address)}) mais pas "
                "de coordonnées. Géocodez-le d'abord (par exemple avec le géocodeur de la Base "
                "Adresse Nationale, https://adresse.data.gouv.fr/outils/csv, qui ajoute les "
                "colonnes latitude et longitude), ou ajoutez des colonnes x/y (Lambert-93) ou "
                "lon/lat (WGS84) ; colonnes présentes : " + ", ".join(cols) + "."
            )
        raise LayerError(
            f"{path.name} : impossible de trouver des coordonnées. Colonnes attendues : "
            "x/y, lon/lat, longitude/latitude, ou une colonne WKT ; colonnes présentes : "
            f"{', '.join(cols)}."
        )
    return gpd.GeoDataFrame(df, geometry=geometry, crs=None)


#: formats holding one layer only: nothing to choose, nothing to list
_SINGLE_LAYER = frozenset({".geojson", ".json", ".shp", ".fgb"})


def read_vector(
    path: str | Path,
    layer: str | None = None,
    *,
    where: str | None = None,
    report: ValidationReport | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector source into a GeoDataFrame, as it is (no reprojection, no repair).

    Parameters
    ----------
    path
        A file GDAL reads, a GeoParquet file, or a CSV with coordinates or WKT.
    layer
        Layer name inside a multi-layer source (GeoPackage, KML, GPX). When a GeoPackage
        holds several layers and none is named, a :class:`~qmi_geo.errors.LayerError` lists them.
    where
        Optional attribute filter (OGR SQL ``WHERE`` clause).

    Examples
    --------
    >>> from qmi_geo.layers import bundled_layers_dir
    >>> gdf = read_vector(
    ...     bundled_layers_dir() / "admin_express_2018_gregoiredavid/communes_qmi.gpkg",
    ...     "communes_qmi",
    ... )
    >>> len(gdf), gdf.crs.to_epsg()
    (10, 2154)
    """
    path = Path(path)
    if not path.exists():
        raise LayerFileNotFoundError(
            f"Fichier introuvable : {path}. Vérifiez le chemin (relatif au fichier de "
            "diagnostic ou au dossier layers/)."
        )
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        gdf = read_csv_points(path, report)
        return gdf.query(where) if where else gdf
    if suffix in (".parquet", ".geoparquet"):
        try:
            gdf = gpd.read_parquet(path)
        except (ValueError, OSError) as exc:
            raise LayerError(f"{path.name} : GeoParquet illisible ({exc}).") from None
        return gdf.query(where) if where else gdf
    if layer is not None or suffix in _SINGLE_LAYER:
        # the layer is known: read it at once (listing the layers first opens the file twice,
        # and parses a GeoJSON twice); any failure goes the long way, which says what is wrong
        try:
            return gpd.read_file(path, layer=layer, where=where, engine="pyogrio")
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, UnicodeError):
            pass
    try:
        layers = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as exc:
        raise LayerError(
            f"{path.name} : format non reconnu ou fichier abîmé ({exc}). Formats lus : "
            "GeoPackage, GeoJSON, Shapefile, KML/KMZ, GPX, FlatGeobuf, GeoParquet, CSV."
        ) from None
    names = [str(n) for n in layers[:, 0]]
    if layer is None:
        if suffix == ".gpx":
            wanted = [n for n in ("waypoints", "tracks", "routes") if n in names]
            layer = wanted[0] if wanted else names[0]
        elif len(names) > 1 and suffix == ".gpkg":
            raise LayerError(
                f"{path.name} contient plusieurs couches ({', '.join(names)}) : indiquez "
                "laquelle lire (clé « layer »)."
            )
        elif len(names) > 1 and suffix in (".kml", ".kmz"):
            frames = [_read_one(path, n, where) for n in names]
            frames = [f for f in frames if len(f)]
            if not frames:
                return _read_one(path, names[0], where)
            return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
        else:
            layer = names[0]
    elif layer not in names:
        raise LayerError(
            f"{path.name} : couche « {layer} » introuvable. Couches disponibles : "
            f"{', '.join(names)}."
        )
    return _read_one(path, layer, where)


@lru_cache(maxsize=64)
def read_vector_cached(
    path: str, layer: str | None, where: str | None, mtime: float
) -> gpd.GeoDataFrame:
    """:func:`read_vector`, once per file version (``mtime``) in a process: copy before changing.

    The pipeline and the coverage of named extents read the same commune outlines; a batch
    of communes reads the same regional files.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # GDAL notes on GeoJSON without CRS
        return read_vector(path, layer, where=where)


def _read_one(path: Path, layer: str, where: str | None) -> gpd.GeoDataFrame:
    try:
        return gpd.read_file(path, layer=layer, where=where, engine="pyogrio")
    except pyogrio.errors.DataLayerError as exc:
        raise LayerError(f"{path.name}, couche « {layer} » : lecture impossible ({exc}).") from None
    except UnicodeDecodeError:
        gdf = gpd.read_file(path, layer=layer, where=where, engine="pyogrio", encoding="cp1252")
        return gdf


@dataclass(frozen=True)
class RasterInfo:
    """What a raster holds, read from its header only."""

    path: Path
    crs_epsg: int | None
    bounds: tuple[float, float, float, float]
    resolution: tuple[float, float]
    nodata: float | None
    count: int
    dtype: str


_EPSG_RE = re.compile(r"EPSG[:\"]+(\d+)")


def read_raster_info(path: str | Path) -> RasterInfo:
    """Open a GeoTIFF with rasterio and check it has a CRS; pixels are not read.

    Raises :class:`~qmi_geo.errors.CRSError` when the raster has no CRS (a raster cannot be
    placed from its values alone).
    """
    import rasterio

    path = Path(path)
    if not path.exists():
        raise LayerFileNotFoundError(f"Raster introuvable : {path}.")
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise CRSError(
                    f"{path.name} : le raster n'a pas de système de coordonnées. Ajoutez-le "
                    "(gdal_edit.py -a_srs EPSG:2154 fichier.tif, ou « Définir la projection » "
                    "dans QGIS)."
                )
            return RasterInfo(
                path,
                src.crs.to_epsg(),
                tuple(src.bounds),
                src.res,
                src.nodata,
                src.count,
                src.dtypes[0],
            )
    except rasterio.errors.RasterioIOError as exc:
        raise LayerError(f"{path.name} : raster illisible ({exc}).") from None
