"""qmi_geo — territorial diagnostics for the Quartiers Métropolitains d'Innovation.

The flow of a diagnostic: layers (read, validate, normalise to EPSG:2154, clip to the quarter)
→ walks (annotations of the marche sensible) → diagnostics (indicators, comparison) →
matching (solutions × sites) → maps and reports. The command line ``qmi`` is a thin face over
this API.
"""

from qmi_geo import _interrupt

if _interrupt.is_command_line():  # Ctrl-C while the command is still importing: no traceback
    _interrupt.install()

from importlib.metadata import PackageNotFoundError, version

from qmi_geo.errors import QmiGeoError, QmiGeoWarning
from qmi_geo.settings import settings

try:
    __version__ = version("qmi_geo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

__all__ = ["QmiGeoError", "QmiGeoWarning", "__version__", "settings"]
