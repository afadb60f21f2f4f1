"""Participant names never leave the importer: they become stable pseudonyms.

A pseudonym is ``P-`` followed by 4 hexadecimal characters of a salted SHA-256 of the
normalised name, so the same person gets the same pseudonym in every walk and every run,
and nobody can read the name back from an output. The salt is, in this order: the ``salt``
argument, the setting ``qmi_geo.settings.settings.pseudonym_salt``, the environment
variable ``QMI_GEO_SEL_PSEUDONYMES`` (set one of them to a secret of the programme's team
so that names cannot be recovered by hashing a list of candidate names), else a fixed
string. It is read at call time.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd

from qmi_geo.settings import settings
from qmi_geo.walks._distinct import distinct, str_series
from qmi_geo.walks._themes import normalise_text

__all__ = ["SALT_VARIABLE", "pseudonym", "pseudonymise", "pseudonyms"]

SALT_VARIABLE = "QMI_GEO_SEL_PSEUDONYMES"
_DEFAULT_SALT = "qmi_geo-marches-sensibles"


def _salt(salt: str | None) -> str:
    if salt is not None:
        return salt
    if settings.pseudonym_salt is not None:
        return str(settings.pseudonym_salt)
    return os.environ.get(SALT_VARIABLE, _DEFAULT_SALT)


def pseudonym(name: object, *, salt: str | None = None) -> str:
    """Stable pseudonym of one participant name; empty for an empty name.

    Case, accents and spacing do not matter: « Élodie  Martin » and « elodie martin »
    get the same pseudonym.

    Examples
    --------
    >>> pseudonym("Élodie Martin", salt="s") == pseudonym(" elodie  MARTIN", salt="s")
    True
    >>> pseudonym("Élodie Martin", salt="s").startswith("P-")
    True
    >>> pseudonym("", salt="s")
    ''
    """
    key = normalise_text(name)
    if not key:
        return ""
    digest = hashlib.sha256(f"{_salt(salt)}\x00{key}".encode()).hexdigest()
    return f"P-{digest[:4]}"


def pseudonymise(names: pd.Series, *, salt: str | None = None) -> pd.Series:
    """Replace every name of a Series by its pseudonym (computed once per distinct name).

    Examples
    --------
    >>> s = pseudonymise(pd.Series(["Ana", "ana", None]), salt="s")
    >>> s[0] == s[1], s[2]
    (True, '')
    """
    d = distinct(names)
    return str_series(pseudonyms(d.text, salt=salt), d.codes, names.index)


def pseudonyms(names: np.ndarray, *, salt: str | None = None) -> np.ndarray:
    """Pseudonyms of an array of (distinct) names, as an object array of str."""
    resolved = _salt(salt)
    return np.array([pseudonym(n, salt=resolved) for n in names], dtype=object)
