"""Matching candidate solutions to sites: catalogue, candidate sites, suitability, allocation.

The stage takes GeoDataFrames (layers, walk annotations, hot spots, workshop challenges) and
returns DataFrames; only :func:`load_solutions` reads a file (the solution catalogue) and only
:mod:`qmi_geo.matching.report` writes files.
"""

from __future__ import annotations

from qmi_geo.matching.allocation import Allocation, AllocationError, allocate
from qmi_geo.matching.catalogue import (
    EVALUATION_CRITERIA,
    Evaluation,
    Requirements,
    Solution,
    default_catalogue_path,
    load_solutions,
    parse_solutions,
    solutions_frame,
)
from qmi_geo.matching.report import matches_for_map, matches_layer, write_allocation, write_matches
from qmi_geo.matching.run import MatchResult, match_quarter
from qmi_geo.matching.sites import candidate_sites, normalise_site_kind
from qmi_geo.matching.suitability import (
    CRITERIA,
    DEFAULT_WEIGHTS,
    Suitability,
    assess_sites,
    check_weights,
    score_sites,
)

__all__ = [
    "CRITERIA",
    "DEFAULT_WEIGHTS",
    "EVALUATION_CRITERIA",
    "Allocation",
    "AllocationError",
    "Evaluation",
    "MatchResult",
    "Requirements",
    "Solution",
    "Suitability",
    "allocate",
    "assess_sites",
    "candidate_sites",
    "check_weights",
    "default_catalogue_path",
    "load_solutions",
    "match_quarter",
    "matches_for_map",
    "matches_layer",
    "normalise_site_kind",
    "parse_solutions",
    "score_sites",
    "solutions_frame",
    "write_allocation",
    "write_matches",
]
