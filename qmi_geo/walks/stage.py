"""The walk stage of ``qmi diagnose``: annotations, hot spots and density for one quarter.

The stage takes the pipeline's layer set and result objects (duck-typed: this module never
imports the pipeline) and adds the layers ``annotations``, ``parcours`` and
``points_chauds`` to the diagnostic GeoPackage, plus ``densite_ressentis.tif`` and
``rejets.csv`` in the output folder.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from qmi_geo.errors import WalkError, WalkFileMissingWarning
from qmi_geo.walks._importer import WalkImport, import_walks
from qmi_geo.walks._store import (
    FROM_SPEC,
    load_annotations,
    load_files,
    remove_files,
    save_annotations,
    store_lock,
    write_rejects,
)
from qmi_geo.walks.analysis import density_surface, hotspots, link_context
from qmi_geo.walks.fub import annotations_from_rues_citees

__all__ = ["walks_stage"]


def _present_files(layerset: Any, result: Any) -> list[Path]:
    """The spec's walk files; a missing one is an error, or a recorded warning if allowed."""
    spec = layerset.spec
    files = [Path(p) for p in getattr(spec, "walk_files", [])]
    missing = [p for p in files if not p.is_file()]
    if not missing:
        return files
    origin = Path(spec.path).name if getattr(spec, "path", None) else "la spec"
    names = ", ".join(str(p) for p in missing)
    if not getattr(spec, "walks_allow_missing", False):
        raise WalkError(
            f"Fichier(s) de marche introuvable(s) : {names} (listé(s) dans {origin}, [walks] "
            "files). Corrigez le chemin, ou ajoutez « allow_missing = true » dans [walks] pour "
            "continuer sans ce(s) fichier(s)."
        )
    message = f"fichier(s) de marche introuvable(s), ignoré(s) (allow_missing = true) : {names}"
    layerset.report.add("avertissement", message)
    result.notes.append(f"Attention : {message}.")
    warnings.warn(WalkFileMissingWarning(message), stacklevel=3)
    return [p for p in files if p.is_file()]


def _forget_removed_files(store: Path, imported: WalkImport, result: Any) -> None:
    """Remove from the store the annotations of spec files no longer in the spec (say so)."""
    if not store.exists():
        return
    table = load_files(store)
    listed = {s.fichier for s in imported.summary}
    gone = sorted(set(table.loc[table["origine"] == FROM_SPEC, "fichier"]) - listed)
    if not gone:
        return
    n = remove_files(store, gone)
    result.notes.append(
        f"Marches sensibles : fichier(s) retiré(s) de la spec : {', '.join(gone)} — "
        f"{n} annotation(s) retirée(s) de la couche de la commune."
    )


def walks_stage(layerset: Any, result: Any) -> WalkImport | None:
    """Import the spec's walk files and add annotations, hot spots and density to the outputs.

    Parameters
    ----------
    layerset : qmi_geo.pipeline.LayerSet
        Uses ``spec`` (``walk_files``, ``hotspot_radius_m``, ``hotspot_min_size``,
        ``density_cell_m``, ``density_bandwidth_m``), ``perimeter`` and ``layers``
        (``rues``, ``coupures``, ``sites``, ``qpv`` for the context links).
    result : qmi_geo.pipeline.DiagnoseResult
        Receives ``files`` entries, ``notes`` and ``extra_layers``.

    Returns
    -------
    WalkImport or None
        None when the spec lists no walk file and no FUB cited street is at hand.
    """
    spec = layerset.spec
    files = _present_files(layerset, result)
    layers = layerset.layers
    fub = layers.get("rues_citees")
    use_fub = bool(getattr(spec, "walks_fub", True)) and fub is not None and len(fub) > 0
    out = Path(result.output_dir)
    store = out / "annotations.gpkg"
    if not files and not use_fub and not store.exists():
        return None
    with store_lock(store):
        imported = import_walks(
            files, perimeter=layerset.perimeter, existing=load_annotations(store)
        )
        _forget_removed_files(store, imported, result)
        if files:
            save_annotations(imported, store, origin=FROM_SPEC)
            rejects = write_rejects(
                imported.rejects,
                out / "rejets.csv",
                imported_files=[s.fichier for s in imported.summary],
            )
            result.files["rejets_marches"] = rejects
    if store.exists():
        # the commune's annotation layer: the spec's files plus every earlier
        # `qmi walks import`, merged by id (no duplicates)
        result.files["annotations"] = store
        ann = load_annotations(store)
    else:
        ann = imported.annotations
    n_walk = len(ann)
    if use_fub:
        # Real perceptions: each FUB cited street is a negative « vélo » annotation weighted
        # by its votes; walk id FUB_WALK_ID keeps it apart from the walks in the indicators.
        fub_ann = annotations_from_rues_citees(fub)
        ann = fub_ann if not len(ann) else pd.concat([ann, fub_ann], ignore_index=True)
        ann = gpd.GeoDataFrame(ann, geometry="geometry", crs=fub_ann.crs)
    if len(ann):
        ctx = link_context(
            ann,
            rues=layers.get("rues"),
            coupures=layers.get("coupures"),
            sites=layers.get("sites"),
            qpv=layers.get("qpv"),
        )
        ann = ann.join(ctx)
    spots = hotspots(ann, radius_m=spec.hotspot_radius_m, min_size=int(spec.hotspot_min_size))
    extra = result.__dict__.setdefault("extra_layers", {})
    extra["annotations"] = ann
    if len(imported.routes):
        extra["parcours"] = imported.routes
    extra["points_chauds"] = spots
    if len(ann):
        bounds = tuple(layerset.perimeter.total_bounds)
        result.files["densite_ressentis"] = density_surface(
            ann,
            out / "densite_ressentis.tif",
            cell_m=spec.density_cell_m,
            bandwidth_m=spec.density_bandwidth_m,
            bounds=bounds,
        )
    totals = pd.Series(imported.to_json_dict()["total"])
    fub_note = f" + {len(fub_ann)} rue(s) citée(s) par la FUB" if use_fub else ""
    stored = f" ; {n_walk} annotation(s) dans la couche de la commune" if store.exists() else ""
    result.notes.append(
        f"Marches sensibles : {totals['lus']} ligne(s) lue(s), {totals['acceptes']} "
        f"acceptée(s), {totals['rejetes']} rejetée(s), {totals['signales']} à vérifier"
        f"{stored}{fub_note} ; {len(spots)} point(s) chaud(s)."
    )
    return imported
