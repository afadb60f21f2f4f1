"""Rendering a folium page once: rendered output is text, never a template again.

branca renders a page in two passes. Each element's macros are rendered, and the resulting
text is wrapped in a new ``branca.element.Element(text)``, which compiles that text as a
jinja2 template and renders it again when the page is assembled. Two consequences:

* cost: every layer's rendered script (the GeoJSON data, the annotation table) goes
  through jinja2's lexer and compiler a second time (about 80 compilations per carte
  sensible, the largest over a megabyte of data);
* safety: any ``{{ … }}`` or ``{% … %}`` in the *data* is executed. A participant comment
  « {{ 7*7 }} » would appear on the map as « 49 »; jinja2 expressions can do worse.

:func:`render_page` renders the figure with ``branca.element.Template`` standing for
:class:`_RenderedText` for the duration of the call: the ``Element(text)`` objects created
while rendering keep their text as is (jinja2's one difference, dropping a single trailing
newline, is kept, so pages are unchanged). folium's tooltips compile the same style template
inside each ``render`` call (one per GeoJSON layer): during :func:`render_page` that
template is compiled once per process. The templates of the element classes themselves,
compiled once when their modules are imported, are untouched. :class:`StaticElement` is the
same idea for the fixed blocks (CSS, scripts) a page adds: no template compilation at all.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import branca.element
import folium.features
import jinja2

__all__ = ["StaticElement", "render_page", "rendered_text"]

_LOCK = threading.RLock()


class _RenderedText:
    """Stands in for ``jinja2.Template`` around text that is already rendered."""

    def __init__(self, source: str, *_args: Any, **_kwargs: Any) -> None:
        text = str(source)
        self._text = text[:-1] if text.endswith("\n") else text  # as jinja2 renders it

    def render(self, *_args: Any, **_kwargs: Any) -> str:
        return self._text


_FOLIUM_TEMPLATE = folium.features.Template  # folium's subclass (with its JS filters)


@functools.lru_cache(maxsize=64)
def _compiled_once(source: str) -> jinja2.Template:
    return _FOLIUM_TEMPLATE(source)


class StaticElement(branca.element.Element):
    """A block of HTML, CSS or JavaScript written into the page exactly as given."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self._html = html

    def render(self, **_kwargs: Any) -> str:
        return self._html


def render_page(root: Any) -> str:
    """Render a ``branca.element.Figure`` (``folium.Map.get_root()``) to HTML.

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(location=[48.8, 2.3], tiles=None)
    >>> data = {
    ...     "type": "Feature",
    ...     "properties": {"t": "{{ 7*7 }}"},
    ...     "geometry": {"type": "Point", "coordinates": [2.3, 48.8]},
    ... }
    >>> _ = folium.GeoJson(data).add_to(m)
    >>> html = render_page(m.get_root())
    >>> "{{ 7*7 }}" in html, '"t": "49"' in html
    (True, False)
    """
    with rendered_text():
        return str(root.render())


@contextmanager
def rendered_text() -> Iterator[None]:
    """Within the block, ``branca.element.Element(text)`` keeps ``text`` as is.

    Used by :func:`render_page`, and around ``folium.Map(...)``, whose new ``Figure``
    adds a fixed ``<meta>`` element.
    """
    with _LOCK:
        original = branca.element.Template, folium.features.Template
        setattr(branca.element, "Template", _RenderedText)  # noqa: B010
        setattr(folium.features, "Template", _compiled_once)  # noqa: B010
        try:
            yield
        finally:
            setattr(branca.element, "Template", original[0])  # noqa: B010
            setattr(folium.features, "Template", original[1])  # noqa: B010
