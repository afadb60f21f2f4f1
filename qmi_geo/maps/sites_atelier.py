"""Sites proposed at the « carte sur table » workshop, brought back into the diagnostic.

The drawing tool's « site proposé » mode (:mod:`qmi_geo.maps.draw`) exports, in the same
GeoJSON as the défis, features with ``nature = "site"``: the kind of site chosen from a French
list, its name, its owner. :func:`read_sites_export` validates them like any layer and
measures the area of polygons in Lambert-93 (« dessinée en atelier »); :func:`save_sites`
keeps them in ``<output>/sites_atelier.gpkg``, merged by ``id``. The pipeline reads that file
as a ``sites`` source (« atelier » channel), so the next ``qmi diagnose`` / ``qmi match``
ranks solutions on them.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo._atomic import atomic_path
from qmi_geo._validate import (
    SourceRef,
    ValidationReport,
    drop_missing_geometries,
    fix_swapped_coordinates,
    infer_crs,
    repair_geometries,
)
from qmi_geo.errors import LayerError, LayerFileNotFoundError
from qmi_geo.maps.defis import open_workshop_export

__all__ = ["SITES_COLUMNS", "SITES_LAYER", "SITES_SOURCE", "read_sites_export", "save_sites"]

SITES_LAYER = "sites_atelier"
#: Source name of the workshop sites in the layer set (their ``source`` column).
SITES_SOURCE = "sites_atelier"
SITES_COLUMNS = (
    "id",
    "type",
    "nom",
    "proprietaire",
    "surface_m2",
    "commentaire",
    "cree_le",
    "origine",
    "source_fichier",
    "source_ligne",
)


def _text(values: pd.Series) -> list[str]:
    return ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]


def read_sites_export(path: Path | str, report: ValidationReport | None = None) -> gpd.GeoDataFrame:
    """Read the « site proposé » features of a workshop export, in Lambert-93.

    Parameters
    ----------
    path : path-like
        The GeoJSON of the map's « Exporter les défis » button.
    report : ValidationReport, optional
        Receives the findings and the rejected records.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`SITES_COLUMNS`; ``surface_m2`` is the drawn polygon's area (NaN for a
        point or a line: « surface inconnue »). Empty when the export holds no site.
    """
    from qmi_geo.matching.sites import normalise_site_kind

    path = Path(path)
    report = report if report is not None else ValidationReport()
    gdf, src = open_workshop_export(path, "d'atelier")
    empty = gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in SITES_COLUMNS},
        geometry=gpd.GeoSeries([], crs=2154),
        crs=2154,
    )
    if "nature" not in gdf.columns:
        return empty
    gdf = gdf[(gdf["nature"].astype(str) == "site").to_numpy()].reset_index()
    if not len(gdf):
        return empty
    gdf = infer_crs(gdf, src, report)
    gdf, _ = fix_swapped_coordinates(gdf, src, report)
    gdf = drop_missing_geometries(gdf, src, report)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdf, _ = repair_geometries(gdf, src, report)
    kinds = gdf.get("type_site", pd.Series(None, index=gdf.index)).map(normalise_site_kind)
    bad = kinds.isna().to_numpy()
    if bad.any():
        report.add(
            "erreur",
            "site proposé sans type de site reconnu : choisissez un type dans la liste.",
            src,
            np.flatnonzero(bad),
        )
        report.reject(gdf[bad], "type de site absent ou inconnu", src)
        gdf, kinds = gdf[~bad], kinds[~bad]
    gdf = gdf.to_crs(2154)
    polygonal = gdf.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    area = np.where(polygonal, shapely.area(gdf.geometry.to_numpy()), np.nan)
    names = _text(gdf.get("nom", pd.Series(None, index=gdf.index)))
    ids = [
        str(i)
        if isinstance(i, str) and i.strip()
        else "site-"
        + hashlib.sha1(shapely.to_wkb(g) + n.encode(), usedforsecurity=False).hexdigest()[:12]
        for i, g, n in zip(
            gdf.get("id", pd.Series(None, index=gdf.index)), gdf.geometry, names, strict=True
        )
    ]
    out = gpd.GeoDataFrame(
        {
            "id": ids,
            "type": kinds.to_numpy(dtype=object),
            "nom": names,
            "proprietaire": _text(gdf.get("proprietaire", pd.Series(None, index=gdf.index))),
            "surface_m2": np.round(area, 1),
            "commentaire": _text(gdf.get("commentaire", pd.Series(None, index=gdf.index))),
            "cree_le": _text(gdf.get("cree_le", pd.Series(None, index=gdf.index))),
            "origine": "atelier",
            "source_fichier": path.name,
            "source_ligne": (gdf["index"].to_numpy() + 1).astype("int64"),
        },
        geometry=gdf.geometry.to_numpy(),
        crs=2154,
    )
    report.counts["sites_atelier"] = len(out)
    return out.drop_duplicates("id", keep="last").reset_index(drop=True)


def save_sites(sites: gpd.GeoDataFrame, store_path: Path | str) -> gpd.GeoDataFrame:
    """Merge ``sites`` into ``<output>/sites_atelier.gpkg`` by ``id`` (atomic write)."""
    store_path = Path(store_path)
    new = sites.to_crs(2154)
    if store_path.exists():
        old = gpd.read_file(store_path, layer=SITES_LAYER).to_crs(2154)
        old = old[~old["id"].isin(set(new["id"]))]
        merged = gpd.GeoDataFrame(pd.concat([old, new], ignore_index=True), crs=2154)
    else:
        merged = new.copy()
    merged = merged[[*SITES_COLUMNS, merged.geometry.name]].reset_index(drop=True)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(store_path) as tmp:
        merged.to_file(tmp, layer=SITES_LAYER, driver="GPKG")
    return merged
