"""Escaping of text and data written into HTML pages.

Participant text (walk comments, workshop challenges) is data, never markup. Two rules:

* text written into HTML goes through :func:`escape_text`;
* data handed to the page's scripts goes through :func:`json_for_script`, which leaves no
  ``<``, ``>`` or ``&`` in the page (so no ``</script>`` can close the block early), and the
  scripts put it on screen with ``textContent``, never ``innerHTML``.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

__all__ = ["escape_text", "json_for_script"]


def escape_text(value: Any) -> str:
    """Return ``value`` as HTML-escaped text; missing values become an empty string.

    Parameters
    ----------
    value : Any
        Any value; ``None`` and NaN give ``""``.

    Returns
    -------
    str
        Text safe to place in an HTML element or attribute.

    Examples
    --------
    >>> escape_text("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> escape_text(None), escape_text(float("nan"))
    ('', '')
    """
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return html.escape(str(value), quote=True)


def json_for_script(obj: Any) -> str:
    r"""Serialise ``obj`` as JSON that is safe inside an HTML ``<script>`` element.

    Parameters
    ----------
    obj : Any
        JSON-serialisable data.

    Returns
    -------
    str
        Compact JSON where ``<``, ``>``, ``&``, U+2028 and U+2029 are ``\\u`` escapes.

    Examples
    --------
    >>> json_for_script({"c": "</script><b>"})
    '{"c":"\\u003c/script\\u003e\\u003cb\\u003e"}'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
