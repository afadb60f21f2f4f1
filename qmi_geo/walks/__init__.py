"""Marche sensible: import annotations from field tools and find where feelings concentrate.

Import (:func:`import_walks`) reads what participants and facilitators produced — CSV/XLSX
from Excel, KoboToolbox/ODK exports, uMap GeoJSON, Google My Maps KML/KMZ, GPX waypoints and
tracks, QField GeoPackages — into one annotation layer in Lambert-93; nothing is lost (every
row is accepted or rejected with a French reason) and participant names become pseudonyms.
"""

from __future__ import annotations

from qmi_geo.walks._importer import WalkImport, import_walks
from qmi_geo.walks._privacy import pseudonym, pseudonymise
from qmi_geo.walks._readers import RawWalk, read_walk_file
from qmi_geo.walks._schema import ANNOTATION_COLUMNS, FLAGS, empty_annotations
from qmi_geo.walks._store import load_annotations, load_routes, save_annotations, write_rejects
from qmi_geo.walks._summary import FileSummary, format_summary
from qmi_geo.walks._themes import match_theme, match_valence

__all__ = [
    "ANNOTATION_COLUMNS",
    "FLAGS",
    "FileSummary",
    "RawWalk",
    "WalkImport",
    "empty_annotations",
    "format_summary",
    "import_walks",
    "load_annotations",
    "load_routes",
    "match_theme",
    "match_valence",
    "pseudonym",
    "pseudonymise",
    "read_walk_file",
    "save_annotations",
    "write_rejects",
]
