"""Assemble the indicator table of a quarter (long form) and the per-IRIS table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from qmi_geo._atomic import write_csv
from qmi_geo.diagnostics._geom import unions_shared
from qmi_geo.diagnostics._rows import COLUMNS
from qmi_geo.diagnostics.breaks import breaks_rows
from qmi_geo.diagnostics.commune import commune_rows, iris_population_method, population_rows
from qmi_geo.diagnostics.context import context_rows
from qmi_geo.diagnostics.coverage import apply_plan, coverage_plan, drop_uncovered
from qmi_geo.diagnostics.mineral import mineral_rows
from qmi_geo.diagnostics.nuisances import nuisances_rows
from qmi_geo.diagnostics.perceptions import perceptions_rows
from qmi_geo.diagnostics.qpv import qpv_rows
from qmi_geo.diagnostics.sites import sites_rows
from qmi_geo.layers._schemas import KINDS

__all__ = [
    "CSV_HEADERS",
    "compute_indicators",
    "indicator_table",
    "iris_indicators",
    "write_indicators",
]

CSV_HEADERS = {
    "code": "Code",
    "theme": "Thème",
    "libelle": "Indicateur",
    "valeur": "Valeur",
    "unite": "Unité",
    "statut": "Statut",
    "note": "Note",
    "source": "Source",
    "valeur_commune": "Valeur de la commune",
    "mediane_metropole": "Médiane de la Métropole",
    "rang_metropole": "Rang parmi les communes de la Métropole (1 = la plus élevée)",
    "n_metropole": "Communes classées",
}

_DEFAULT_SOURCES = {
    "annotations": "Marche sensible du quartier (annotations des participants)",
    "espaces_verts": "Espaces verts",
    "impermeabilite": "Raster d'imperméabilisation",
}


def _source_map(sources: Iterable[Any] | None) -> tuple[dict[str, str], set[str]]:
    """Attribution per layer kind, and the kinds with a synthetic (not real) source."""
    by_kind: dict[str, list[str]] = {}
    synthetic: set[str] = set()
    for src in sources or ():
        kind = getattr(src, "kind", None)
        if not kind:
            continue
        text = getattr(src, "attribution", None) or getattr(src, "title", None) or kind
        if text not in by_kind.setdefault(kind, []):
            by_kind[kind].append(str(text))
        if not getattr(src, "real", True):
            synthetic.add(kind)
    return {k: " ; ".join(v) for k, v in by_kind.items()}, synthetic


def _attach_sources(
    long: pd.DataFrame, sources: Iterable[Any] | None, tables: Mapping[str, str] | None = None
) -> pd.DataFrame:
    attrib, synthetic = _source_map(sources)
    for name, text in (tables or {}).items():
        attrib[f"table:{name}"] = text

    def source_of(kinds: str) -> str:
        parts = []
        for kind in filter(None, kinds.split(",")):
            text = attrib.get(kind) or _DEFAULT_SOURCES.get(kind)
            if text is None and kind == "quartier":
                text = attrib.get("communes")
            if text is None:
                text = KINDS[kind].label if kind in KINDS else kind
            if text not in parts:
                parts.append(text)
        return " ; ".join(parts)

    out = long.copy()
    out["source"] = out["couches"].map(source_of)
    synth = out["couches"].map(lambda k: bool(set(k.split(",")) & synthetic))
    if synth.any():
        note = out.loc[synth, "note"].fillna("")
        out.loc[synth, "note"] = (note + " ; données synthétiques").str.lstrip(" ;")
    return out.drop(columns=["couches"])


def _with_empty_layers(
    layers: Mapping[str, gpd.GeoDataFrame], sources: Iterable[Any] | None, crs: Any
) -> dict[str, gpd.GeoDataFrame]:
    """Add an empty layer for every kind that has a source but no feature near the quarter.

    A kind with a source and nothing in the quarter (no QPV in Meudon) is a real zero, not
    missing data: its indicators are computed (0 %, 0 QPV) instead of « non disponible ».
    """
    out = dict(layers)
    for src in sources or ():
        kind = getattr(src, "kind", None)
        if kind in KINDS and kind not in out:
            cols = {f.name: pd.Series([], dtype=object) for f in KINDS[kind].fields}
            out[kind] = gpd.GeoDataFrame(cols, geometry=[], crs=crs)
    return out


def _parts(commune: Mapping[str, Any] | None) -> list[str] | None:
    if not commune or not commune.get("insee"):
        return None
    return list(commune.get("parts") or [commune["insee"]])


def indicator_table(
    layers: Mapping[str, gpd.GeoDataFrame],
    zones: gpd.GeoDataFrame,
    *,
    annotations: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    sources: Iterable[Any] | None = None,
    rasters: Mapping[str, Any] | None = None,
    buffer_m: float | None = None,
    severance: bool = True,
    n_pairs: int = 50,
    seed: int = 0,
    coverage: Mapping[str, float] | None = None,
    layer_errors: Mapping[str, str] | None = None,
    commune: Mapping[str, Any] | None = None,
    whole_commune: bool = True,
) -> pd.DataFrame:
    """Every indicator for every zone at once, in long form with a ``zone`` column.

    This is the vectorised engine behind :func:`compute_indicators`: each indicator is one
    spatial-index query over all zones, so it serves one quarter as well as all the
    communes of the Métropole (see ``scripts/bench_indicators.py``).

    ``coverage`` (source name -> share of the quarter) and ``layer_errors`` (kind -> reason)
    apply the rules of :mod:`qmi_geo.diagnostics.coverage`; ``commune`` holds the commune's
    facts (:func:`qmi_geo.layers.communes.commune_facts`) for the commune-level figures.
    """
    sources = list(sources or ())
    plan = coverage_plan(sources, coverage, layer_errors)
    lay = _with_empty_layers(drop_uncovered(layers, plan), sources, zones.crs)
    for kind in plan.reasons:  # an empty stand-in would read as a real zero
        lay.pop(kind, None)
    with unions_shared():  # a layer dissolved for several indicators, once
        frames = [
            context_rows(zones, lay, buffer_m=buffer_m),
            qpv_rows(
                zones,
                lay,
                communes=_parts(commune) if whole_commune else None,
                layer_errors=layer_errors,
            ),
            mineral_rows(zones, lay, rasters=dict(rasters or {})),
            breaks_rows(zones, lay, n_pairs=n_pairs, seed=seed, severance=severance),
            nuisances_rows(zones, lay),
            perceptions_rows(zones, lay, annotations=annotations, hotspots=hotspots),
            sites_rows(zones, lay),
            commune_rows(zones, lay, commune, whole_commune=whole_commune),
        ]
    long = pd.concat(frames, ignore_index=True)
    if commune is not None:
        iris = lay.get("iris")
        parts = _parts(commune)
        method = iris_population_method(iris, parts if whole_commune else None)
        long = population_rows(long, commune, whole_commune=whole_commune, method=method)
        if whole_commune and parts and iris is not None and "insee_com" in iris and len(zones) == 1:
            # IRIS nest in communes: sum the commune's IRIS by code, not by clipped area
            # (the simplified commune outline cuts the IRIS contours by a few metres)
            own = iris[iris["insee_com"].astype(str).isin(parts)]
            pop = pd.to_numeric(own.get("population"), errors="coerce")
            row = (long["code"] == "population_iris") & (long["statut"] != "non disponible")
            if len(own) and pop.notna().any() and row.any():
                long.loc[row, "valeur"] = float(round(pop.sum()))
                long.loc[row, "note"] = f"somme des IRIS de la commune ; {method}"
    long = apply_plan(long, plan)
    tables = dict((commune or {}).get("attributions", {}))
    dropped = {n for k, names in plan.dropped.items() if k not in plan.reasons for n in names}
    long = _attach_sources(
        long, [s for s in sources if getattr(s, "name", None) not in dropped], tables
    )
    return long[["zone", *COLUMNS]]


def _one_perimeter(perimeter: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if len(perimeter) == 1:
        return perimeter.reset_index(drop=True)
    return gpd.GeoDataFrame(geometry=[perimeter.geometry.union_all()], crs=perimeter.crs)


def compute_indicators(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    perimeter: gpd.GeoDataFrame,
    annotations: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    sources: Iterable[Any] | None = None,
    rasters: Mapping[str, Any] | None = None,
    buffer_m: float | None = None,
    n_pairs: int = 50,
    seed: int = 0,
    coverage: Mapping[str, float] | None = None,
    layer_errors: Mapping[str, str] | None = None,
    commune: Mapping[str, Any] | None = None,
    whole_commune: bool = True,
) -> pd.DataFrame:
    """The indicator table of one quarter, in long form.

    Parameters
    ----------
    layers
        The quarter's layers by kind (EPSG:2154, canonical fields; see
        :mod:`qmi_geo.layers._schemas`), as returned by the layers stage. An absent kind
        makes its indicators « non disponible » with the reason.
    perimeter
        The quarter (one polygon; several rows are merged).
    annotations, hotspots
        Walk annotations and their hot spots, if any.
    sources
        Objects with ``kind``, ``attribution`` and ``real`` attributes (the layers stage's
        ``Source``): each row's ``source`` is the attribution of the layers it uses.
    rasters
        Open rasterio datasets by name (``"impermeabilite"``: imperviousness, 0–100 %).
    buffer_m
        The buffer used to clip layers around the quarter (quoted in some notes).
    n_pairs, seed
        Sampling of the pedestrian severance measure.
    coverage, layer_errors
        ``LayerSet.coverage`` and ``LayerSet.layer_errors``: indicators fed by a source that
        does not cover the quarter, or by a failed layer, are « non disponible » with the
        reason (:mod:`qmi_geo.diagnostics.coverage`).
    commune, whole_commune
        The commune's facts (INSEE population, heat, brownfields) and whether the quarter is
        the whole commune (then ``population`` is the INSEE figure).

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``theme``, ``libelle``, ``valeur``, ``unite``, ``statut``
        (« ok », « estimé », « non disponible »), ``note``, ``source``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> quartier = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 1000)], crs=2154)
    >>> qpv = gpd.GeoDataFrame(
    ...     {"code_qp": ["QN09399M"], "lib_qp": ["Exemple"]},
    ...     geometry=[box(0, 0, 500, 1000)],
    ...     crs=2154,
    ... )
    >>> table = compute_indicators({"qpv": qpv}, perimeter=quartier)
    >>> row = table.set_index("code").loc["part_qpv"]
    >>> float(row["valeur"]), row["unite"], row["statut"]
    (50.0, '%', 'ok')
    >>> table.set_index("code").loc["distance_gare", "note"]
    'couche « gares » absente pour ce quartier'
    """
    zones = _one_perimeter(perimeter)
    long = indicator_table(
        layers,
        zones,
        annotations=annotations,
        hotspots=hotspots,
        sources=sources,
        rasters=rasters,
        buffer_m=buffer_m,
        n_pairs=n_pairs,
        seed=seed,
        coverage=coverage,
        layer_errors=layer_errors,
        commune=commune,
        whole_commune=whole_commune,
    )
    return long.drop(columns=["zone"]).reset_index(drop=True)


def iris_indicators(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    perimeter: gpd.GeoDataFrame,
    annotations: gpd.GeoDataFrame | None = None,
    rasters: Mapping[str, Any] | None = None,
) -> gpd.GeoDataFrame:
    """Indicators per IRIS inside the quarter (IRIS cut by the perimeter), wide form.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per IRIS part: ``code_iris``, ``nom_iris``, ``part_iris_dans_quartier`` (%)
        and one column per indicator code (the values; statuses are in the quarter
        table), geometry = the IRIS part inside the quarter. Empty without an IRIS layer.
    """
    iris = layers.get("iris")
    zones = _one_perimeter(perimeter)
    if iris is None or not len(iris):
        return gpd.GeoDataFrame({"code_iris": []}, geometry=[], crs=perimeter.crs)
    clipped = gpd.clip(iris, zones.geometry.iloc[0])
    clipped = clipped[clipped.geom_type.isin(["Polygon", "MultiPolygon"]) & ~clipped.is_empty]
    clipped = clipped[clipped.area > 1.0]
    parts = gpd.GeoDataFrame(
        {
            "code_iris": clipped["code_iris"].astype(str),
            "nom_iris": clipped.get("nom_iris", pd.Series("", index=clipped.index)),
            "part_iris_dans_quartier": 100.0 * clipped.area / iris.loc[clipped.index].area,
        },
        geometry=clipped.geometry,
        crs=iris.crs,
    ).reset_index(drop=True)
    long = indicator_table(layers, parts, annotations=annotations, rasters=rasters, severance=False)
    wide = long.pivot_table(
        index="zone", columns="code", values="valeur", aggfunc="first", dropna=False, sort=False
    )
    order = list(dict.fromkeys(long["code"]))
    wide = wide.reindex(index=parts.index, columns=order)
    wide = wide.drop(columns=["surface_km2"], errors="ignore")
    out = pd.concat([parts.drop(columns="geometry"), wide], axis=1)
    return gpd.GeoDataFrame(out, geometry=parts.geometry, crs=parts.crs)


def write_indicators(df: pd.DataFrame, out_dir: str | Path) -> Path:
    """Write the indicator table as ``indicateurs.csv`` (UTF-8 with BOM, ``;``, French headers).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "indicateurs.csv"
    from qmi_geo.diagnostics.reference import REFERENCE_COLUMNS

    table = df[[c for c in [*COLUMNS, *REFERENCE_COLUMNS] if c in df]].rename(columns=CSV_HEADERS)
    return write_csv(table, path, float_format="%.6g", decimal=",")
