"""The walk stage of ``qmi diagnose``: annotations, hot spots and density for one quarter.

The stage takes the pipeline's layer set and result objects (duck-typed: this module never
imports the pipeline) and adds the layers ``annotations``, ``parcours`` and
``points_chauds`` to the diagnostic GeoPackage, plus ``densite_ressentis.tif`` and
``rejets.csv`` in the output folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from qmi_geo.walks._importer import WalkImport, import_walks
from qmi_geo.walks._store import load_annotations, save_annotations, write_rejects
from qmi_geo.walks.analysis import density_surface, hotspots, link_context

__all__ = ["walks_stage"]


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
        None when the spec lists no walk file.
    """
    spec = layerset.spec
    files = [Path(p) for p in getattr(spec, "walk_files", [])]
    if not files:
        return None
    out = Path(result.output_dir)
    store = out / "annotations.gpkg"
    imported = import_walks(files, perimeter=layerset.perimeter, existing=load_annotations(store))
    save_annotations(imported, store)
    rejects = write_rejects(
        imported.rejects, out / "rejets.csv", imported_files=[s.fichier for s in imported.summary]
    )
    ann = imported.annotations
    layers = layerset.layers
    if len(ann):
        ctx = link_context(
            ann,
            rues=layers.get("rues"),
            coupures=layers.get("coupures"),
            sites=layers.get("sites"),
            qpv=layers.get("qpv"),
        )
        ann = ann.join(ctx)
    spots = hotspots(
        imported.annotations, radius_m=spec.hotspot_radius_m, min_size=int(spec.hotspot_min_size)
    )
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
    result.files["annotations"] = store
    result.files["rejets_marches"] = rejects
    totals = pd.Series(imported.to_json_dict()["total"])
    result.notes.append(
        f"Marches sensibles : {totals['lus']} ligne(s) lue(s), {totals['acceptes']} "
        f"acceptée(s), {totals['rejetes']} rejetée(s), {totals['signales']} à vérifier ; "
        f"{len(spots)} point(s) chaud(s)."
    )
    return imported
