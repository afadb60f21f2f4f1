"""Mineralised (sealed) surfaces: mean imperviousness, sealed share, green share.

Three kinds of source are accepted, best first:

* an imperviousness raster (0–100 %, e.g. Copernicus HRL Imperviousness Density), read in
  windows per zone with rasterio — never loaded whole (:func:`raster_imperviousness`);
* sealed polygons (``taux_impermeable`` = 1, or absent): sealed area / zone area;
* zones carrying a sealed share (``taux_impermeable`` between 0 and 1, e.g. the per-IRIS
  share derived from L'Institut Paris Region's MOS): area-weighted mean over the part of the
  quarter the zones cover (:func:`sealed_share`).

When no source exists the indicator is « non disponible » with the reason: no value is
invented.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from qmi_geo.diagnostics._geom import (
    check_crs,
    dissolve_parts,
    intersection_measure,
    zone_area,
)
from qmi_geo.diagnostics._rows import ESTIMATED, Rows, missing_layer
from qmi_geo.errors import LayerError

__all__ = [
    "green_share",
    "is_rated_layer",
    "mineral_rows",
    "raster_imperviousness",
    "sealed_coverage",
    "sealed_share",
]

RATE = "taux_impermeable"


def is_rated_layer(surfaces: gpd.GeoDataFrame) -> bool:
    """True when the layer carries sealed shares below 1 (zones), False for sealed polygons."""
    if RATE not in surfaces:
        return False
    rate = pd.to_numeric(surfaces[RATE], errors="coerce")
    return bool((rate < 1).any())


def sealed_share(zones: gpd.GeoDataFrame, surfaces: gpd.GeoDataFrame) -> pd.Series:
    """Sealed share of each zone, in %.

    For sealed polygons: sealed area inside the zone / zone area. For zones carrying a rate:
    Σ rate × area inside the zone / area of the zone covered by rated zones (the uncovered
    part is unknown, not assumed unsealed; see :func:`sealed_coverage`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> z = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=2154)
    >>> iris = gpd.GeoDataFrame(
    ...     {"taux_impermeable": [0.8, 0.4]},
    ...     geometry=[box(0, 0, 500, 1000), box(500, 0, 1000, 1000)],
    ...     crs=2154,
    ... )
    >>> round(float(sealed_share(z, iris).iloc[0]), 6)
    60.0
    >>> sealed = gpd.GeoDataFrame(geometry=[box(0, 0, 250, 1000)], crs=2154)
    >>> float(sealed_share(z, sealed).iloc[0])
    25.0
    """
    check_crs(zones, surfaces, "surfaces_minerales")
    if not is_rated_layer(surfaces):
        inside = intersection_measure(zones, dissolve_parts(surfaces))
        return (100.0 * inside / zone_area(zones)).rename("part_impermeable")
    rate = pd.to_numeric(surfaces[RATE], errors="coerce").clip(0, 1)
    known = rate.notna().astype(float).to_numpy()
    num = intersection_measure(zones, surfaces, weights=rate.to_numpy())
    den = intersection_measure(zones, surfaces, weights=known)
    return (100.0 * num / den.where(den > 0)).rename("part_impermeable")


def sealed_coverage(zones: gpd.GeoDataFrame, surfaces: gpd.GeoDataFrame) -> pd.Series:
    """Share of each zone covered by rated zones with a known rate, in % (for the note)."""
    check_crs(zones, surfaces, "surfaces_minerales")
    rate = pd.to_numeric(surfaces.get(RATE, pd.Series(1.0, index=surfaces.index)), errors="coerce")
    rated = surfaces[rate.notna()]
    covered = intersection_measure(zones, dissolve_parts(rated))
    return (100.0 * covered / zone_area(zones)).rename("couverture")


def raster_imperviousness(
    zones: gpd.GeoDataFrame,
    dataset: Any,
    *,
    band: int = 1,
    scale: float = 100.0,
    sealed_threshold: float = 50.0,
) -> pd.DataFrame:
    """Zonal statistics of an imperviousness raster, read window by window.

    Parameters
    ----------
    zones
        Zones in the raster's CRS.
    dataset
        An open :class:`rasterio.io.DatasetReader` (the layers stage opens it; this module
        never opens files).
    band
        Band to read.
    scale
        Value of a fully sealed pixel (100 for a 0–100 % raster, 1 for a 0–1 raster).
    sealed_threshold
        A pixel counts as sealed when its imperviousness is at least this many %.

    Returns
    -------
    pandas.DataFrame
        Columns ``impermeabilite_moyenne`` (%) and ``part_impermeable`` (% of valid pixels at
        or above the threshold), aligned to ``zones.index``; NaN where the zone has no valid
        pixel.
    """
    from affine import Affine
    from rasterio.features import geometry_mask
    from rasterio.windows import Window

    raster_epsg = dataset.crs.to_epsg() if dataset.crs is not None else None
    if zones.crs is None or raster_epsg != zones.crs.to_epsg():
        raise LayerError(
            f"Le raster d'imperméabilisation est en {dataset.crs}, le périmètre en {zones.crs} : "
            "reprojetez le raster en EPSG:2154 (gdalwarp -t_srs EPSG:2154)."
        )
    mean = np.full(len(zones), np.nan)
    share = np.full(len(zones), np.nan)
    t = dataset.transform
    if t.b != 0 or t.d != 0:
        raise LayerError(
            "Le raster d'imperméabilisation est tourné (géotransformation non alignée sur les "
            "axes) : rééchantillonnez-le avec gdalwarp -t_srs EPSG:2154."
        )
    for pos, geom in enumerate(zones.geometry.values):
        # window of the zone's bounds, clamped to the raster (north-up grid arithmetic)
        xmin, ymin, xmax, ymax = geom.bounds
        cols = sorted(((xmin - t.c) / t.a, (xmax - t.c) / t.a))
        rows = sorted(((ymax - t.f) / t.e, (ymin - t.f) / t.e))
        c0, c1 = max(int(np.floor(cols[0])), 0), min(int(np.ceil(cols[1])), dataset.width)
        r0, r1 = max(int(np.floor(rows[0])), 0), min(int(np.ceil(rows[1])), dataset.height)
        if c1 <= c0 or r1 <= r0:
            continue
        window = Window(c0, r0, c1 - c0, r1 - r0)
        data = dataset.read(band, window=window, masked=True)
        if data.size == 0:
            continue
        outside = geometry_mask(
            [geom],
            out_shape=data.shape,
            transform=Affine(t.a, 0.0, t.c + c0 * t.a, 0.0, t.e, t.f + r0 * t.e),
        )
        values = np.ma.masked_array(data, mask=np.ma.getmaskarray(data) | outside).compressed()
        if values.size == 0:
            continue
        pct = values.astype(float) * (100.0 / scale)
        mean[pos] = pct.mean()
        share[pos] = 100.0 * float((pct >= sealed_threshold).mean())
    return pd.DataFrame(
        {"impermeabilite_moyenne": mean, "part_impermeable": share}, index=zones.index
    )


def green_share(zones: gpd.GeoDataFrame, green: gpd.GeoDataFrame) -> pd.Series:
    """Share of each zone covered by green spaces (dissolved polygons), in %."""
    check_crs(zones, green, "espaces_verts")
    inside = intersection_measure(zones, dissolve_parts(green))
    return (100.0 * inside / zone_area(zones)).rename("part_vegetalisee")


def mineral_rows(
    zones: gpd.GeoDataFrame,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    rasters: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Long-form mineralised-surface indicators for every zone."""
    rows = Rows(zones.index, "Surfaces minéralisées")
    lbl_mean = "Imperméabilisation moyenne"
    lbl_share = "Part de la surface imperméabilisée"
    raster = (rasters or {}).get("impermeabilite")
    surfaces = layers.get("surfaces_minerales")
    if raster is not None:
        stats = raster_imperviousness(zones, raster)
        kinds = ("impermeabilite",)
        rows.add(
            "impermeabilite_moyenne",
            lbl_mean,
            "%",
            stats["impermeabilite_moyenne"],
            kinds=kinds,
            note="statistiques zonales du raster",
            missing_note="aucun pixel valide dans le quartier",
        )
        rows.add(
            "part_impermeable",
            lbl_share,
            "%",
            stats["part_impermeable"],
            kinds=kinds,
            note="pixels imperméabilisés à 50 % ou plus",
            missing_note="aucun pixel valide dans le quartier",
        )
    elif surfaces is not None and len(surfaces):
        kinds = ("surfaces_minerales",)
        share = sealed_share(zones, surfaces)
        if is_rated_layer(surfaces):
            cover = sealed_coverage(zones, surfaces)
            note = cover.map(lambda c: f"pondéré par la surface des zones (couverture {c:.0f} %)")
            rows.add(
                "impermeabilite_moyenne",
                lbl_mean,
                "%",
                share,
                kinds=kinds,
                statut=ESTIMATED,
                note=note,
                missing_note="aucune zone avec un taux connu dans le quartier",
            )
            rows.add(
                "part_impermeable",
                lbl_share,
                "%",
                share,
                kinds=kinds,
                statut=ESTIMATED,
                note=note,
                missing_note="aucune zone avec un taux connu dans le quartier",
            )
        else:
            rows.add(
                "impermeabilite_moyenne",
                lbl_mean,
                "%",
                share,
                kinds=kinds,
                note="surfaces imperméables / surface du quartier",
            )
            rows.add(
                "part_impermeable",
                lbl_share,
                "%",
                share,
                kinds=kinds,
                note="surfaces imperméables / surface du quartier",
            )
    else:
        reason = (
            "aucune source réelle d'imperméabilisation pour cette commune "
            "(ni raster, ni polygones, ni taux par zone)"
        )
        rows.unavailable(
            "impermeabilite_moyenne", lbl_mean, "%", reason, kinds=("surfaces_minerales",)
        )
        rows.unavailable("part_impermeable", lbl_share, "%", reason, kinds=("surfaces_minerales",))
    green = layers.get("espaces_verts")
    if green is None:
        rows.unavailable(
            "part_vegetalisee",
            "Part de la surface en espaces verts",
            "%",
            missing_layer("espaces_verts"),
            kinds=("espaces_verts",),
        )
    else:
        rows.add(
            "part_vegetalisee",
            "Part de la surface en espaces verts",
            "%",
            green_share(zones, green),
            kinds=("espaces_verts",),
        )
    return rows.frame()
