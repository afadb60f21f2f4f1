"""The diagnostic livrable: one report per commune and a global report, in PDF and HTML.

``build_commune_report`` turns what the pipeline's stages computed for one quarter into
``diagnostic_<slug>.html`` (one self-contained file: images inlined, no network, print
stylesheet) and ``diagnostic_<slug>.pdf`` (A4, embedded fonts, table of contents, page
numbers, tagged headings) typeset from the same HTML by WeasyPrint. ``build_global_report``
compares several quarters. The layout lives in ``templates/`` (Jinja2); heavy libraries
(matplotlib, WeasyPrint, esda) are imported only when a report is built.
"""

from __future__ import annotations

from qmi_geo.report.build import build_commune_report, build_global_report

__all__ = ["build_commune_report", "build_global_report"]
