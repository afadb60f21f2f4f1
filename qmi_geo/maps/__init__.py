"""Maps of the diagnostic.

The offline carte sensible augmentée, the print map, the « carte sur table » round trip
and the project-holder view.

This stage draws what the others computed; it computes nothing itself. Each map's module is
imported when first used (folium for the web maps, matplotlib for the print map), so that a
diagnostic without a print map never loads matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qmi_geo.maps.defis import read_defis_export, save_defis
    from qmi_geo.maps.print_map import build_print_map
    from qmi_geo.maps.sites_atelier import read_sites_export, save_sites
    from qmi_geo.maps.solution import build_solution_map
    from qmi_geo.maps.web import build_web_map

__all__ = [
    "build_print_map",
    "build_solution_map",
    "build_web_map",
    "read_defis_export",
    "read_sites_export",
    "save_defis",
    "save_sites",
]

_HOME = {
    "build_print_map": "qmi_geo.maps.print_map",
    "build_solution_map": "qmi_geo.maps.solution",
    "build_web_map": "qmi_geo.maps.web",
    "read_defis_export": "qmi_geo.maps.defis",
    "save_defis": "qmi_geo.maps.defis",
    "read_sites_export": "qmi_geo.maps.sites_atelier",
    "save_sites": "qmi_geo.maps.sites_atelier",
}


def __getattr__(name: str) -> Any:
    """Import a map builder on first use (PEP 562)."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from qmi_geo._templates import install

    install()  # folium compiles ~90 jinja2 templates on import: reuse them (see _templates)
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
