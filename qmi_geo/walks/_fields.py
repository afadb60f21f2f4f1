"""Map the columns of a walk file to the annotation fields, and parse their values."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from qmi_geo.walks._distinct import Distinct, distinct, text_of
from qmi_geo.walks._readers._columns import column_key

__all__ = ["FIELD_ALIASES", "map_columns", "parse_datetimes", "text_of"]

# Canonical field -> normalised column names that hold it, best first.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "marche": ("marche", "id marche", "marche id", "nom marche", "walk", "walk id"),
    "theme": (
        "theme",
        "themes",
        "thematique",
        "theme du ressenti",
        "ressenti theme",
        "categorie",
        "category",
        "sujet",
        "motif",
        "probleme",
        "tag",
        "tags",
        "type",
    ),
    "valence": (
        "valence",
        "ressenti",
        "sentiment",
        "perception",
        "polarite",
        "impression",
        "avis",
        "positif negatif",
        "ressenti global",
        "positif ou negatif",
    ),
    "intensite": (
        "intensite",
        "intensity",
        "intensite du ressenti",
        "niveau",
        "force",
        "gravite",
        "note",
        "score",
    ),
    "commentaire": (
        "commentaire",
        "commentaires",
        "comment",
        "comments",
        "remarque",
        "remarques",
        "description",
        "desc",
        "cmt",
        "observation",
        "observations",
        "verbatim",
        "texte",
        "text",
        "notes",
        "message",
    ),
    "photo": (
        "photo",
        "photos",
        "image",
        "picture",
        "media",
        "fichier photo",
        "photo url",
        "gx media links",
        "pj",
        "piece jointe",
    ),
    "horodatage": (
        "horodatage",
        "date heure",
        "date et heure",
        "datetime",
        "timestamp",
        "time",
        "date",
        "start",
        "debut",
        "submissiondate",
        "submission time",
        "today",
    ),
    "heure": ("heure", "heure de saisie", "time of day"),
    "role": (
        "role",
        "profil",
        "statut",
        "qualite",
        "fonction",
        "participant role",
        "type participant",
        "type de participant",
        "categorie participant",
    ),
    "auteur": (
        "auteur",
        "author",
        "participant",
        "participante",
        "nom prenom",
        "prenom nom",
        "nom",
        "prenom",
        "observateur",
        "observatrice",
        "contributeur",
        "contributrice",
        "enqueteur",
        "enqueteur nom",
        "username",
        "submitted by",
        "utilisateur",
        "user",
    ),
    "poids": ("poids", "weight", "votes", "nb votes"),
}


def map_columns(columns: list[str], *, exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """Choose the column holding each annotation field.

    Every column serves at most one field; aliases earlier in :data:`FIELD_ALIASES` win.

    Examples
    --------
    >>> map_columns(["Thème", "Commentaire", "groupe/Intensité", "Nom", "latitude"])
    {'theme': 'Thème', 'intensite': 'groupe/Intensité', 'commentaire': 'Commentaire', \
'auteur': 'Nom'}
    """
    keys: dict[str, str] = {}
    for col in columns:
        if col in exclude:
            continue
        keys.setdefault(column_key(col), col)
    used: set[str] = set()
    found: dict[str, str] = {}
    for field, aliases in FIELD_ALIASES.items():
        for alias in aliases:
            match = keys.get(alias)
            if match is not None and match not in used:
                found[field] = match
                used.add(match)
                break
    return found


_TZ = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_HAS_DATE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2} \d{2} \d{4}")
_EXCEL_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
_FRENCH_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d/%m/%y %H:%M",
    "%d/%m/%y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
)
_MONTHS = {
    "janvier": "01",
    "fevrier": "02",
    "février": "02",
    "mars": "03",
    "avril": "04",
    "mai": "05",
    "juin": "06",
    "juillet": "07",
    "aout": "08",
    "août": "08",
    "septembre": "09",
    "octobre": "10",
    "novembre": "11",
    "decembre": "12",
    "décembre": "12",
}
_MONTH_RE = re.compile(r"(\d{1,2})(?:er)? (" + "|".join(_MONTHS) + r") (\d{4})", re.I)


def _frenchify(text: pd.Series) -> pd.Series:
    text = text.str.replace(r"(\d{1,2})\s*h\s*(\d{2})", r"\1:\2", regex=True)
    return text.str.replace(
        _MONTH_RE, lambda m: f"{m.group(1)}/{_MONTHS[m.group(2).lower()]}/{m.group(3)}", regex=True
    )


def parse_datetimes(values: pd.Series, d: Distinct | None = None) -> tuple[pd.Series, pd.Series]:
    """Parse timestamps as field tools and spreadsheets write them.

    ISO 8601 (Kobo, ODK, GPX; offsets converted to Paris local time), French day-first
    dates (« 15/06/2024 14:30 », « 15 juin 2024 14h30 »), Excel serial numbers, and native
    datetimes (XLSX). Results are naive local times.

    Returns
    -------
    parsed : pandas.Series
        ``datetime64[ns]``, NaT where empty or unreadable.
    unreadable : pandas.Series
        Boolean, True where something was written that is not a date.

    Examples
    --------
    >>> s = pd.Series(["2024-06-15T14:30:00.000+02:00", "15/06/2024 14:30", "", "demain"])
    >>> parsed, bad = parse_datetimes(s)
    >>> [str(v) for v in parsed], bad.tolist()
    (['2024-06-15 14:30:00', '2024-06-15 14:30:00', 'NaT', 'NaT'], [False, False, False, True])
    """
    index = values.index
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        dt = values
        if getattr(dt.dt, "tz", None) is not None:
            dt = dt.dt.tz_convert("Europe/Paris").dt.tz_localize(None)
        return dt.astype("datetime64[ns]"), pd.Series(False, index=index)
    if len(values) > 64:  # parse each distinct text once
        d = distinct(values) if d is None else d
        if len(d.text) < len(values) // 2:
            parsed, bad = _parse_texts(pd.Series(d.text, dtype="str"))
            return (
                pd.Series(parsed.to_numpy()[d.codes], index=index, dtype="datetime64[ns]"),
                pd.Series(bad.to_numpy()[d.codes], index=index, dtype=bool),
            )
    return _parse_texts(text_of(values))


def _parse_texts(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_datetimes` of stripped texts (pandas' own warnings never reach users)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _parse_texts_quietly(text)


def _parse_texts_quietly(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    index = text.index
    out = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    todo = text != ""
    aware = todo & text.str.contains(_TZ)
    if aware.any():
        parsed = pd.to_datetime(text[aware], format="ISO8601", errors="coerce", utc=True)
        out[aware] = parsed.dt.tz_convert("Europe/Paris").dt.tz_localize(None)
    naive = todo & ~aware
    if naive.any():
        out[naive] = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
    for fmt in _FRENCH_FORMATS:
        left = todo & out.isna()
        if not left.any():
            break
        out[left] = pd.to_datetime(text[left], format=fmt, errors="coerce")
    left = todo & out.isna()
    serial = left & text.str.match(_EXCEL_SERIAL)
    if serial.any():
        days = pd.to_numeric(text[serial], errors="coerce")
        out[serial] = pd.to_datetime(days, unit="D", origin="1899-12-30").dt.round("s")
    left = todo & out.isna()
    if left.any():
        french = _frenchify(text[left])
        dated = french.str.contains(_HAS_DATE)
        for idx in french[dated].index:  # the rare leftovers only
            try:
                out[idx] = pd.to_datetime(french[idx], dayfirst=True)
            except (ValueError, OverflowError):
                continue
    unreadable = todo & out.isna()
    out = out.where((out.dt.year >= 1990) | out.isna())
    return out.astype("datetime64[ns]"), (unreadable | (todo & out.isna())).astype(bool)


def combine_date_time(date: pd.Series, time: pd.Series) -> pd.Series:
    """Join a date column and a separate time column (« 15/06/2024 » + « 14:30 »)."""
    d, t = text_of(date), text_of(time)
    return (d + np.where((t != "") & (d != ""), " " + t, "")).str.strip()
