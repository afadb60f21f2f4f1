"""The annotation store of a commune (a GeoPackage for QGIS) and the rejects file.

The store ``annotations.gpkg`` has the layers ``annotations`` and ``parcours`` and the table
``fichiers`` (every source file, whether it came from the spec or from an explicit
``qmi walks import``, and when). Saving merges with what is already there by ``id``, so
importing the same file twice, even under another name, never duplicates an annotation.

Every save writes a whole new store beside the old one and moves it into place
(:func:`qmi_geo._atomic.atomic_path`): an interrupted save leaves the previous store intact.
Saves into one store are serialised by a lock file (``.annotations.gpkg.lock``), so two
imports at once both land, one after the other.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from qmi_geo._atomic import atomic_path, unsynced_sqlite, write_csv
from qmi_geo.walks._importer import REJECT_COLUMNS, WalkImport
from qmi_geo.walks._privacy import drop_personal_columns
from qmi_geo.walks._schema import (
    CRS,
    coerce_annotations,
    empty_annotations,
    empty_routes,
)

__all__ = [
    "load_annotations",
    "load_files",
    "load_routes",
    "remove_files",
    "save_annotations",
    "store_lock",
    "write_rejects",
]

ANNOTATIONS_LAYER = "annotations"
ROUTES_LAYER = "parcours"
FILES_LAYER = "fichiers"
FILE_COLUMNS = ("fichier", "origine", "importe_le")
#: ``origine`` of a file listed in the spec's ``[walks] files`` (re-read by each diagnose)
FROM_SPEC = "spec"
#: ``origine`` of a file given to ``qmi walks import`` (kept until removed by hand)
FROM_IMPORT = "import"

_held: dict[str, int] = {}
_held_guard = threading.Lock()


@contextmanager
def store_lock(store_path: str | Path) -> Iterator[None]:
    """Hold the store's lock file (``.<store>.lock``) while reading and rewriting it.

    Another process importing into the same store waits until the lock is released.
    Re-entrant within one process.
    """
    path = Path(store_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = str(path.resolve())
    with _held_guard:
        depth = _held.get(key, 0)
        _held[key] = depth + 1
    if depth:
        try:
            yield
        finally:
            with _held_guard:
                _held[key] -= 1
        return
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
        with _held_guard:
            _held.pop(key, None)


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


def load_files(store_path: str | Path) -> pd.DataFrame:
    """The store's ``fichiers`` table: ``fichier``, ``origine`` (spec/import), ``importe_le``.

    Stores written before this table existed list the files of their annotations, as
    explicit imports.
    """
    path = Path(store_path)
    layers = _layers(path)
    if FILES_LAYER in layers:
        df = pyogrio.read_dataframe(path, layer=FILES_LAYER, read_geometry=False)
        return pd.DataFrame(df).reindex(columns=list(FILE_COLUMNS)).fillna("").astype(str)
    names: list[str] = []
    if ANNOTATIONS_LAYER in layers:
        names = sorted(set(load_annotations(path)["source_fichier"]))
    return pd.DataFrame({"fichier": names, "origine": FROM_IMPORT, "importe_le": ""}).reindex(
        columns=list(FILE_COLUMNS)
    )


def _write(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    types = set(shapely.get_type_id(gdf.geometry.array).tolist())
    geometry_type = "Unknown" if len(types) > 1 else None
    pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG", geometry_type=geometry_type)


def _write_store(
    path: Path, annotations: gpd.GeoDataFrame, routes: gpd.GeoDataFrame, files: pd.DataFrame
) -> None:
    """Write a whole store beside ``path`` and move it into place."""
    with atomic_path(path) as tmp, unsynced_sqlite():
        _write(annotations, tmp, ANNOTATIONS_LAYER)
        if len(routes):
            _write(routes, tmp, ROUTES_LAYER)
        pyogrio.write_dataframe(
            pd.DataFrame(files).astype(str), tmp, layer=FILES_LAYER, driver="GPKG"
        )
        # the store is the one output not rebuilt from its inputs: one flush of the whole
        # file before it replaces the old store (SQLite's per-transaction flushes are off)
        with open(tmp, "r+b") as fh:
            os.fsync(fh.fileno())


def save_annotations(
    walk_import: WalkImport, store_path: str | Path, *, origin: str = FROM_IMPORT
) -> Path:
    """Merge an import into the store; annotations with a known ``id`` are replaced.

    Routes are replaced per source file. The new store is complete before it replaces the
    old one; the store's lock is held throughout.

    Parameters
    ----------
    walk_import : WalkImport
        The result of :func:`import_walks`.
    store_path : str or pathlib.Path
        ``<output_dir>/annotations.gpkg``; created if needed.
    origin : {"import", "spec"}
        How the files came: an explicit import (kept) or the spec's list (a file removed
        from the spec has its annotations removed by the next diagnose).

    Returns
    -------
    pathlib.Path
        The store path.
    """
    path = Path(store_path)
    with store_lock(path):
        old = load_annotations(path)
        new = walk_import.annotations
        new = new[~new["id"].duplicated(keep="first")]  # cross-file duplicates: stored once
        kept = old[~old["id"].isin(new["id"])]
        merged = pd.concat([kept, new], ignore_index=True) if len(kept) else new.copy()
        merged = coerce_annotations(gpd.GeoDataFrame(merged, crs=CRS))
        old_routes = load_routes(path)
        new_routes = walk_import.routes
        names = [s.fichier for s in walk_import.summary if not s.erreur]
        files = set(names) | set(new["source_fichier"]) | set(new_routes["source_fichier"])
        routes = old_routes[~old_routes["source_fichier"].isin(files)]
        routes = pd.concat([routes, new_routes], ignore_index=True) if len(routes) else new_routes
        routes = gpd.GeoDataFrame(routes, crs=CRS)
        table = load_files(path)
        now = f"{datetime.now():%Y-%m-%d %H:%M:%S}"
        explicit = set(table.loc[table["origine"] == FROM_IMPORT, "fichier"])
        rows = [
            {
                "fichier": n,
                "origine": FROM_IMPORT if n in explicit else origin,
                "importe_le": now,
            }
            for n in dict.fromkeys(names)
        ]
        table = pd.concat(
            [table[~table["fichier"].isin(set(names))], pd.DataFrame(rows, columns=FILE_COLUMNS)],
            ignore_index=True,
        )
        _write_store(path, merged, routes, table)
    return path


def remove_files(store_path: str | Path, names: Iterable[str]) -> int:
    """Remove the annotations and routes of source files from the store.

    Returns
    -------
    int
        The number of annotations removed.
    """
    path = Path(store_path)
    gone = set(names)
    with store_lock(path):
        if not gone or not path.exists():
            return 0
        ann = load_annotations(path)
        drop = ann["source_fichier"].isin(gone)
        routes = load_routes(path)
        routes = routes[~routes["source_fichier"].isin(gone)]
        table = load_files(path)
        table = table[~table["fichier"].isin(gone)]
        _write_store(path, coerce_annotations(ann[~drop]), routes, table)
    return int(drop.sum())


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
    with store_lock(path.with_name("annotations.gpkg")):
        out = drop_personal_columns(rejects, keep=REJECT_COLUMNS)
        if imported_files is not None and path.exists():
            old = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
            old = drop_personal_columns(old, keep=REJECT_COLUMNS)
            old = old[~old["fichier"].isin(set(imported_files))]
            out = pd.concat([old, out.astype(str)], ignore_index=True).fillna("")
        columns = [*REJECT_COLUMNS, *[c for c in out.columns if c not in REJECT_COLUMNS]]
        out = out.reindex(columns=columns).fillna("")
        write_csv(out, path)
    return path
