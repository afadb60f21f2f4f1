"""One call for the pipeline: candidate sites then suitability for a quarter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd

from qmi_geo.matching.catalogue import Solution
from qmi_geo.matching.sites import candidate_sites
from qmi_geo.matching.suitability import Suitability, assess_sites

__all__ = ["MatchResult", "match_quarter"]


@dataclass
class MatchResult:
    """Candidate sites of a quarter and the suitability of every (solution, site) pair."""

    sites: gpd.GeoDataFrame
    suitability: Suitability
    solutions: list[Solution]


def match_quarter(
    layers: Mapping[str, gpd.GeoDataFrame],
    solutions: Sequence[Solution],
    *,
    annotations: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    defis: gpd.GeoDataFrame | None = None,
    weights: Mapping[str, float] | None = None,
    extra_sites: gpd.GeoDataFrame | None = None,
) -> MatchResult:
    """Gather the quarter's candidate sites and score them for every solution.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        ``LayerSet.layers`` of :func:`qmi_geo.pipeline.load_layers` (EPSG:2154); they serve
        both as sources of sites and as context of the scores.
    solutions : sequence of Solution
        From :func:`qmi_geo.matching.load_solutions`.
    annotations, hotspots, defis : GeoDataFrame, optional
        Walk annotations, their hot spots and the workshop challenges.
    weights : mapping, optional
        The spec's criteria weights.
    extra_sites : GeoDataFrame, optional
        User-supplied sites.

    Returns
    -------
    MatchResult
    """
    sites = candidate_sites(layers, extra=extra_sites)
    defis = defis if defis is not None else layers.get("defis")
    suitability = assess_sites(
        solutions,
        sites,
        context=layers,
        annotations=annotations,
        hotspots=hotspots,
        defis=defis,
        weights=weights,
    )
    return MatchResult(sites=sites, suitability=suitability, solutions=list(solutions))
