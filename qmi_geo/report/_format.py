"""French number formatting for the report (« 85 497 habitants », « 34,4 % »).

Numbers are formatted by :func:`qmi_geo.maps._numbers.fr_number`, the same as on the maps.
"""

from __future__ import annotations

import math
from typing import Any

from qmi_geo.maps._numbers import fr_number

__all__ = ["DECIMALS", "decimals_for", "fr_number", "fr_value", "is_missing"]

NBSP = "\u202f"  # narrow no-break space, the French thousands separator

#: Decimals shown per unit of the indicator table (a unit not listed gets 2).
DECIMALS: dict[str, int] = {
    "%": 1,
    "habitants": 0,
    "€ par UC": 0,
    "m": 0,
    "m²": 0,
    "nombre": 0,
    "votes": 0,
    "km²": 2,
    "km/km²": 2,
    "ratio": 2,
    "°C": 1,
    "indice": 0,
    "ha": 1,
}


def is_missing(value: Any) -> bool:
    """Whether a value is absent (None, NaN, NA or empty string)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(math.isnan(float(value)))
    except (TypeError, ValueError):
        return False


def decimals_for(unit: str) -> int:
    """Decimals shown for a unit."""
    return DECIMALS.get(unit, 2)


def fr_value(value: Any, unit: str) -> str:
    """Value with its unit, or « non disponible ».

    Examples
    --------
    >>> fr_value(46085.2, "habitants")
    '46\u202f085 habitants'
    >>> fr_value(None, "%")
    'non disponible'
    """
    if is_missing(value):
        return "non disponible"
    text = fr_number(float(value), decimals_for(unit))
    if unit in ("nombre", "ratio", "indice", ""):
        return text
    sep = NBSP if unit == "%" else " "
    return f"{text}{sep}{unit}"
