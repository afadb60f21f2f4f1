"""Diagnostic indicators of an innovation quarter and the comparison of quarters.

Every indicator takes GeoDataFrames (EPSG:2154) and returns a Series aligned to the zones
it is computed for (the quarter, its IRIS, or many communes at once); nothing here reads a
file. :func:`compute_indicators` assembles them into the long table written to
``indicateurs.csv`` and to the GeoPackage; :func:`compare_quarters` puts several quarters
side by side.
"""

from __future__ import annotations

from qmi_geo.diagnostics._table import (
    compute_indicators,
    indicator_table,
    iris_indicators,
    write_indicators,
)
from qmi_geo.diagnostics.compare import compare_quarters, write_comparison

__all__ = [
    "compare_quarters",
    "compute_indicators",
    "indicator_table",
    "iris_indicators",
    "write_comparison",
    "write_indicators",
]
