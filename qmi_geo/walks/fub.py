"""The FUB's « rues citées » as an annotation source: real, georeferenced perceptions.

The Baromètre des villes cyclables 2017 (« Parlons vélo ») asked cyclists which street of
their commune was the most problematic for cycling; the FUB counted the answers per street
and matched the streets to OpenStreetMap ways. Each cited street becomes one annotation of
theme ``velo`` (safety and comfort by bike), negative, weighted by its number of votes.
Source: FUB – Baromètre des villes cyclables 2017; geometries © les contributeurs
d'OpenStreetMap (ODbL).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from qmi_geo.errors import WalkError
from qmi_geo.walks._schema import CRS, coerce_annotations

__all__ = ["FUB_SOURCE", "FUB_WALK_ID", "annotations_from_rues_citees"]

FUB_WALK_ID = "fub_barometre_2017"
FUB_SOURCE = "FUB – Baromètre des villes cyclables 2017"


def annotations_from_rues_citees(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Turn FUB cited streets into annotations (theme ``velo``, weight = votes).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The ``rues_citees`` layer, with canonical fields ``nom`` and ``votes`` (or the
        source fields ``rue`` and ``votes``); lines or points, any CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        Annotation schema, EPSG:2154, one annotation per street; ``auteur`` is empty (no
        individual respondent is known), ``role`` says « répondant(e)s FUB ».

    Examples
    --------
    >>> import geopandas as gpd
    >>> fub = gpd.read_file(
    ...     "layers/fub_barometre_2017_rues_citees/fub2017_rues_citees_qmi.gpkg",
    ...     layer="rues_citees",
    ...     where="insee_com = '93005'",
    ... )
    >>> ann = annotations_from_rues_citees(fub)
    >>> len(ann), ann["theme"].unique().tolist(), float(ann["poids"].sum())
    (14, ['velo'], 21.0)
    """
    if gdf.crs is None:
        raise WalkError(
            "La couche des rues citées (FUB) n'a pas de système de coordonnées ; "
            "attendu EPSG:2154 ou EPSG:4326."
        )
    name_col = next((c for c in ("nom", "rue", "name") if c in gdf.columns), None)
    if name_col is None or "votes" not in gdf.columns:
        raise WalkError(
            "La couche des rues citées (FUB) doit avoir les champs « nom » (ou « rue ») et "
            f"« votes » ; champs trouvés : {', '.join(map(str, gdf.columns))}."
        )
    src = gdf.to_crs(CRS).reset_index(drop=True)
    src = src[~(src.geometry.isna() | src.geometry.is_empty)].reset_index(drop=True)
    names = src[name_col].astype(object).where(src[name_col].notna(), "").astype(str)
    votes = pd.to_numeric(src["votes"], errors="coerce").fillna(1.0).clip(lower=0)
    comments = [
        f"{n} : rue citée comme la plus problématique à vélo par {int(v)} répondant(e)s "
        f"({FUB_SOURCE})"
        for n, v in zip(names, votes, strict=True)
    ]
    rank = src["rang"] if "rang" in src.columns else pd.Series(range(1, len(src) + 1))
    key = pd.DataFrame({"n": names, "w": src.geometry.to_wkb(hex=True)})
    ids = "F-" + pd.util.hash_pandas_object(key, index=False).map("{:016x}".format)
    out = gpd.GeoDataFrame(
        {
            "id": ids,
            "marche": FUB_WALK_ID,
            "theme": "velo",
            "theme_original": "Rue problématique à vélo (FUB)",
            "valence": "negatif",
            "intensite": pd.array([pd.NA] * len(src), dtype="Int64"),
            "commentaire": comments,
            "photo": "",
            "horodatage": pd.NaT,
            "role": "répondant(e)s FUB",
            "auteur": "",
            "poids": votes.astype(float),
            "source_fichier": "fub2017_rues_citees",
            "source_ligne": pd.to_numeric(rank, errors="coerce").fillna(0).astype(int),
            "signalements": "",
        },
        geometry=src.geometry.to_numpy(),
        crs=CRS,
    )
    return coerce_annotations(out)
