"""Maps of the diagnostic.

The offline carte sensible augmentée, the print map, the « carte sur table » round trip
and the project-holder view.

This stage draws what the others computed; it computes nothing itself.
"""

from __future__ import annotations

from qmi_geo.maps.defis import read_defis_export, save_defis
from qmi_geo.maps.print_map import build_print_map
from qmi_geo.maps.solution import build_solution_map
from qmi_geo.maps.web import build_web_map

__all__ = [
    "build_print_map",
    "build_solution_map",
    "build_web_map",
    "read_defis_export",
    "save_defis",
]
