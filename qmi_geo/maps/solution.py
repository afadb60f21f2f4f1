"""The project-holder view: one solution's candidate sites in the quarter.

Draws what the matching stage ranked (:func:`qmi_geo.matching.matches_for_map` fields:
``solution_nom``, ``site_nom``, ``type_site``, ``rang``, ``score``, ``raisons``) over the
context layers a project holder needs; no participant text, no drawing tool. The map opens
framed on the ranked sites, each numbered by its rank, with the reasons in its popup and a
numbered list in the side panel that zooms to each site. The other candidate sites, the
streets and the sealed surfaces are one click away in the layer control.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd

from qmi_geo.maps.web import build_web_map

__all__ = ["build_solution_map"]

_CONTEXT = ("communes", "qpv", "coupures", "gares", "surfaces_minerales", "sites", "rues")


def build_solution_map(
    solution: Any,
    ranked_sites: gpd.GeoDataFrame,
    *,
    perimeter: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    out_path: Path | str,
    sources: Sequence[Any] = (),
    basemap: str | None = None,
) -> Path:
    """Write an offline web map focused on one solution's ranked candidate sites.

    Parameters
    ----------
    solution : object
        A :class:`qmi_geo.matching.Solution` (reads ``nom`` / ``label`` and ``id``).
    ranked_sites : geopandas.GeoDataFrame
        The solution's sites with ``rang``, ``score`` and ``raisons`` (may be empty).
    perimeter : geopandas.GeoDataFrame
        The quarter.
    layers : mapping of str to geopandas.GeoDataFrame
        Context layers; only the kinds useful to a project holder are drawn.
    out_path : path-like
        The HTML file to write.
    sources : sequence
        Objects with an ``attribution``.
    basemap : {"ign", "osm"}, optional
        Online basemap.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    name = getattr(solution, "nom", None) or getattr(solution, "label", None) or str(solution)
    context = {k: v for k, v in layers.items() if k in _CONTEXT}
    quartier = ""
    if "nom" in perimeter.columns and len(perimeter):
        quartier = str(perimeter["nom"].iloc[0] or "")
    title = f"{name} — sites candidats" + (f" à {quartier}" if quartier else " du quartier")
    # how sure the ranking is (matching's sensitivity analysis): « classement robuste (…) »
    robust = (
        str(ranked_sites["classement"].dropna().iloc[0])
        if "classement" in ranked_sites.columns and ranked_sites["classement"].notna().any()
        else ""
    )
    if robust.startswith("classement"):
        title += f" — {robust.split(' (')[0]}"
    ranked = ranked_sites if len(ranked_sites) else None
    path = build_web_map(
        context,
        perimeter=perimeter,
        title=title,
        out_path=out_path,
        matches=ranked,
        matches_name=f"Sites classés pour « {name} »",
        ranked_list=True,
        frame=ranked,
        hidden=("sites", "rues", "surfaces_minerales"),
        sources=sources,
        basemap=basemap,
        drawing=False,
    )
    return path
