"""The annotation schema shared by every walk reader, the importer and the analysis.

An annotation is one felt impression recorded during a marche sensible. Columns (see
DESIGN.md): ``id``, ``marche``, ``theme``, ``theme_original``, ``valence``, ``intensite``,
``commentaire``, ``photo``, ``horodatage``, ``role``, ``auteur``, ``poids``,
``source_fichier``, ``source_ligne``, ``signalements`` and a geometry in EPSG:2154.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

__all__ = [
    "ANNOTATION_COLUMNS",
    "CRS",
    "FLAGS",
    "ROUTE_COLUMNS",
    "empty_annotations",
    "empty_routes",
]

CRS = "EPSG:2154"

ANNOTATION_COLUMNS: tuple[str, ...] = (
    "id",
    "marche",
    "theme",
    "theme_original",
    "valence",
    "intensite",
    "commentaire",
    "photo",
    "horodatage",
    "role",
    "auteur",
    "poids",
    "source_fichier",
    "source_ligne",
    "signalements",
)

ROUTE_COLUMNS: tuple[str, ...] = ("marche", "nom", "source_fichier")

# Flags written in ``signalements`` (``;``-joined) and their French explanation.
FLAGS: dict[str, str] = {
    "coordonnees_inversees": "latitude et longitude inversées, remises dans l'ordre",
    "hors_quartier": "hors du quartier d'innovation",
    "doublon": "doublon exact d'une autre ligne (compté une fois)",
    "date_illisible": "date illisible ou impossible, laissée vide (écrivez JJ/MM/AAAA HH:MM)",
    "date_future": "date dans le futur : vérifiez l'année",
    "theme_inconnu": "thème inconnu, classé « autre »",
    "valence_inconnue": "ressenti illisible, classé « neutre »",
    "intensite_invalide": "intensité hors de l'échelle 0–3, laissée vide",
}

_DTYPES: dict[str, str] = {
    "id": "str",
    "marche": "str",
    "theme": "str",
    "theme_original": "str",
    "valence": "str",
    "intensite": "Int64",
    "commentaire": "str",
    "photo": "str",
    "horodatage": "datetime64[ns]",
    "role": "str",
    "auteur": "str",
    "poids": "float64",
    "source_fichier": "str",
    "source_ligne": "int64",
    "signalements": "str",
}


def empty_annotations() -> gpd.GeoDataFrame:
    """An annotation GeoDataFrame with no row and the canonical columns and dtypes.

    Examples
    --------
    >>> list(empty_annotations().columns)[:3]
    ['id', 'marche', 'theme']
    """
    data = {c: pd.Series(dtype=_DTYPES[c]) for c in ANNOTATION_COLUMNS}
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def empty_routes() -> gpd.GeoDataFrame:
    """A walk route GeoDataFrame with no row."""
    data = {c: pd.Series(dtype="str") for c in ROUTE_COLUMNS}
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def _has_dtype(values: pd.Series, dtype: str) -> bool:
    """True when a column already has the canonical dtype and nothing to fill."""
    if dtype == "str":
        return isinstance(values.dtype, pd.StringDtype) and not values.hasnans
    return str(values.dtype) == dtype


def coerce_annotations(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Order columns and cast dtypes to the canonical annotation schema.

    Columns that already have their canonical dtype are left as they are (no copy).
    """
    geometry = gdf.geometry.name
    present = [c for c in ANNOTATION_COLUMNS if c in gdf.columns]
    out = gdf[[*present, geometry]]
    for col in ANNOTATION_COLUMNS:
        if col not in out.columns:
            out[col] = pd.Series(pd.NA, index=out.index, dtype=object)
    out = out[[*ANNOTATION_COLUMNS, geometry]]
    for col, dtype in _DTYPES.items():
        if _has_dtype(out[col], dtype):
            continue
        if dtype == "str":
            out[col] = out[col].astype(object).where(out[col].notna(), "").astype(str)
        elif dtype == "Int64":
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("Int64")
        elif dtype.startswith("datetime"):
            out[col] = pd.to_datetime(out[col], errors="coerce").astype("datetime64[ns]")
        elif dtype == "float64":
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
        else:
            out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0).astype("int64")
    return out.set_geometry(geometry)
