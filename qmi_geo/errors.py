"""Errors and warnings raised by qmi_geo.

Every error derives from :class:`QmiGeoError` and, where it makes sense, from a builtin
exception too, so that callers can catch either ``QmiGeoError`` or the usual ``ValueError`` /
``FileNotFoundError``. Messages meant for users (CLI, reports) are in French; each states the
bad value, what was expected and how to fix it.

Warnings have their own classes so that users can filter them with :mod:`warnings`.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "CRSInferredWarning",
    "CoordinatesSwappedWarning",
    "EmptyLayerError",
    "EmptyWalkFileWarning",
    "GeometryRepairedWarning",
    "LayerError",
    "LayerFileNotFoundError",
    "LayerOutsideWarning",
    "MissingDependencyError",
    "MissingFieldError",
    "OsmUnavailableError",
    "QmiGeoError",
    "QmiGeoWarning",
    "SettingsError",
    "SolutionError",
    "SpecError",
    "UnknownCommuneError",
    "WalkError",
    "WalkFileMissingWarning",
    "WrongGeometryTypeError",
]


class QmiGeoError(Exception):
    """Root of every qmi_geo error."""


class SettingsError(QmiGeoError, ValueError):
    """A setting is unknown or has a value of the wrong type."""


class SpecError(QmiGeoError, ValueError):
    """A diagnostic spec (``diagnostics/<commune>.toml``) is invalid."""


class UnknownCommuneError(SpecError, KeyError):
    """An INSEE code or commune name is not known."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class LayerError(QmiGeoError, ValueError):
    """A layer cannot be read or does not follow its schema."""


class LayerFileNotFoundError(LayerError, FileNotFoundError):
    """A layer file does not exist."""


class EmptyLayerError(LayerError):
    """A layer has no feature."""


class MissingFieldError(LayerError, KeyError):
    """A required field is absent from a layer."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class OsmUnavailableError(LayerError, ConnectionError):
    """OpenStreetMap data cannot be downloaded (no network, Overpass server down or refusing)."""


class WrongGeometryTypeError(LayerError, TypeError):
    """A layer has geometries of a type its kind does not accept."""


class CRSError(LayerError):
    """A layer's CRS is missing and cannot be inferred, or is implausible."""


class WalkError(QmiGeoError, ValueError):
    """A walk (marche sensible) file cannot be read at all."""


class SolutionError(QmiGeoError, ValueError):
    """An entry of the solution catalogue is invalid."""


class MissingDependencyError(QmiGeoError, ImportError):
    """An optional dependency (an extra) is needed and not installed."""


class QmiGeoWarning(UserWarning):
    """Root of every qmi_geo warning."""


class CRSInferredWarning(QmiGeoWarning):
    """A layer had no CRS; one was inferred from its coordinate ranges."""


class CoordinatesSwappedWarning(QmiGeoWarning):
    """Latitude and longitude were swapped in a layer and have been put back in order."""


class GeometryRepairedWarning(QmiGeoWarning):
    """Invalid geometries were repaired with ``make_valid``."""


class EmptyWalkFileWarning(QmiGeoWarning):
    """A walk file has a header and no row: nothing was imported from it."""


class WalkFileMissingWarning(QmiGeoWarning):
    """A walk file listed in a spec does not exist (when the spec allows it)."""


class LayerOutsideWarning(QmiGeoWarning):
    """A layer is empty, outside the quarter, or outside its declared CRS's area of use."""
