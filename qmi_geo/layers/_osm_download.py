"""Talking to osmnx: lazy import, settings for one download, network and XML errors.

Private helpers of :mod:`qmi_geo.layers.osm`; every failure becomes a French
:class:`~qmi_geo.errors.QmiGeoError` that says what went wrong and how to go on (the
``--from-xml`` route when there is no network).
"""

from __future__ import annotations

import os
import socket
import xml.sax
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from xml.etree import ElementTree as ET

from qmi_geo.errors import LayerError, MissingDependencyError, OsmUnavailableError

__all__ = [
    "OFFLINE_HINT",
    "check_reachable",
    "download",
    "import_osmnx",
    "osmnx_settings",
    "user_cache_dir",
    "xml_errors",
]


def import_osmnx() -> Any:
    try:
        import osmnx
    except ImportError:
        raise MissingDependencyError(
            "Le module osmnx est nécessaire pour les couches OpenStreetMap. Installez l'extra "
            '« osm » : pip install "qmi_geo[osm]".'
        ) from None
    return osmnx


@contextmanager
def osmnx_settings(
    ox: Any, *, cache_dir: str | Path | None, overpass_url: str, timeout_s: float
) -> Iterator[None]:
    """Set osmnx's module-level settings for one download, then restore them."""
    wanted = {
        "use_cache": True,
        "cache_folder": str(Path(cache_dir) if cache_dir is not None else user_cache_dir()),
        "overpass_url": overpass_url,
        "requests_timeout": timeout_s,
        "log_console": False,
    }
    old = {key: getattr(ox.settings, key) for key in wanted}
    try:
        for key, value in wanted.items():
            setattr(ox.settings, key, value)
        yield
    finally:
        for key, value in old.items():
            setattr(ox.settings, key, value)


def user_cache_dir() -> Path:
    """``<user cache>/qmi_geo/osmnx`` (XDG on Linux, ~/Library/Caches, %LOCALAPPDATA%)."""
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif os.uname().sysname == "Darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "qmi_geo" / "osmnx"


OFFLINE_HINT = (
    "Sans réseau, exportez un extrait OSM XML de la zone (openstreetmap.org › "
    "Exporter, ou Overpass turbo) puis lancez « qmi osm fetch <commune> --from-xml "
    "FICHIER.osm »."
)


def check_reachable(url: str, *, timeout_s: float) -> None:
    """Fail fast and clearly when the Overpass server cannot be reached."""
    parsed = urlparse(url)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise OsmUnavailableError(
            f"Impossible de joindre le serveur OpenStreetMap (Overpass) {url} : {exc}. "
            f"Vérifiez la connexion réseau ou réessayez plus tard. {OFFLINE_HINT}"
        ) from None


def download(call: Callable[[], Any], ox: Any, url: str) -> Any:
    """Run an osmnx download, turning network and server failures into French errors."""
    import requests

    try:
        return call()
    except ox._errors.InsufficientResponseError:
        return None
    except (requests.RequestException, ox._errors.ResponseStatusCodeError) as exc:
        raise OsmUnavailableError(
            f"Le serveur OpenStreetMap (Overpass) {url} n'a pas répondu correctement : {exc}. "
            f"Réessayez plus tard ou réduisez le tampon. {OFFLINE_HINT}"
        ) from None


@contextmanager
def xml_errors(path: Path) -> Iterator[None]:
    """Turn XML parsing errors into a French message naming the file and the line."""
    try:
        yield
    except xml.sax.SAXParseException as exc:
        raise LayerError(
            f"{path} : XML mal formé à la ligne {exc.getLineNumber()}, colonne "
            f"{exc.getColumnNumber()} ({exc.getMessage()}). Ré-exportez l'extrait OSM ; un "
            "fichier tronqué par un téléchargement interrompu donne cette erreur."
        ) from None
    except ET.ParseError as exc:
        line, col = exc.position
        raise LayerError(
            f"{path} : XML mal formé à la ligne {line}, colonne {col}. Ré-exportez l'extrait "
            "OSM ; un fichier tronqué par un téléchargement interrompu donne cette erreur."
        ) from None
    except (KeyError, ValueError) as exc:
        if isinstance(exc, LayerError):
            raise
        raise LayerError(
            f"{path} n'a pas la structure d'un fichier OSM XML ({exc!r}). Attendu : un export "
            "<osm> avec des éléments <node>, <way> et <relation>."
        ) from None
