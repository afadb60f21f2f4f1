"""Personal data never leaves the importer: names become stable pseudonyms, the rest is dropped.

Personal columns
----------------
:func:`is_personal_column` is the one place that decides which columns of a walk file are
personal. A column is personal when its name (accents, case, Kobo group prefixes and
punctuation ignored) is, or contains as words, one of :data:`PERSONAL_NAMES`:

* person names — ``prénom``, ``nom``, ``nom de famille``, ``nom prénom``, ``first name``,
  ``last name``, ``surname``, ``full name``, ``auteur``, ``author``, ``participant(e)``,
  ``observateur``, ``contributeur``, ``enquêteur``;
* e-mail — ``email``, ``e-mail``, ``mail``, ``courriel``, ``adresse électronique``;
* phone — ``téléphone``, ``tél``, ``tel``, ``phone``, ``mobile``, ``portable``, ``gsm``;
* submitter and device ids — ``_submitted_by``, ``submitter``, ``username``,
  ``utilisateur``, ``user``, ``deviceid``, ``imei``, ``subscriberid``, ``simserial``,
  ``phonenumber``.

The author column that the importer recognises becomes a pseudonym (below); every other
personal column is dropped from every output, the rejects file included.

Pseudonyms
----------

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
from collections.abc import Iterable

import numpy as np
import pandas as pd

from qmi_geo.settings import settings
from qmi_geo.walks._distinct import distinct, str_series
from qmi_geo.walks._themes import normalise_text

__all__ = [
    "PERSONAL_NAMES",
    "SALT_VARIABLE",
    "drop_personal_columns",
    "is_personal_column",
    "personal_columns",
    "pseudonym",
    "pseudonymise",
    "pseudonyms",
]

#: Normalised column names (or words inside them) that hold personal data.
PERSONAL_NAMES: frozenset[str] = frozenset(
    {
        # names
        "prenom",
        "prenoms",
        "nom",
        "noms",
        "nom de famille",
        "nom prenom",
        "prenom nom",
        "nom complet",
        "first name",
        "firstname",
        "last name",
        "lastname",
        "surname",
        "given name",
        "full name",
        "fullname",
        "auteur",
        "auteure",
        "autrice",
        "author",
        "participant",
        "participante",
        "observateur",
        "observatrice",
        "contributeur",
        "contributrice",
        "enqueteur",
        "enqueteur nom",
        # e-mail
        "email",
        "e mail",
        "mail",
        "courriel",
        "adresse mail",
        "adresse electronique",
        # phone
        "telephone",
        "tel",
        "phone",
        "mobile",
        "portable",
        "gsm",
        "phonenumber",
        "phone number",
        "numero de telephone",
        # submitters and devices
        "submitted by",
        "submitter",
        "username",
        "user name",
        "utilisateur",
        "user",
        "deviceid",
        "device id",
        "imei",
        "subscriberid",
        "simserial",
    }
)
#: Words that make a column personal wherever they appear in its name.
_PERSONAL_WORDS = frozenset(
    {
        "prenom",
        "email",
        "courriel",
        "telephone",
        "phone",
        "phonenumber",
        "username",
        "deviceid",
        "imei",
        "auteur",
        "author",
        "submitter",
        "surname",
    }
)

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


def is_personal_column(name: object) -> bool:
    """True when a column name says it holds personal data (see the module docstring).

    Examples
    --------
    >>> [is_personal_column(c) for c in ["Prénom", "Nom de famille", "_submitted_by"]]
    [True, True, True]
    >>> [is_personal_column(c) for c in ["groupe/Téléphone", "E-mail", "Courriel perso"]]
    [True, True, True]
    >>> [is_personal_column(c) for c in ["thème", "commentaire", "name", "Nom de la rue"]]
    [False, False, False, False]
    """
    key = normalise_text(str(name).rsplit("/", 1)[-1])
    if key in PERSONAL_NAMES:
        return True
    words = key.split()
    return any(w in _PERSONAL_WORDS for w in words)


def personal_columns(columns: Iterable[object]) -> list[str]:
    """The personal columns among ``columns``, in order."""
    return [str(c) for c in columns if is_personal_column(c)]


def drop_personal_columns(frame: pd.DataFrame, *, keep: tuple[str, ...] = ()) -> pd.DataFrame:
    """``frame`` without its personal columns (columns in ``keep`` always stay)."""
    drop = [c for c in frame.columns if c not in keep and is_personal_column(c)]
    return frame.drop(columns=drop) if drop else frame
