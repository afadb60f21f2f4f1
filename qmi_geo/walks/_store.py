"""The annotation store of a commune (a GeoPackage for QGIS) and the rejects file.

The store ``annotations.gpkg`` has two layers: ``annotations`` and ``parcours``. Saving
merges with what is already there by ``id``, so importing the same file twice never
duplicates an annotation.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from qmi_geo.walks._importer import REJECT_COLUMNS, WalkImport
from qmi_geo.walks._schema import (
    CRS,
    coerce_annotations,
    empty_annotations,
    empty_routes,
)

__all__ = ["load_annotations", "load_routes", "save_annotations", "write_rejects"]

ANNOTATIONS_LAYER = "annotations"
ROUTES_LAYER = "parcours"


def _layers(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [str(n) for n in pyogrio.list_layers(path)[:, 0]]


def load_annotations(store_path: str | Path) -> gpd.GeoDataFrame:
    """Read the annotations of a store; an empty annotation layer if there is none yet.

    Examples
    --------
    >>> len(load_annotations("/nonexistent/annotations.gpkg"))
    0
    """
    path = Path(store_path)
    if ANNOTATIONS_LAYER not in _layers(path):
        return empty_annotations()
    gdf = pyogrio.read_dataframe(path, layer=ANNOTATIONS_LAYER)
    if gdf.crs is None:
        gdf = gdf.set_crs(CRS)
    return coerce_annotations(gdf.to_crs(CRS))


def load_routes(store_path: str | Path) -> gpd.GeoDataFrame:
    """Read the walk routes (``parcours``) of a store; empty if there are none."""
    path = Path(store_path)
    if ROUTES_LAYER not in _layers(path):
        return empty_routes()
    gdf = pyogrio.read_dataframe(path, layer=ROUTES_LAYER)
    return gdf.set_crs(CRS) if gdf.crs is None else gdf.to_crs(CRS)


def _write(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    types = set(shapely.get_type_id(gdf.geometry.array).tolist())
    geometry_type = "Unknown" if len(types) > 1 else None
    pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG", geometry_type=geometry_type)


def save_annotations(walk_import: WalkImport, store_path: str | Path) -> Path:
    """Merge an import into the store; annotations with a known ``id`` are replaced.

    Routes are replaced per source file.

    Parameters
    ----------
    walk_import : WalkImport
        The result of :func:`import_walks`.
    store_path : str or pathlib.Path
        ``<output_dir>/annotations.gpkg``; created if needed.

    Returns
    -------
    pathlib.Path
        The store path.
    """
    path = Path(store_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = load_annotations(path)
    new = walk_import.annotations
    kept = old[~old["id"].isin(new["id"])]
    merged = pd.concat([kept, new], ignore_index=True) if len(kept) else new.copy()
    merged = coerce_annotations(gpd.GeoDataFrame(merged, crs=CRS))
    old_routes = load_routes(path)
    new_routes = walk_import.routes
    files = set(new["source_fichier"]) | set(new_routes["source_fichier"])
    routes = old_routes[~old_routes["source_fichier"].isin(files)]
    routes = pd.concat([routes, new_routes], ignore_index=True) if len(routes) else new_routes
    routes = gpd.GeoDataFrame(routes, crs=CRS)
    if path.exists():
        path.unlink()
    _write(merged, path, ANNOTATIONS_LAYER)
    if len(routes):
        _write(routes, path, ROUTES_LAYER)
    return path


def write_rejects(
    rejects: pd.DataFrame, path: str | Path, *, imported_files: Iterable[str] | None = None
) -> Path:
    """Write the rejects as a CSV for Excel in French (UTF-8 with BOM, ``;``).

    Parameters
    ----------
    rejects : pandas.DataFrame
        ``WalkImport.rejects``: ``fichier``, ``ligne``, ``raison``, ``coordonnees`` and the
        original values.
    path : str or pathlib.Path
        Usually ``<output_dir>/rejets.csv``.
    imported_files : iterable of str, optional
        Files of this import. When given and ``path`` exists, its rows for other files are
        kept, and rows for these files are replaced (a file fixed and re-imported leaves
        no stale reject).

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = rejects
    if imported_files is not None and path.exists():
        old = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
        old = old[~old["fichier"].isin(set(imported_files))]
        out = pd.concat([old, rejects.astype(str)], ignore_index=True).fillna("")
    columns = [*REJECT_COLUMNS, *[c for c in out.columns if c not in REJECT_COLUMNS]]
    out = out.reindex(columns=columns).fillna("")
    out.to_csv(path, sep=";", index=False, encoding="utf-8-sig")
    return path
