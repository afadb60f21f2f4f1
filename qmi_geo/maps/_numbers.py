"""French numbers and units for the maps (« 85 497 habitants », « 4 sites », « 23,5 % »).

Counts and populations are whole numbers with a narrow no-break space between thousands; a
count's unit (« nombre » in the indicator table) becomes the French word for what is
counted, so the panel never says « 4 nombre ».
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["NNBSP", "count_noun", "fr_number", "fr_value"]

NNBSP = "\u202f"  # narrow no-break space: the French thousands separator

#: Decimals shown per unit; a unit not listed gets 1.
_DECIMALS = {
    "habitants": 0,
    "nombre": 0,
    "votes": 0,
    "m": 0,
    "m²": 0,
    "€ par UC": 0,
    "€ / UC": 0,
    "%": 1,
    "km²": 1,
    "km/km²": 2,
    "ratio": 2,
}

#: Indicator code prefix -> (singular, plural) of what a « nombre » counts.
_NOUNS: tuple[tuple[str, tuple[str, str]], ...] = (
    ("nb_qpv", ("QPV", "QPV")),
    ("points_chauds", ("point chaud", "points chauds")),
    ("annotations", ("annotation", "annotations")),
    ("rues_citees", ("rue", "rues")),
    ("franchissements", ("franchissement", "franchissements")),
    ("sites", ("site", "sites")),
    ("gares", ("gare", "gares")),
    ("colleges", ("collège", "collèges")),
    ("friches", ("friche", "friches")),
    ("defis", ("défi", "défis")),
    ("arbres", ("arbre", "arbres")),
)


def fr_number(value: float, decimals: int = 0) -> str:
    """Format a number the French way.

    Examples
    --------
    >>> fr_number(85497.2)
    '85\u202f497'
    >>> fr_number(23.456, 1)
    '23,5'
    """
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", NNBSP).replace(".", ",")


def count_noun(code: str, n: float) -> str:
    """The word for what indicator ``code`` counts (plural from 2), or « » if unknown.

    Examples
    --------
    >>> count_noun("sites_ecole", 4), count_noun("nb_qpv", 1), count_noun("x", 3)
    ('sites', 'QPV', '')
    """
    for prefix, (one, many) in _NOUNS:
        if code.startswith(prefix):
            return one if abs(n) < 2 else many
    return ""


def fr_value(value: Any, unit: Any, code: str = "") -> str:
    """Value with its French unit; « — » when missing.

    Examples
    --------
    >>> fr_value(85497.2, "habitants")
    '85\u202f497 habitants'
    >>> fr_value(4, "nombre", "sites")
    '4 sites'
    >>> fr_value(63.29, "%")
    '63,3\u202f%'
    >>> fr_value(None, "%")
    '—'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    u = "" if unit is None or (isinstance(unit, float) and math.isnan(unit)) else str(unit)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"{value} {u}".strip()
    text = fr_number(number, _DECIMALS.get(u, 1))
    if text.endswith(",0") and u not in ("%",):
        text = text[:-2]
    if u == "nombre":
        noun = count_noun(code, number)
        return f"{text} {noun}".strip()
    if u == "%":
        return f"{text}{NNBSP}%"
    return f"{text} {u}".strip()
