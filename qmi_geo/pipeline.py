"""The diagnostic pipeline: read the spec, run the stages, write the outputs.

``layers → walks → diagnostics → matching → maps``. Stages take and return GeoDataFrames;
this module is the only place that strings them together and writes the commune's output
folder (``maps/<commune>/``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo._atomic import atomic_path, unsynced_sqlite, write_csv, write_text
from qmi_geo._validate import SourceRef, ValidationReport, check_crs_area
from qmi_geo.errors import LayerError, QmiGeoError, QmiGeoWarning
from qmi_geo.layers import KINDS, Source, normalise_layer, read_vector
from qmi_geo.layers._normalise import LAMBERT93
from qmi_geo.layers._read import read_vector_cached
from qmi_geo.layers.catalogue import bundled_layers_dir, load_catalogue
from qmi_geo.settings import settings
from qmi_geo.spec import DiagnosticSpec

__all__ = [
    "DiagnoseResult",
    "LayerSet",
    "diagnose",
    "load_layers",
    "perimeter_for",
    "write_geopackage",
]

log = logging.getLogger(__name__)

OSM_PRODUCER = "contributeurs d'OpenStreetMap"
OSM_ATTRIBUTION = "© les contributeurs d'OpenStreetMap (ODbL)"


#: Kinds read farther than the quarter's buffer: the nearest station may lie outside it.
WIDE_KINDS = frozenset({"gares"})
WIDE_BUFFER_M = 5_000.0


@dataclass
class LayerSet:
    """The normalised layers of one quarter."""

    spec: DiagnosticSpec
    perimeter: gpd.GeoDataFrame
    layers: dict[str, gpd.GeoDataFrame]
    sources: list[Source]
    report: ValidationReport
    counts: dict[str, int] = field(default_factory=dict)
    rasters: dict[str, list[Path]] = field(default_factory=dict)
    #: layer kind -> French reason it cannot be trusted (empty, unreadable, entirely outside
    #: the quarter, coordinates outside the declared CRS's area): the indicators it feeds
    #: are « non disponible » with that reason, never 0
    layer_errors: dict[str, str] = field(default_factory=dict)
    #: source name -> share (0–1) of the quarter inside the source's declared extent
    coverage: dict[str, float] = field(default_factory=dict)

    @property
    def clip_area(self) -> shapely.Geometry:
        """The quarter plus its buffer."""
        return self.perimeter.geometry.iloc[0].buffer(self.spec.buffer_m)

    def attributions(self) -> list[str]:
        """Distinct attribution strings of the sources that gave at least one feature."""
        used = [s for s in self.sources if self.counts.get(s.name, 0) > 0]
        return list(dict.fromkeys(s.attribution for s in used if s.attribution))


@dataclass
class DiagnoseResult:
    """What ``qmi diagnose`` wrote."""

    layerset: LayerSet
    output_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: layers added by the stages (annotations, hot spots, matches...) for diagnostic.gpkg
    extra_layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    #: attribute tables added by the stages (indicators...) for diagnostic.gpkg
    extra_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: whatever a stage hands to the next ones (walk import, indicator table, matches...)
    products: dict[str, Any] = field(default_factory=dict)


def _read_source(src: Source) -> gpd.GeoDataFrame:
    path = Path(src.path)
    if not path.exists():
        from qmi_geo.errors import LayerFileNotFoundError

        raise LayerFileNotFoundError(
            f"Source « {src.name} » : fichier introuvable {path}. Vérifiez le chemin dans le "
            "fichier de diagnostic ou layers/catalogue.toml."
        )
    return read_vector_cached(str(path), src.layer, src.where, path.stat().st_mtime).copy()


def perimeter_for(spec: DiagnosticSpec, report: ValidationReport | None = None) -> gpd.GeoDataFrame:
    """The quarter's perimeter (one polygon, EPSG:2154): the commune, or the spec's file.

    Examples
    --------
    >>> from qmi_geo.spec import load_spec
    >>> per = perimeter_for(load_spec("92071"))
    >>> per.crs.to_epsg(), round(float(per.area.iloc[0]) / 1e6, 1)
    (2154, 3.6)
    """
    report = report if report is not None else ValidationReport()
    catalogue = load_catalogue()
    if spec.perimeter_source == "commune":
        src = catalogue["communes_idf"]
        from qmi_geo.layers.communes import commune_parts

        raw = _read_source(src)
        # a 2026 commune is the union of its outlines before mergers (Saint-Denis + Pierrefitte)
        raw = raw[raw["code"].astype(str).isin(commune_parts(spec.insee))]
        ref = SourceRef(Path(src.path).name)
        gdf = normalise_layer(raw, "communes", ref, report, fields=src.fields)
        name = spec.perimeter_name or spec.name
    else:
        path = Path(spec.perimeter_source)
        raw = read_vector(path, spec.perimeter_layer, report=report)
        ref = SourceRef(path.name, spec.perimeter_layer)
        gdf = normalise_layer(raw, "quartier", ref, report)
        name = spec.perimeter_name or f"Quartier d'innovation de {spec.name}"
    geom = shapely.union_all(gdf.geometry.values)
    if geom.is_empty or geom.area == 0:
        raise LayerError(f"{ref.where()} : le périmètre du quartier est vide.")
    return gpd.GeoDataFrame(
        {"nom": [name], "insee": [spec.insee], "surface_m2": [geom.area]},
        geometry=[geom],
        crs=LAMBERT93,
    )


def _osm_sources(spec: DiagnosticSpec) -> list[Source]:
    """Sources from the OSM cache written by ``qmi osm fetch`` (``layers/osm/<slug>_osm.gpkg``)."""
    path = bundled_layers_dir() / "osm" / f"{spec.slug}_osm.gpkg"
    if not path.exists():
        return []
    import pyogrio

    from qmi_geo.layers.osm import ATTRIBUTION, LICENCE, read_osm_layers

    names = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    real = not read_osm_layers(path).metadata.synthetique
    return [
        Source(
            name=f"osm_{kind}",
            kind=kind,
            path=path,
            layer=kind,
            title=f"OpenStreetMap – {KINDS[kind].label}",
            producer=OSM_PRODUCER,
            licence=LICENCE,
            attribution=f"{ATTRIBUTION} (ODbL)",
            real=real,
        )
        for kind in KINDS
        if kind in names
    ]


def _workshop_source(
    spec: DiagnosticSpec, folder: Path | None, name: str, kind: str, layer: str, what: str
) -> Source | None:
    """What ``qmi atelier import`` stored for the commune (``<output>/<layer>.gpkg``), if any."""
    path = Path(folder or spec.output_dir) / f"{layer}.gpkg"
    if not path.exists():
        return None
    return Source(
        name=name,
        kind=kind,
        path=path,
        layer=layer,
        title=f"{what} l'atelier « carte sur table » – {spec.name}",
        producer=f"Ville de {spec.name} ; atelier « carte sur table »",
        licence="usage interne du diagnostic",
        attribution=f"Atelier « carte sur table », {spec.name}",
        real=True,
    )


def load_layers(
    spec: DiagnosticSpec,
    *,
    progress: bool | None = None,
    output_dir: Path | None = None,
    warm: tuple[str, ...] = (),
) -> LayerSet:
    """Read, validate, normalise and clip every layer of a spec.

    A source that fails (missing file, wrong schema) is reported as an error in the layer
    set's report and the other sources still load; the perimeter failing is fatal.

    ``warm`` names modules the next stages will import: when a forked child reads the
    sources (on two cores, see :mod:`qmi_geo._overlap`), this process imports them
    meanwhile and leaves the child all the sources but the commune outlines.
    """
    from tqdm.auto import tqdm

    report = ValidationReport()
    perimeter = perimeter_for(spec, report)
    area = perimeter.geometry.iloc[0].buffer(spec.buffer_m)
    wide_area = perimeter.geometry.iloc[0].buffer(max(spec.buffer_m, WIDE_BUFFER_M))
    sources = [s for group in spec.layers.values() for s in group] + _osm_sources(spec)
    for name, kind, layer, what in (
        ("defis_atelier", "defis", "defis", "Défis de"),
        ("sites_atelier", "sites", "sites_atelier", "Sites proposés à"),
    ):
        stored = _workshop_source(spec, output_dir, name, kind, layer, what)
        if stored is not None:
            sources.append(stored)
    frames: dict[str, list[gpd.GeoDataFrame]] = {}
    counts: dict[str, int] = {}
    rasters: dict[str, list[Path]] = {}
    show = settings.progress if progress is None else progress
    _log_step(show, f"{spec.name} : lecture de {len(sources)} source(s) de couches")
    load = partial(_load_source, spec=spec, area=area, wide_area=wide_area)
    from qmi_geo import _overlap

    elsewhere: list[int] = []
    job = None
    try:
        # on two cores, a forked child reads and normalises part of the sources meanwhile
        elsewhere, job = _load_elsewhere(sources, load, most=bool(warm))
        if job is not None:
            import importlib

            for name in warm:
                importlib.import_module(name)
        coverage = _coverage(sources, perimeter.geometry.iloc[0], report)
        loaded: dict[int, _Loaded] = {}
        # tqdm's own detection: a bar on a terminal only (disable=None), never in a log file
        bar = tqdm(
            total=len(sources),
            desc=f"Couches {spec.name}",
            unit="couche",
            disable=None if show else True,
            leave=False,
        )
        for pos, src in enumerate(sources):
            if pos in elsewhere:
                continue
            bar.set_postfix_str(src.name)
            if Path(src.path).suffix.lower() not in RASTER_SUFFIXES:
                loaded[pos] = load(src)
            bar.update()
        if job is not None:
            loaded.update(zip(elsewhere, job.join(), strict=True))
            job = None
            bar.update(len(elsewhere))
        bar.close()
    except BaseException:
        _overlap.cancel_all()
        raise
    layer_errors: dict[str, str] = {}

    def failed(src: Source, reason: str, level: str = "erreur") -> None:
        report.add(level, f"source « {src.name} » : {reason}")
        previous = layer_errors.get(src.kind)
        text = f"source « {src.name} » : {reason}"
        layer_errors[src.kind] = f"{previous} ; {text}" if previous else text

    for pos, src in enumerate(sources):  # in the order of the sources, wherever read
        ref = SourceRef(Path(src.path).name, src.layer)
        if pos not in loaded:
            _check_raster(src, ref, report, area, rasters, counts)
            continue
        got = loaded[pos]
        report.extend(got.report)
        if got.problem is not None:
            counts[src.name] = 0
            level, reason = got.problem
            if level == "avertissement" and src.name in coverage:
                # a catalogue source whose declared extent misses the quarter: its
                # coverage (0 %) says why its figures are « non disponible »
                report.add("info", f"source « {src.name} » : {reason}", ref)
                continue
            failed(src, reason, level)
            continue
        if got.error is not None:
            report.add("erreur", f"source « {src.name} » ignorée : {got.error}", ref)
            text = f"source « {src.name} » illisible : {got.error}"
            previous = layer_errors.get(src.kind)
            layer_errors[src.kind] = f"{previous} ; {text}" if previous else text
            counts[src.name] = 0
            continue
        if got.frame is None:
            counts[src.name] = 0
            report.add("info", f"aucune entité pour {spec.name} dans « {src.name} ».", ref)
            continue
        gdf = got.frame
        counts[src.name] = len(gdf)
        if len(gdf):
            frames.setdefault(src.kind, []).append(gdf)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for kind, group in frames.items():
        layers[kind] = gpd.GeoDataFrame(pd.concat(group, ignore_index=True), crs=LAMBERT93)
    if "coupures" in layers:
        layers["coupures"] = _prefer_osm_breaks(layers["coupures"], report)
    layers["quartier"] = perimeter
    # a kind fails only when none of its sources gave anything usable; a catalogue source
    # whose declared extent misses the quarter is a coverage matter (LayerSet.coverage)
    layer_errors = {
        kind: reason
        for kind, reason in layer_errors.items()
        if not any(counts.get(s.name, 0) for s in sources if s.kind == kind)
    }
    return LayerSet(
        spec,
        perimeter,
        layers,
        sources,
        report,
        counts,
        rasters,
        layer_errors=layer_errors,
        coverage=coverage,
    )


@dataclass
class _Loaded:
    """One vector source read and normalised (or why not), with what it reported."""

    report: ValidationReport
    frame: gpd.GeoDataFrame | None = None
    #: (level, French reason) of :func:`_unusable`
    problem: tuple[str, str] | None = None
    #: the French message of the error that made the source unreadable
    error: str | None = None


def _load_source(
    src: Source, *, spec: DiagnosticSpec, area: shapely.Geometry, wide_area: shapely.Geometry
) -> _Loaded:
    """Read, check, normalise and clip one vector source, its findings in its own report."""
    report = ValidationReport()
    ref = SourceRef(Path(src.path).name, src.layer)
    try:
        raw = _read_source(src)
        problem = _unusable(raw, src, ref, wide_area if src.kind in WIDE_KINDS else area)
        if problem is not None:
            return _Loaded(report, problem=problem)
        if src.filter_insee and src.filter_insee in raw.columns:
            raw = raw[raw[src.filter_insee].astype(str).str.contains(spec.insee)]
        if raw.empty:
            return _Loaded(report)
        clip = wide_area if src.kind in WIDE_KINDS else area
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", QmiGeoWarning)  # recorded in the report
            gdf = normalise_layer(
                raw,
                src.kind,
                ref,
                report,
                fields=src.fields,
                constants=src.constants,
                clip=clip,
                before_clip=_reconcile_iris if src.kind == "iris" else None,
            )
    except QmiGeoError as exc:
        return _Loaded(report, error=str(exc))
    gdf["source"] = src.name
    return _Loaded(report, frame=gdf)


#: below this many vector sources, reading them all here is quicker than forking
_MIN_SOURCES_ELSEWHERE = 6


def _load_elsewhere(
    sources: list[Source], load: Callable[[Source], _Loaded], *, most: bool = False
) -> tuple[list[int], Any]:
    """Start reading part of the vector sources in a forked child (qmi_geo._overlap).

    About half of them by file size, or (``most``) all but the commune outlines. Returns
    the positions given to the child and its job (``[]`` and None when the sources are all
    read here). The sources of one file stay together (the file is read once), and the
    commune outlines, already read for the perimeter, stay here.
    """
    from qmi_geo import _overlap

    vector = [
        i for i, s in enumerate(sources) if Path(s.path).suffix.lower() not in RASTER_SUFFIXES
    ]
    if len(vector) < _MIN_SOURCES_ELSEWHERE or not _overlap.available():
        return [], None
    files: dict[Path, list[int]] = {}
    for i in vector:
        files.setdefault(Path(sources[i].path), []).append(i)
    here_size = 0
    there_size = 0
    there: list[int] = []
    perimeter_file = Path(load_catalogue()["communes_idf"].path)

    def size(path: Path) -> int:
        try:
            return path.stat().st_size
        except OSError:
            return 0

    for path, group in sorted(files.items(), key=lambda item: -size(item[0])):
        if path == perimeter_file or (not most and here_size + size(path) <= there_size):
            here_size += size(path)
        else:
            there_size += size(path)
            there += group
    there.sort()
    if not there:
        return [], None
    job = _overlap.Forked(lambda: [load(sources[i]) for i in there])
    return there, job


def _reconcile_iris(iris: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """IRIS populations scaled to each commune's INSEE figure, on the whole layer."""
    from qmi_geo.layers.communes import reconcile_iris_population

    return gpd.GeoDataFrame(reconcile_iris_population(iris), crs=iris.crs)


def _unusable(
    raw: gpd.GeoDataFrame, src: Source, ref: SourceRef, area: shapely.Geometry
) -> tuple[str, str] | None:
    """(level, French reason) when a layer must not feed any figure, else None.

    Empty, coordinates outside its declared CRS's area of use, or an extent that does not
    reach the quarter at all (a layer of another territory). A layer whose extent covers
    the quarter but has no feature in it is a true zero (a commune with no QPV), not this.
    """
    file = ref.where()
    if raw.empty:
        crs = f" (EPSG:{raw.crs.to_epsg()})" if raw.crs is not None else ""
        return "erreur", f"couche vide : aucune entité dans {file}{crs}. Vérifiez le fichier."
    crs_problem = check_crs_area(raw, ref)
    if crs_problem is not None:
        return "erreur", crs_problem
    if raw.crs is None:
        return None  # normalise_layer infers it (and says so)
    geoms = raw.geometry[~(raw.geometry.isna() | raw.geometry.is_empty)]
    if geoms.empty:
        return "erreur", f"couche sans géométrie : {file}. Vérifiez le fichier."
    try:
        box = gpd.GeoSeries([shapely.box(*geoms.total_bounds)], crs=raw.crs).to_crs(LAMBERT93)
    except Exception:
        return None
    if not box.iloc[0].intersects(area):
        crs = raw.crs.to_epsg()
        return (
            "avertissement",
            f"couche « {src.kind} » entièrement hors du quartier et de son tampon : {file} "
            f"(EPSG:{crs}) ne couvre pas ce quartier. Donnez une source qui le couvre.",
        )
    return None


def _coverage(
    sources: list[Source], quarter: shapely.Geometry, report: ValidationReport
) -> dict[str, float]:
    """Share of the quarter inside each source's declared extent (see qmi_geo.layers.extent)."""
    from qmi_geo.layers.extent import extent_label, quarter_share

    out: dict[str, float] = {}
    for src in sources:
        try:
            share = quarter_share(src, quarter)
        except QmiGeoError as exc:
            report.add("erreur", f"source « {src.name} » : couverture illisible ({exc}).")
            continue
        if share is None:
            continue
        out[src.name] = share
        from qmi_geo.diagnostics.coverage import COVERAGE_THRESHOLD

        if share < COVERAGE_THRESHOLD:
            report.add(
                "avertissement",
                f"source « {src.name} » : ne couvre que {share:.0%} du quartier (couverture "
                f"{extent_label(src)}) ; ses indicateurs sont « non disponible ».".replace(
                    "%", " %"
                ),
            )
    return out


RASTER_SUFFIXES = {".tif", ".tiff", ".vrt"}


def _prefer_osm_breaks(breaks: gpd.GeoDataFrame, report: ValidationReport) -> gpd.GeoDataFrame:
    """When the OSM cache has breaks of a type, drop the other sources' breaks of that type.

    OSM railways and rivers overlap the IDFM and DDT 95 lines: keeping both would count the
    same break twice in the densities.
    """
    from_osm = breaks["source"] == "osm_coupures"
    types = set(breaks.loc[from_osm, "type"])
    drop = ~from_osm & breaks["type"].isin(types)
    if drop.any():
        report.add(
            "info",
            f"{int(drop.sum())} coupure(s) d'autres sources remplacée(s) par celles "
            f"d'OpenStreetMap (types : {', '.join(sorted(types))}) pour ne pas compter deux fois.",
        )
    return breaks[~drop].reset_index(drop=True)


def _check_raster(
    src: Source,
    ref: SourceRef,
    report: ValidationReport,
    area: shapely.Geometry,
    rasters: dict[str, list[Path]],
    counts: dict[str, int],
) -> None:
    """Validate a raster source from its header (CRS, overlap); pixels are read later in windows."""
    from qmi_geo.layers import read_raster_info

    counts[src.name] = 0
    try:
        info = read_raster_info(src.path)
    except QmiGeoError as exc:
        report.add("erreur", f"source « {src.name} » ignorée : {exc}", ref)
        return
    box = shapely.box(*info.bounds)
    if info.crs_epsg != LAMBERT93:
        box = gpd.GeoSeries([box], crs=f"EPSG:{info.crs_epsg}").to_crs(LAMBERT93).iloc[0]
    if not box.intersects(area):
        report.add("avertissement", "le raster ne recouvre pas le quartier ; ignoré.", ref)
        return
    counts[src.name] = 1
    rasters.setdefault(src.kind, []).append(Path(src.path))
    report.add(
        "info",
        f"raster {info.count} bande(s), résolution {info.resolution[0]:g} m, "
        f"EPSG:{info.crs_epsg} ; lu par fenêtres sur le quartier.",
        ref,
    )


def _gpkg_safe(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Make columns GeoPackage-friendly (no mixed object columns, lists or dicts)."""
    out = gdf.copy()
    seen: set[str] = set()
    renames = {}
    for col in out.columns:  # GeoPackage field names are case-insensitive
        key = str(col).lower()
        if key in seen:
            renames[col] = f"{col}_{len(seen)}"
        seen.add(key)
    out = out.rename(columns=renames)
    geometry = out.geometry.name
    # the dtypes at once: a GeoDataFrame column lookup per column cost ≈ 50 ms per run
    for col, dtype in list(out.dtypes.items()):
        if col == geometry:
            continue
        if isinstance(dtype, np.dtype) and dtype.kind == "O":  # not pandas' string dtypes
            out[col] = out[col].map(
                lambda v: v if v is None or isinstance(v, str | int | float | bool) else str(v)
            )
    return out


def write_geopackage(
    layers: dict[str, gpd.GeoDataFrame], path: Path, tables: dict[str, pd.DataFrame] | None = None
) -> Path:
    """Write every layer (and attribute-only tables) into one GeoPackage, replacing it.

    Every layer goes into a temporary GeoPackage beside ``path``, which replaces ``path``
    only once complete: an interrupted run leaves the previous file, never a partial one.
    """
    with atomic_path(path) as tmp, unsynced_sqlite():
        _write_gpkg_layers(layers, tmp, tables)
    return path


def _write_gpkg_layers(
    layers: dict[str, gpd.GeoDataFrame], path: Path, tables: dict[str, pd.DataFrame] | None
) -> None:
    import pyogrio

    # GeoPackage 1.2: read without warnings by the GDAL/QGIS versions of current LTS distros.
    options: dict[str, str] = {"VERSION": "1.2"}
    for name, gdf in layers.items():
        if gdf is None or gdf.empty:
            continue
        kinds = set(gdf.geometry.geom_type)
        promote = (
            len(kinds) > 1
            and not kinds <= {"Polygon", "MultiPolygon"}
            and not kinds <= {"LineString", "MultiLineString"}
            and not kinds <= {"Point", "MultiPoint"}
        )
        pyogrio.write_dataframe(
            _gpkg_safe(gdf),
            path,
            layer=name,
            driver="GPKG",
            geometry_type="Unknown" if promote else None,
            promote_to_multi=None if promote else True,
            dataset_options=options,
        )
        options = {}
    for name, df in (tables or {}).items():
        pyogrio.write_dataframe(
            pd.DataFrame(df).astype(object).where(pd.notna(df), None),
            path,
            layer=name,
            driver="GPKG",
            dataset_options=options,
        )
        options = {}
    if not path.exists():  # nothing to write: an empty but valid GeoPackage
        pyogrio.write_dataframe(
            pd.DataFrame({"vide": pd.Series([], dtype=str)}), path, layer="vide", driver="GPKG"
        )


def coverage_text(layerset: LayerSet, src: Source) -> str:
    """« couvre 34 % du quartier (couverture : Paris + 92/93/94) », in French."""
    from qmi_geo.diagnostics.coverage import COVERAGE_THRESHOLD, format_share
    from qmi_geo.layers.extent import extent_label

    share = layerset.coverage.get(src.name)
    if share is None:
        return "couverture non déclarée"
    text = f"couvre {format_share(share)} du quartier (couverture : {extent_label(src)})"
    if share < COVERAGE_THRESHOLD:
        text += f" — sous le seuil de {format_share(COVERAGE_THRESHOLD)}, non utilisée"
    return text


def _report_text(layerset: LayerSet) -> str:
    spec = layerset.spec
    lines = [
        f"Rapport de validation des couches — {spec.name} ({spec.insee})",
        f"Produit le {datetime.now():%d/%m/%Y à %H:%M} par qmi_geo",
        f"Périmètre : {layerset.perimeter['nom'].iloc[0]} "
        f"({layerset.perimeter.area.iloc[0] / 1e6:.2f} km²), ".replace(".", ",")
        + f"tampon {spec.buffer_m:.0f} m",
        "",
        "Couches (entités dans le quartier et son tampon) :",
    ]
    for src in layerset.sources:
        n = layerset.counts.get(src.name, 0)
        flag = "" if src.real else " [synthétique]"
        lines.append(
            f"  - {KINDS[src.kind].label} ← {src.name} : {n} entité(s){flag} ; "
            + coverage_text(layerset, src)
        )
    if layerset.layer_errors:
        lines += ["", "Couches inutilisables (leurs indicateurs sont « non disponible ») :"]
        lines += [f"  - {k} : {r}" for k, r in layerset.layer_errors.items()]
    absent = [
        KINDS[k].label for k in KINDS if k not in layerset.layers and k not in ("defis", "quartier")
    ]
    if absent:
        lines += ["", "Sans source réelle pour cette commune : " + ", ".join(absent) + "."]
    lines += ["", "Constats :"]
    lines += [f"  {i}" for i in layerset.report.issues] or ["  aucun"]
    rejects = layerset.report.rejects_frame()
    lines += [
        "",
        f"Entités rejetées : {len(rejects)}"
        + (" (voir rejets_couches.csv)" if len(rejects) else ""),
    ]
    lines += ["", "Sources :"] + [f"  - {a}" for a in layerset.attributions()]
    return "\n".join(lines) + "\n"


Stage = Callable[[LayerSet, DiagnoseResult], None]


def analyse(
    spec: DiagnosticSpec,
    *,
    output_dir: Path | None = None,
    progress: bool | None = None,
    stages: list[Stage] | None = None,
) -> DiagnoseResult:
    """Load the layers and run ``stages``, without writing the diagnostic GeoPackage.

    The one way every command (``diagnose``, ``map``, ``compare``, ``match``) gets a quarter's
    annotations, indicators and matches, so they always agree. Stages still write their own
    files into ``output_dir`` (default ``spec.output_dir``).
    """
    return _analyse(spec, output_dir=output_dir, progress=progress, stages=stages)


def _analyse(
    spec: DiagnosticSpec,
    *,
    output_dir: Path | None = None,
    progress: bool | None = None,
    stages: list[Stage] | None = None,
    finish: Callable[[DiagnoseResult], None] | None = None,
) -> DiagnoseResult:
    """:func:`analyse`, then ``finish(result)``; independent stages overlap on two cores.

    With :mod:`qmi_geo._overlap` available, the quarter's indicator table is computed in a
    forked child while this process computes the per-IRIS table and matches the solutions;
    a web map that is the last stage is built in a child while ``finish`` writes the
    diagnostic GeoPackage. What the child adds
    to the result is merged in the order of the stages, so the result, the files and the
    notes are those of the sequential run.
    """
    from qmi_geo import _overlap

    with _overlap.frozen():  # the forks below share their memory (see _overlap.frozen)
        return _run_stages(spec, output_dir, progress, stages, finish)


def _run_stages(
    spec: DiagnosticSpec,
    output_dir: Path | None,
    progress: bool | None,
    stages: list[Stage] | None,
    finish: Callable[[DiagnoseResult], None] | None,
) -> DiagnoseResult:
    """The body of :func:`_analyse`."""
    from qmi_geo import _overlap

    out = Path(output_dir or spec.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    funcs = {_func(stage) for stage in stages or []}
    # what the walk stage imports (scipy's k-d tree, sparse graphs, filters; rasterio):
    # imported while a child reads the layers, instead of after them
    warm = _WALK_MODULES if walks_stage in funcs else ()
    layerset = load_layers(spec, progress=progress, output_dir=out, warm=warm)
    result = DiagnoseResult(layerset, out)
    show = settings.progress if progress is None else progress
    stages = list(stages or [])
    overlap = _overlap.available()
    pending: tuple[_overlap.Forked, _Added] | None = None
    try:
        i = 0
        while i < len(stages):
            stage = stages[i]
            after = stages[i + 1] if i + 1 < len(stages) else None
            _log_step(show, f"{spec.name} : {_stage_label(stage)}")
            if overlap and _func(stage) is indicators_stage and _func(after) is matching_stage:
                assert after is not None
                # the web map as the last stage is started as soon as the matching is done,
                # and built while this process computes the per-IRIS table and the GeoPackage
                rest = stages[i + 2 :]
                map_next = len(rest) == 1 and _func(rest[0]) is map_stage and finish is not None
                before = _Added.of(result)
                quarter = partial(_quarter_indicators, **getattr(stage, "keywords", {}))
                job = _overlap.Forked(partial(_run_for_delta, quarter, layerset, result, before))
                if not map_next:
                    _iris_indicators(layerset, result)
                _log_step(show, f"{spec.name} : {_stage_label(after)}")
                info = _match(layerset, result, **getattr(after, "keywords", {}))
                before.merge(result, job.join())
                _matching_note(result, info)
                if map_next:
                    _log_step(show, f"{spec.name} : {_stage_label(rest[0])}")
                    at_map = _Added.of(result)
                    pending = (
                        _overlap.Forked(partial(_run_for_delta, rest[0], layerset, result, at_map)),
                        at_map,
                    )
                    _iris_indicators(layerset, result)
                    # where the sequential run has it: before the matching's layers
                    _move_after(result.extra_layers, "indicateurs_iris", before.extra_layers)
                    break
                i += 2
                continue
            if overlap and _func(stage) is map_stage and after is None and finish is not None:
                before = _Added.of(result)
                job = _overlap.Forked(partial(_run_for_delta, stage, layerset, result, before))
                pending = (job, before)
                break
            stage(layerset, result)
            i += 1
        if finish is not None:
            finish(result)
    except BaseException:
        _overlap.cancel_all()  # whichever child is running (Ctrl-C, an error here)
        raise
    if pending is not None:
        job, before = pending
        before.merge(result, job.join())
    return result


_WALK_MODULES = ("scipy.spatial", "scipy.sparse.csgraph", "scipy.ndimage", "rasterio")


def _func(stage: Stage | None) -> object:
    """The function behind a stage (a :func:`functools.partial` unwrapped)."""
    return getattr(stage, "func", stage)


@dataclass
class _Added:
    """What a result held before a stage ran in a child: the child sends back the rest."""

    files: list[str]
    extra_layers: list[str]
    extra_tables: list[str]
    products: list[str]
    notes: int

    @classmethod
    def of(cls, result: DiagnoseResult) -> _Added:
        return cls(
            list(result.files),
            list(result.extra_layers),
            list(result.extra_tables),
            list(result.products),
            len(result.notes),
        )

    def delta(self, result: DiagnoseResult) -> dict[str, Any]:
        """The entries ``result`` gained since (a stage only adds entries)."""
        out: dict[str, Any] = {"notes": result.notes[self.notes :]}
        for name in ("files", "extra_layers", "extra_tables", "products"):
            known = set(getattr(self, name))
            out[name] = {k: v for k, v in getattr(result, name).items() if k not in known}
        return out

    def merge(self, result: DiagnoseResult, delta: dict[str, Any]) -> None:
        """Put a child's entries where the sequential run has them: before this process's."""
        for name in ("files", "extra_layers", "extra_tables", "products"):
            if not delta[name]:
                continue
            current: dict[str, Any] = getattr(result, name)
            known = getattr(self, name)
            merged = {k: current[k] for k in known if k in current}
            merged.update(delta[name])
            merged.update({k: v for k, v in current.items() if k not in merged})
            current.clear()
            current.update(merged)
        result.notes[self.notes : self.notes] = delta["notes"]


def _move_after(entries: dict[str, Any], key: str, first: list[str]) -> None:
    """Move ``key`` right after the entries of ``first`` (those that are in ``entries``)."""
    if key not in entries:
        return
    order = [k for k in first if k in entries and k != key] + [key]
    order += [k for k in entries if k not in order]
    moved = {k: entries[k] for k in order}
    entries.clear()
    entries.update(moved)


def _run_for_delta(
    stage: Stage, layerset: LayerSet, result: DiagnoseResult, before: _Added
) -> dict[str, Any]:
    """Run ``stage`` (in a forked child) and return what it added to ``result``."""
    stage(layerset, result)
    return before.delta(result)


#: French names of the stages, for the one line per stage written when not on a terminal.
_STAGE_LABELS = {
    "walks_stage": "marches sensibles",
    "indicators_stage": "indicateurs",
    "matching_stage": "appariement des solutions",
    "map_stage": "carte sensible",
    "print_map_stage": "carte à imprimer",
    "report_stage": "livrable",
    "solution_maps_stage": "cartes des porteurs de projet",
}


def _stage_label(stage: Stage) -> str:
    func = getattr(stage, "func", stage)  # functools.partial
    name = getattr(func, "__name__", "")
    return _STAGE_LABELS.get(name, name.removesuffix("_stage").replace("_", " ") or "étape")


def _log_step(show: bool, message: str) -> None:
    """One plain line per step on stderr when it is not a terminal (a log file, CI)."""
    import sys

    if show and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        print(f"[qmi] {message}", file=sys.stderr, flush=True)


def diagnose(
    spec: DiagnosticSpec,
    *,
    output_dir: Path | None = None,
    progress: bool | None = None,
    stages: list[Stage] | None = None,
) -> DiagnoseResult:
    """Run the diagnostic of one quarter and write its outputs.

    Writes into ``output_dir`` (default ``spec.output_dir``): ``diagnostic.gpkg`` (one layer
    per kind), ``rapport_validation.txt`` and, when records were rejected,
    ``rejets_couches.csv``; later stages add their own files.
    """
    return _analyse(
        spec, output_dir=output_dir, progress=progress, stages=stages, finish=_write_diagnostic
    )


def _write_diagnostic(result: DiagnoseResult) -> None:
    """``diagnostic.gpkg``, ``rejets_couches.csv`` and ``rapport_validation.txt``."""
    layerset, out = result.layerset, result.output_dir
    gpkg_layers = dict(layerset.layers)
    gpkg_layers.update(result.extra_layers)
    result.files["diagnostic"] = write_geopackage(
        gpkg_layers, out / "diagnostic.gpkg", result.extra_tables
    )
    rejects = layerset.report.rejects_frame()
    if len(rejects):
        result.files["rejets_couches"] = write_csv(rejects, out / "rejets_couches.csv")
    report_path = out / "rapport_validation.txt"
    write_text(report_path, _report_text(layerset))
    result.files["rapport_validation"] = report_path


def walks_stage(layerset: LayerSet, result: DiagnoseResult) -> None:
    """Walk annotations, hot spots and density (see :mod:`qmi_geo.walks.stage`)."""
    from qmi_geo.walks.stage import walks_stage as run

    imported = run(layerset, result)
    if imported is not None:
        result.products["walks"] = imported


def indicators_stage(layerset: LayerSet, result: DiagnoseResult, *, n_pairs: int = 50) -> None:
    """The quarter's indicators: ``indicateurs.csv`` and tables in the GeoPackage.

    ``n_pairs`` point pairs are sampled for the pedestrian detour across breaks.
    """
    _quarter_indicators(layerset, result, n_pairs=n_pairs)
    _iris_indicators(layerset, result)


def _rasters(layerset: LayerSet, stack: Any) -> dict[str, Any] | None:
    """The first imperviousness raster (0-100 %), opened to be read by windows."""
    paths = layerset.rasters.get("surfaces_minerales", [])
    if not paths:
        return None
    import rasterio

    return {"impermeabilite": stack.enter_context(rasterio.open(paths[0]))}


def _quarter_indicators(layerset: LayerSet, result: DiagnoseResult, *, n_pairs: int = 50) -> None:
    """The indicator table of the quarter (``indicateurs.csv``, ``indicateurs`` table)."""
    from contextlib import ExitStack

    from qmi_geo.diagnostics import compute_indicators, write_indicators
    from qmi_geo.layers.communes import commune_facts

    spec = layerset.spec
    with ExitStack() as stack:
        table = compute_indicators(
            layerset.layers,
            perimeter=layerset.perimeter,
            annotations=result.extra_layers.get("annotations"),
            hotspots=result.extra_layers.get("points_chauds"),
            sources=layerset.sources,
            rasters=_rasters(layerset, stack),
            buffer_m=spec.buffer_m,
            n_pairs=n_pairs,
            coverage=layerset.coverage,
            layer_errors=layerset.layer_errors,
            commune=commune_facts(spec.insee),
            whole_commune=spec.perimeter_source == "commune",
        )
    from qmi_geo.layers.communes import metropole_reference

    reference = metropole_reference()
    if reference is not None:
        from qmi_geo.diagnostics.reference import with_reference

        table = with_reference(table, reference, spec.insee)
    result.files["indicateurs"] = write_indicators(table, result.output_dir)
    result.extra_tables["indicateurs"] = table
    result.products["indicators"] = table
    missing = int((table["statut"] == "non disponible").sum())
    result.notes.append(
        f"Indicateurs : {len(table)} calculés, dont {missing} « non disponible » (raison "
        "donnée dans indicateurs.csv)."
    )


def _iris_indicators(layerset: LayerSet, result: DiagnoseResult) -> None:
    """The indicators per IRIS (``indicateurs_iris`` layer of the GeoPackage)."""
    from contextlib import ExitStack

    from qmi_geo.diagnostics import iris_indicators
    from qmi_geo.diagnostics.coverage import coverage_plan, drop_uncovered

    plan = coverage_plan(layerset.sources, layerset.coverage, layerset.layer_errors)
    with ExitStack() as stack:
        per_iris = iris_indicators(
            drop_uncovered(layerset.layers, plan),
            perimeter=layerset.perimeter,
            annotations=result.extra_layers.get("annotations"),
            rasters=_rasters(layerset, stack),
        )
    if per_iris is not None and len(per_iris):
        result.extra_layers["indicateurs_iris"] = per_iris


def matching_stage(
    layerset: LayerSet, result: DiagnoseResult, *, catalogue: Path | None = None
) -> None:
    """Rank the quarter's sites for every solution of the spec (``appariements.csv``).

    ``catalogue`` replaces the spec's solution catalogue.
    """
    _matching_note(result, _match(layerset, result, catalogue=catalogue))


def _match(
    layerset: LayerSet, result: DiagnoseResult, *, catalogue: Path | None = None
) -> tuple[int, int, gpd.GeoDataFrame] | None:
    """The matching stage without its note: (solutions, solutions placed, sites) or None.

    The note counts the sites as the indicator table does, so it is written once the
    indicators are there (they may be computed at the same time, see :func:`_analyse`).
    """
    from qmi_geo.matching import (
        load_solutions,
        match_quarter,
        matches_for_map,
        matches_layer,
        write_matches,
    )

    spec = layerset.spec
    catalogue = catalogue or spec.solution_catalogue
    if not spec.solutions_enabled or catalogue is None:
        return None
    solutions = load_solutions(catalogue, only=spec.solutions or None)
    layers = dict(layerset.layers)
    if "sites" in layers and len(layers["sites"]):
        layers["sites"] = _site_origins(layers["sites"])
    matched = match_quarter(
        layers,
        solutions,
        annotations=result.extra_layers.get("annotations"),
        hotspots=result.extra_layers.get("points_chauds"),
        defis=layerset.layers.get("defis"),
        weights=spec.weights,
    )
    scores = matched.suitability.scores
    paths = write_matches(
        scores,
        result.output_dir,
        exclusions=matched.suitability.exclusion_summary(),
        sites=matched.sites,
        summary_frame=matched.suitability.summary,
    )
    result.files["appariements"] = paths[0]
    if len(scores):
        result.extra_layers["appariements"] = matches_layer(scores, matched.sites)
        result.products["matches_for_map"] = matches_for_map(scores, matched.sites)
    result.products["matching"] = matched
    services = [s for s in solutions if s.exigences.sans_site]
    if services:
        from qmi_geo.matching.communes import quarter_profile, score_services
        from qmi_geo.matching.report import write_csv

        profile = quarter_profile(
            spec.name,
            layers,
            perimeter=layerset.perimeter,
            annotations=result.extra_layers.get("annotations"),
            hotspots=result.extra_layers.get("points_chauds"),
            defis=layerset.layers.get("defis"),
        )
        service_scores = score_services(services, [profile], weights=spec.weights)
        result.products["services"] = service_scores
        result.files["services_commune"] = write_csv(
            service_scores, result.output_dir / "services_commune.csv"
        )
    placed = scores["solution_id"].nunique() if len(scores) else 0
    return len(solutions), int(placed), matched.sites


def _matching_note(result: DiagnoseResult, info: tuple[int, int, gpd.GeoDataFrame] | None) -> None:
    if info is None:
        return
    n_solutions, placed, sites = info
    result.notes.append(
        f"Appariement : {n_solutions} solution(s), {_site_count_text(result, sites)}, "
        f"{placed} solution(s) avec au moins un site possible."
    )


def _site_origins(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Tell each site's channel: workshop, the commune's own inventory, OSM or a bundled layer.

    A site source that is not in the bundled catalogue was declared by the commune in its
    spec (its own inventory file); workshop sites come from ``qmi atelier import``.
    """
    catalogue = set(load_catalogue())
    src = sites["source"].astype(str) if "source" in sites.columns else pd.Series("", sites.index)
    origin = src.map(
        lambda s: (
            "atelier"
            if "atelier" in s
            else "osm"
            if s.startswith("osm")
            else "couche"
            if s in catalogue
            else "commune"
        )
    )
    if "origine" in sites.columns:
        origin = sites["origine"].where(sites["origine"].notna(), origin)
    return sites.assign(origine=origin)


def _site_count_text(result: DiagnoseResult, sites: gpd.GeoDataFrame) -> str:
    """The sites the matching examined, said with the same count as the indicator table.

    « Sites de déploiement candidats » is one number everywhere (panel, report, log): the
    sites layer in the quarter. The matching also looks at stations, cited streets and sites
    just outside; those are counted apart, never under the same words.
    """
    table = result.products.get("indicators")
    n_candidates: int | None = None
    if table is not None and "code" in table:
        row = table[table["code"] == "sites"]
        if len(row) and pd.notna(row["valeur"].iloc[0]):
            n_candidates = int(row["valeur"].iloc[0])
    if n_candidates is None:
        return f"{len(sites)} site(s) examiné(s)"
    more = len(sites) - n_candidates
    extra = (
        f" + {more} autre(s) lieu(x) examiné(s) (gares, rues citées, abords du quartier)"
        if more > 0
        else ""
    )
    return f"{n_candidates} site(s) de déploiement candidat(s){extra}"


def map_inputs(layerset: LayerSet, result: DiagnoseResult) -> dict[str, Any]:
    """What the maps draw, gathered from the layer set and the earlier stages' products."""
    spec = layerset.spec
    extra = result.extra_layers
    return {
        "layers": layerset.layers,
        "perimeter": layerset.perimeter,
        "title": f"{spec.name} — quartier d'innovation",
        "annotations": extra.get("annotations"),
        "routes": extra.get("parcours"),
        "hotspots": extra.get("points_chauds"),
        "density_tif": result.files.get("densite_ressentis"),
        "indicators": result.products.get("indicators"),
        "matches": result.products.get("matches_for_map"),
        "defis": layerset.layers.get("defis"),
        "sources": [s for s in layerset.sources if layerset.counts.get(s.name, 0) > 0],
        # photos named by the walks are looked for next to the walk files
        "photo_dirs": list(dict.fromkeys(Path(p).parent for p in spec.walk_files)),
    }


def _stored_workshop_sites(layerset: LayerSet) -> gpd.GeoDataFrame | None:
    """The sites of ``sites_atelier.gpkg`` as stored (with their ``id``), for the drawing tool.

    They are re-shown, editable, on the next workshop map; exported again with the same ids,
    a new ``qmi atelier import`` updates them instead of adding copies.
    """
    src = next((s for s in layerset.sources if s.name == "sites_atelier"), None)
    if src is None or layerset.counts.get(src.name, 0) == 0 or not Path(src.path).exists():
        return None
    try:
        return gpd.read_file(src.path, layer=src.layer)
    except Exception:  # already reported when the layer set was loaded
        return None


def map_stage(layerset: LayerSet, result: DiagnoseResult, *, basemap: str | None = None) -> None:
    """The offline carte sensible augmentée (``carte_sensible.html``)."""
    from qmi_geo.maps import build_web_map

    path = build_web_map(
        **map_inputs(layerset, result),
        workshop_sites=_stored_workshop_sites(layerset),
        out_path=result.output_dir / "carte_sensible.html",
        basemap=basemap,
        slug=layerset.spec.slug,
    )
    result.files["carte_sensible"] = path
    result.notes.append(
        f"Carte sensible : {path.name} "
        + f"({path.stat().st_size / 1e6:.1f} Mo), ".replace(".", ",")
        + "s'ouvre par double-clic, sans réseau."
    )


def print_map_stage(layerset: LayerSet, result: DiagnoseResult) -> None:
    """The A3 landscape print map (``carte_impression.pdf`` and ``.png``, 300 dpi)."""
    from qmi_geo.maps import build_print_map

    pdf, png = build_print_map(
        **map_inputs(layerset, result),
        out_stem=result.output_dir / "carte_impression",
    )
    result.files["carte_impression_pdf"] = pdf
    result.files["carte_impression_png"] = png


def solution_map_stage(
    solution_id: str | None = None, *, top_n: int | None = None, basemap: str | None = None
) -> Stage:
    """A stage writing project holders' maps (``solutions/<id>.html``).

    One solution (``solution_id``) or, when None, every solution of the matching stage;
    ``top_n`` keeps each solution's best sites (all ranked sites when None).
    """

    def solution_maps_stage(layerset: LayerSet, result: DiagnoseResult) -> None:
        from qmi_geo.errors import SolutionError
        from qmi_geo.maps import build_solution_map
        from qmi_geo.matching import matches_for_map

        matched = result.products.get("matching")
        solutions = {s.id: s for s in getattr(matched, "solutions", [])}
        if solution_id is not None and solution_id not in solutions:
            known = ", ".join(sorted(solutions)) or "aucune"
            raise SolutionError(
                f"Solution inconnue pour ce diagnostic : « {solution_id} ». Solutions du "
                f"catalogue : {known}."
            )
        if matched is None:
            return
        ranked = matches_for_map(
            matched.suitability.scores,
            matched.sites,
            top_n=top_n,
        )
        sources = map_inputs(layerset, result)["sources"]
        wanted = [solution_id] if solution_id is not None else list(solutions)
        for sid in wanted:
            sites = ranked[ranked["solution"] == sid]
            path = build_solution_map(
                solutions[sid],
                sites,
                perimeter=layerset.perimeter,
                layers=layerset.layers,
                sources=sources,
                out_path=result.output_dir / "solutions" / f"{sid}.html",
                basemap=basemap,
            )
            result.files[f"solution_{sid}"] = path
        if solution_id is not None:
            n = int((ranked["solution"] == solution_id).sum())
            result.notes.append(f"Sites classés pour {solution_id} : {n}.")
        else:
            result.notes.append(
                f"Cartes des porteurs de projet : {len(wanted)} dans "
                f"{result.output_dir / 'solutions'}."
            )

    return solution_maps_stage


def report_stage(layerset: LayerSet, result: DiagnoseResult) -> None:
    """The diagnostic livrable (``diagnostic_<slug>.pdf`` and ``.html``).

    See :mod:`qmi_geo.report`; runs after the walk, indicator, matching and map stages.
    """
    from qmi_geo.report import build_commune_report

    files = build_commune_report(layerset, result)
    result.files.update(files)
    names = ", ".join(p.name for p in files.values())
    result.notes.append(f"Livrable : {names} (PDF A4 et HTML hors ligne).")


def default_stages(
    *, with_map: bool = True, basemap: str | None = None, with_report: bool = True
) -> list[Stage]:
    """The stages ``qmi diagnose`` runs after the layers, in order."""
    stages: list[Stage] = [walks_stage, indicators_stage, matching_stage]
    if with_map:
        stages.append(partial(map_stage, basemap=basemap))
    if with_report:
        stages.append(report_stage)
    return stages
