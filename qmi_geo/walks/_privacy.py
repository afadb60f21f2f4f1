"""Participant names never leave the importer: they become stable pseudonyms.

A pseudonym is ``P-`` followed by 4 hexadecimal characters of a salted SHA-256 of the
normalised name, so the same person gets the same pseudonym in every walk and every run,
and nobody can read the name back from an output. The salt comes from the environment
variable ``QMI_GEO_SEL_PSEUDONYMES`` (set it to a secret of the programme's team so that
names cannot be recovered by hashing a list of candidate names) or defaults to a fixed
string.
"""

from __future__ import annotations

import hashlib
import os

import pandas as pd

from qmi_geo.walks._themes import normalise_text

__all__ = ["SALT_VARIABLE", "pseudonym", "pseudonymise"]

SALT_VARIABLE = "QMI_GEO_SEL_PSEUDONYMES"
_DEFAULT_SALT = "qmi_geo-marches-sensibles"


def _salt(salt: str | None) -> str:
    return salt if salt is not None else os.environ.get(SALT_VARIABLE, _DEFAULT_SALT)


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
    text = names.astype(object).where(names.notna(), "").astype(str)
    mapping = {n: pseudonym(n, salt=salt) for n in text.unique()}
    return text.map(mapping).astype(str)
