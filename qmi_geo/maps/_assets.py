"""Offline copies of Leaflet and its plugins, inlined into every page we write.

Why ``folium-offline``
----------------------
The carte sensible must open by double-click with no network at all, so every script and
stylesheet is inlined in the HTML. We need the exact files folium links to from CDNs
(Leaflet 1.9.3, Leaflet.markercluster, Leaflet.draw, leaflet.fullscreen, Leaflet-MiniMap,
leaflet-measure, Leaflet.pattern). The PyPI package ``folium-offline`` (MIT, Sandia National
Laboratories) ships these files, byte for byte, in a dictionary keyed by the very CDN URLs that
folium 0.20 uses, with the images their stylesheets need already turned into ``data:`` URIs.
Taking them from that wheel means:

* nothing to download at run time and no npm on a user's machine (the Makefile installs from
  PyPI only);
* no vendored copy of other projects' code in our repository (house style);
* one lookup per URL, so any folium element we use is inlined the same way, and an unknown URL
  is an error instead of a silent CDN link.

We render with the real ``folium`` (which other parts of qmi_geo use too) and only borrow
``folium-offline``'s resource store; we never use its forked map classes. The store is a
private attribute of that package, so access is confined to :func:`asset`, which fails with a
clear message if a future release moves it.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
import sys
import types
from collections.abc import Mapping
from importlib import resources

from qmi_geo.errors import MissingDependencyError, QmiGeoError

__all__ = ["LEAFLET_CSS", "LEAFLET_JS", "OWN_PREFIX", "asset", "inline_assets"]

#: Pseudo-URL prefix of qmi_geo's own scripts (``qmi_geo/maps/assets/``), inlined like the rest.
OWN_PREFIX = "qmi-asset:"

LEAFLET_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"

# Leaflet-MiniMap's stylesheet points at images/toggle.svg next to it; give it an inline arrow.
_TOGGLE_SVG = (
    "data:image/svg+xml;charset=utf-8,"
    "%3Csvg xmlns='http://www.w3.org/2000/svg' width='18' height='18' viewBox='0 0 18 18'%3E"
    "%3Cpath d='M4 14 L14 4 M6 4 H14 V12' stroke='%23333' stroke-width='2' fill='none'/%3E"
    "%3C/svg%3E"
)

_SCRIPT_RE = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"'](?P<url>[^\"']+)[\"'][^>]*>\s*</script>", re.IGNORECASE
)
_LINK_RE = re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"'](?P<url>[^\"']+)[\"'][^>]*/?>", re.IGNORECASE)


@functools.cache
def _store() -> Mapping[str, str]:
    try:
        elements = _elements_module()
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            "La carte hors ligne a besoin du paquet « folium-offline » (Leaflet et ses "
            "extensions embarqués). Installez l'extra cartes : pip install 'qmi_geo[maps]'."
        ) from exc
    store = getattr(elements, "_res", None)
    if not isinstance(store, dict) or not store:  # pragma: no cover - upstream change
        raise MissingDependencyError(
            "La version installée de « folium-offline » ne fournit plus ses ressources "
            "embarquées ; installez folium-offline 0.20.x."
        )
    return store


def _elements_module() -> types.ModuleType:
    """``offlinefolium.elements`` (the resource store) without the package's ``__init__``.

    ``offlinefolium/__init__.py`` imports its forked copies of every folium class, whose
    jinja2 templates (about a hundred) are compiled at import: a third of a second for
    classes we never use. Only the ``elements`` submodule holds the store, so it is
    imported under a bare stand-in for its package, which is then removed from
    ``sys.modules`` (a later ``import offlinefolium`` gets the real package). If the
    package is already imported, it is used as is.
    """
    if "offlinefolium" in sys.modules:
        from offlinefolium import elements

        return elements
    spec = importlib.util.find_spec("offlinefolium")  # locates it without running it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("offlinefolium")
    package = types.ModuleType("offlinefolium")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["offlinefolium"] = package
    try:
        return importlib.import_module("offlinefolium.elements")
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == "offlinefolium"]:
            del sys.modules[name]


def asset(url: str) -> str:
    """Return the text of the script or stylesheet folium would fetch from ``url``.

    Parameters
    ----------
    url : str
        A CDN URL used by folium (e.g. :data:`LEAFLET_JS`).

    Returns
    -------
    str
        The file's content, with the images it references inlined as ``data:`` URIs.

    Raises
    ------
    QmiGeoError
        If no offline copy exists for ``url``: the page would need the network.

    Examples
    --------
    >>> "L.Map" in asset(LEAFLET_JS) or "Map" in asset(LEAFLET_JS)
    True
    """
    if url.startswith(OWN_PREFIX):
        return _own(url[len(OWN_PREFIX) :])
    store = _store()
    try:
        text = store[url]
    except KeyError:
        raise QmiGeoError(
            f"Aucune copie hors ligne de la ressource {url!r} : la carte aurait besoin "
            "d'Internet. Retirez l'élément qui l'utilise ou ajoutez sa copie."
        ) from None
    if url.endswith("Control.MiniMap.css"):
        text = re.sub(r'url\("images/toggle\.(svg|png)"\)', f'url("{_TOGGLE_SVG}")', text)
    return text


@functools.cache
def _own(name: str) -> str:
    try:
        return (resources.files("qmi_geo.maps") / "assets" / name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QmiGeoError(f"Ressource interne absente du paquet : {name}.") from None


def _script(text: str) -> str:
    # A literal "</script" inside the code would close the element early.
    return "<script>" + re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE) + "</script>"


def _style(text: str) -> str:
    return "<style>" + re.sub(r"</(style)", r"<\\/\1", text, flags=re.IGNORECASE) + "</style>"


def inline_assets(html: str) -> str:
    """Replace every external ``<script src>`` and stylesheet ``<link>`` by its inline copy.

    Parameters
    ----------
    html : str
        A page rendered by folium.

    Returns
    -------
    str
        The same page with no reference to a remote script or stylesheet.

    Raises
    ------
    QmiGeoError
        If the page references a remote script or stylesheet with no offline copy.

    Examples
    --------
    >>> page = f'<head><script src="{LEAFLET_JS}"></script></head>'
    >>> out = inline_assets(page)
    >>> "cdn.jsdelivr" in out, out.startswith("<head><script>")
    (False, True)
    """
    seen: set[str] = set()

    def _js(match: re.Match[str]) -> str:
        url = match.group("url")
        if url in seen:
            return ""
        seen.add(url)
        return _script(asset(url))

    def _css(match: re.Match[str]) -> str:
        tag = match.group(0)
        if "stylesheet" not in tag.lower():
            return tag
        url = match.group("url")
        if url in seen:
            return ""
        seen.add(url)
        return _style(asset(url))

    html = _SCRIPT_RE.sub(_js, html)
    return _LINK_RE.sub(_css, html)
