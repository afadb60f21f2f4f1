"""Bring the « carte sur table » export back into the diagnostic.

:func:`read_defis_export` validates the GeoJSON downloaded by the map's « Exporter les
défis » button (or any GeoJSON / GeoPackage with the same fields) with the same rules as
every layer (:mod:`qmi_geo._validate`), and :func:`save_defis` stores the défis in the
diagnostic's ``defis.gpkg``, merged by their stable ``id`` so that importing the same export
twice, or an export of edited défis, never duplicates a défi.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo._atomic import atomic_path
from qmi_geo._validate import (
    SourceRef,
    ValidationReport,
    check_geometry_types,
    check_not_empty,
    drop_missing_geometries,
    fix_swapped_coordinates,
    infer_crs,
    repair_geometries,
)
from qmi_geo.errors import LayerError, LayerFileNotFoundError
from qmi_geo.layers._schemas import KINDS
from qmi_geo.style import THEMES

__all__ = ["DEFIS_COLUMNS", "DEFIS_LAYER", "match_defi_theme", "read_defis_export", "save_defis"]

DEFIS_LAYER = "defis"
DEFIS_COLUMNS = (
    "id",
    "theme",
    "theme_original",
    "priorite",
    "commentaire",
    "cree_le",
    "source_fichier",
    "source_ligne",
)

_ALIASES = {f.name: f.aliases for f in KINDS["defis"].fields}


def match_defi_theme(text: Any) -> tuple[str, bool]:
    """Return the theme code of a défi's theme (code, French label or synonym).

    Uses the walks' matcher, so a défi and an annotation typed the same way get the same
    theme.

    Examples
    --------
    >>> match_defi_theme("chaleur"), match_defi_theme("Bruit")[0]
    (('chaleur', True), 'bruit')
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return "autre", False
    value = str(text).strip()
    if value in THEMES:
        return value, True
    from qmi_geo.walks import match_theme  # the walks' vocabulary matcher, loaded on use

    return match_theme(value)


def _stable_id(geom: shapely.Geometry, theme: str, comment: str) -> str:
    digest = hashlib.sha1(
        shapely.to_wkb(geom, hex=True).encode() + b"|" + theme.encode() + b"|" + comment.encode(),
        usedforsecurity=False,
    ).hexdigest()
    return "defi-" + digest[:12]


def _rename_aliases(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    renames = {}
    for name, aliases in _ALIASES.items():
        if name in gdf.columns:
            continue
        for alias in aliases:
            if alias in gdf.columns:
                renames[alias] = name
                break
    return gdf.rename(columns=renames)


def open_workshop_export(path: Path, what: str) -> tuple[gpd.GeoDataFrame, SourceRef]:
    """Read a workshop export (« Exporter les défis »: défis and proposed sites) as it is.

    Raises a French :class:`LayerError` naming the file and the button that writes it when the
    file is missing or unreadable; rows are validated by the callers.
    """
    if not path.exists():
        raise LayerFileNotFoundError(
            f"Fichier {what} introuvable : {path}. Indiquez le fichier téléchargé avec le "
            "bouton « Exporter les défis » de la carte."
        )
    try:
        with warnings.catch_warnings():
            # mixed-type columns (a priority typed as text) are validated row by row
            warnings.simplefilter("ignore")
            gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise LayerError(
            f"{path.name} : lecture impossible ({exc}). Le fichier attendu est le GeoJSON "
            "produit par le bouton « Exporter les défis »."
        ) from None
    return gdf, SourceRef(path.name)


def read_defis_export(path: Path | str, report: ValidationReport | None = None) -> gpd.GeoDataFrame:
    """Read and validate a défis export; return the défis in Lambert-93.

    Parameters
    ----------
    path : path-like
        The GeoJSON written by the map's « Exporter les défis » button (any format GDAL reads
        with the fields ``theme``, ``priorite`` and optionally ``id``, ``commentaire``).
    report : ValidationReport, optional
        Receives the findings and the rejected records (with their reason).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`DEFIS_COLUMNS` and geometry, EPSG:2154, sorted by priority.

    Raises
    ------
    LayerError
        The file cannot be read, has no défi, or lacks the ``theme`` / ``priorite`` fields.
    """
    path = Path(path)
    report = report if report is not None else ValidationReport()
    gdf, src = open_workshop_export(path, "de défis")
    check_not_empty(gdf, src)
    if "nature" in gdf.columns:  # « site proposé » features: read by read_sites_export
        sites = (gdf["nature"].astype(str) == "site").to_numpy()
        if sites.all():
            return gpd.GeoDataFrame(
                {c: pd.Series(dtype=object) for c in DEFIS_COLUMNS},
                geometry=gpd.GeoSeries([], crs=2154),
                crs=2154,
            )
        gdf = gdf[~sites].drop(columns="nature")
    gdf = _rename_aliases(gdf)
    missing = [f for f in ("theme", "priorite") if f not in gdf.columns]
    if missing:
        raise LayerError(
            f"{path.name} : champ(s) absent(s) : {', '.join(missing)}. Chaque défi doit avoir "
            "un thème et une priorité (1 = la plus importante) ; exportez-les depuis la carte."
        )
    gdf = gdf.reset_index(drop=True)
    gdf = infer_crs(gdf, src, report)
    gdf, _ = fix_swapped_coordinates(gdf, src, report)
    gdf = drop_missing_geometries(gdf, src, report)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the finding is recorded in the report
        gdf, _ = repair_geometries(gdf, src, report, accepted=KINDS["defis"].geom_types)
    gdf = check_geometry_types(gdf, KINDS["defis"].geom_types, src, report, kind="défis")

    prio = pd.to_numeric(gdf["priorite"], errors="coerce")
    bad = prio.isna() | (prio < 1) | (prio != np.floor(prio))
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        report.add(
            "erreur",
            "priorité absente ou invalide : un nombre entier ≥ 1 est attendu "
            "(1 = la plus importante) ; corrigez-la dans la carte puis exportez à "
            "nouveau.",
            src,
            rows,
        )
        report.reject(gdf[bad.to_numpy()], "priorité absente ou invalide (entier ≥ 1 attendu)", src)
        gdf = gdf[~bad.to_numpy()]
        prio = prio[~bad]
    if not len(gdf):
        raise LayerError(
            f"{path.name} : aucun défi valide (voir les rejets). Chaque défi doit "
            "avoir une priorité entière ≥ 1."
        )

    original = gdf["theme"].astype(object)
    matched = [match_defi_theme(t) for t in original]
    unknown = [i for i, (_, ok) in enumerate(matched) if not ok]
    if unknown:
        report.add(
            "avertissement",
            "thème non reconnu, classé « Autre » (le texte saisi est gardé dans theme_original).",
            src,
            unknown,
        )
    comments = (
        gdf["commentaire"] if "commentaire" in gdf.columns else pd.Series("", index=gdf.index)
    ).astype(object)
    comments = [
        "" if c is None or (isinstance(c, float) and np.isnan(c)) else str(c) for c in comments
    ]
    gdf = gdf.to_crs(2154)
    themes = [code for code, _ in matched]
    ids_in = gdf["id"].astype(object) if "id" in gdf.columns else pd.Series(None, index=gdf.index)
    ids = [
        str(i) if isinstance(i, str) and i.strip() else _stable_id(g, t, c)
        for i, g, t, c in zip(ids_in, gdf.geometry, themes, comments, strict=True)
    ]
    created = (
        gdf["cree_le"].astype(object)
        if "cree_le" in gdf.columns
        else pd.Series(None, index=gdf.index)
    )
    out = gpd.GeoDataFrame(
        {
            "id": ids,
            "theme": themes,
            "theme_original": ["" if t is None else str(t) for t in original],
            "priorite": prio.astype("int64").to_numpy(),
            "commentaire": comments,
            "cree_le": [
                None if c is None or (isinstance(c, float) and np.isnan(c)) else str(c)
                for c in created
            ],
            "source_fichier": path.name,
            "source_ligne": (gdf.index.to_numpy() + 1).astype("int64"),
        },
        geometry=gdf.geometry.to_numpy(),
        crs=2154,
    )
    dup = out["id"].duplicated(keep="last")
    if dup.any():
        report.add(
            "avertissement",
            "identifiant de défi en double : la dernière version est gardée.",
            src,
            np.flatnonzero(dup.to_numpy()),
        )
        out = out[~dup.to_numpy()]
    report.counts["defis"] = len(out)
    return out.sort_values(["priorite", "id"]).reset_index(drop=True)


def save_defis(defis: gpd.GeoDataFrame, store_path: Path | str) -> gpd.GeoDataFrame:
    """Merge ``defis`` into the diagnostic's store by ``id`` and write it.

    A défi whose ``id`` is already stored is replaced by the new version (edited in a later
    workshop); new ids are added; stored défis absent from ``defis`` are kept.

    Parameters
    ----------
    defis : geopandas.GeoDataFrame
        Défis from :func:`read_defis_export`.
    store_path : path-like
        The GeoPackage (``<output_dir>/defis.gpkg``), layer ``defis``.

    Returns
    -------
    geopandas.GeoDataFrame
        Every stored défi after the merge, in EPSG:2154.
    """
    store_path = Path(store_path)
    new = defis.to_crs(2154)
    if store_path.exists():
        old = gpd.read_file(store_path, layer=DEFIS_LAYER).to_crs(2154)
        old = old[~old["id"].isin(set(new["id"]))]
        merged = gpd.GeoDataFrame(pd.concat([old, new], ignore_index=True), crs=2154)
    else:
        merged = new.copy()
    merged = merged[[*DEFIS_COLUMNS, merged.geometry.name]]
    merged["priorite"] = merged["priorite"].astype("int64")
    merged = merged.sort_values(["priorite", "id"]).reset_index(drop=True)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(store_path) as tmp:
        merged.to_file(tmp, layer=DEFIS_LAYER, driver="GPKG")
    return merged
