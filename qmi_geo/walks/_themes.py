"""Match what participants typed to the controlled vocabulary of themes and valences.

Matching is accent-, case- and punctuation-insensitive and uses the synonyms of
:data:`qmi_geo.style.THEMES`. Results are cached per distinct string, so a 100,000-row
file with a handful of distinct theme labels costs a handful of matches.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import pandas as pd

from qmi_geo.style import THEMES
from qmi_geo.walks._distinct import Distinct, distinct

__all__ = [
    "DEFAULT_VALENCE",
    "WALK_SYNONYMS",
    "match_intensity",
    "match_theme",
    "match_valence",
    "normalise_text",
]

_PUNCT = re.compile(r"[_\-/\\|.,;:!?()\[\]{}«»\"“”]+")
_SPACES = re.compile(r"\s+")


def normalise_text(text: object) -> str:
    """Lower-case, strip accents and punctuation, collapse spaces.

    Parameters
    ----------
    text : object
        Any value; ``None`` and NaN give an empty string.

    Returns
    -------
    str

    Examples
    --------
    >>> normalise_text("  Îlot de CHALEUR ! ")
    'ilot de chaleur'
    >>> normalise_text("Pas d’ombre")
    "pas d'ombre"
    """
    if text is None or (isinstance(text, float) and text != text):
        return ""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.lower().replace("’", "'").replace("`", "'")
    s = _PUNCT.sub(" ", s)
    return _SPACES.sub(" ", s).strip()


#: What walk participants write, beyond the style's synonyms: field words, by theme code.
#: They are matched like the synonyms (longest term first, so « passage piéton dangereux »
#: is a hard crossing, not « dangereux », a feeling of unsafety).
WALK_SYNONYMS: dict[str, tuple[str, ...]] = {
    "coupure": (
        "traversee dangereuse",
        "traversees dangereuses",
        "traversee impossible",
        "difficile de traverser",
        "impossible de traverser",
        "passage pieton dangereux",
        "passages pietons dangereux",
        "passage pieton",
        "pas de passage pieton",
        "passage pieton absent",
        "carrefour dangereux",
        "rond point dangereux",
        "feu trop court",
        "feu pieton trop court",
        "feu rouge trop court",
        "temps de traversee",
        "franchissement difficile",
        "infranchissable",
        "dangerous crossing",
    ),
    "pollution_air": ("nuisance olfactive", "nuisances olfactives", "mauvaises odeurs"),
}


def _build_lookup() -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    exact: dict[str, str] = {}
    for code, words in WALK_SYNONYMS.items():
        for word in words:
            exact.setdefault(normalise_text(word), code)
    for theme in THEMES.values():
        for term in (theme.code, theme.label, *theme.synonyms):
            key = normalise_text(term)
            if key:
                exact.setdefault(key, theme.code)
    # Longest terms first, so that « pas d'ombre » (chaleur) wins over « ombre » (fraîcheur).
    terms = sorted(exact, key=len, reverse=True)
    patterns = [(re.compile(rf"(?<!\w){re.escape(t)}(?!\w)"), exact[t]) for t in terms]
    return exact, patterns


_EXACT, _PATTERNS = _build_lookup()


@functools.lru_cache(maxsize=4096)
def match_theme(text: str) -> tuple[str, bool]:
    """Find the theme code of a free-text theme label.

    The text is normalised (:func:`normalise_text`) and looked up among the codes, French
    labels and synonyms of :data:`qmi_geo.style.THEMES`; if there is no exact match, the
    longest known term found as whole words inside the text decides.

    Parameters
    ----------
    text : str
        The theme as typed (« Îlot de chaleur », « trop chaud », « manque_vegetation »...).

    Returns
    -------
    tuple of (str, bool)
        The theme code, and whether the text was recognised. Unknown or empty text gives
        ``("autre", False)``.

    Examples
    --------
    >>> match_theme("Îlot de chaleur")
    ('chaleur', True)
    >>> match_theme("CANICULE")
    ('chaleur', True)
    >>> match_theme("il n'y a pas d'ombre ici")
    ('chaleur', True)
    >>> match_theme("Traversée dangereuse"), match_theme("passage piéton dangereux")
    (('coupure', True), ('coupure', True))
    >>> match_theme("licorne")
    ('autre', False)
    """
    key = normalise_text(text)
    if not key:
        return "autre", False
    if key in _EXACT:
        return _EXACT[key], True
    for pattern, code in _PATTERNS:
        if pattern.search(key):
            return code, True
    return "autre", False


# The valence an annotation of a theme has when the participant did not say.
DEFAULT_VALENCE: dict[str, str] = {
    **dict.fromkeys(THEMES, "neutre"),
    **dict.fromkeys(
        (
            "chaleur",
            "manque_vegetation",
            "bruit",
            "pollution_air",
            "insecurite",
            "coupure",
            "circulation",
            "velo",
            "stationnement",
            "proprete",
        ),
        "negatif",
    ),
    **dict.fromkeys(
        ("fraicheur_vegetation", "convivialite", "patrimoine_paysage", "biodiversite"), "positif"
    ),
}

_VALENCE_WORDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "negatif",
            "negative",
            "neg",
            "-",
            "--",
            "−",
            "-1",
            "mauvais",
            "desagreable",
            "non",
            "n",
            "probleme",
            "point noir",
            "ressenti negatif",
            "bad",
            "no",
        ),
        "negatif",
    ),
    **dict.fromkeys(
        (
            "positif",
            "positive",
            "pos",
            "+",
            "++",
            "1",
            "+1",
            "bon",
            "bien",
            "agreable",
            "oui",
            "o",
            "atout",
            "point fort",
            "ressenti positif",
            "good",
            "yes",
        ),
        "positif",
    ),
    **dict.fromkeys(
        (
            "neutre",
            "neutral",
            "0",
            "=",
            "mitige",
            "moyen",
            "ni l'un ni l'autre",
            "ressenti neutre",
            "sans avis",
        ),
        "neutre",
    ),
}


@functools.lru_cache(maxsize=1024)
def match_valence(text: str) -> str | None:
    """Read a valence typed by a participant.

    Parameters
    ----------
    text : str
        « positif », « - », « Négatif », « +1 », « agréable »...

    Returns
    -------
    str or None
        ``"negatif"``, ``"neutre"`` or ``"positif"``; ``None`` when the text is empty or
        not understood.

    Examples
    --------
    >>> match_valence("Négatif"), match_valence("+"), match_valence("peut-être")
    ('negatif', 'positif', None)
    """
    raw = str(text).strip()
    if raw in _VALENCE_WORDS:  # symbols such as "+" or "-" vanish in normalise_text
        return _VALENCE_WORDS[raw]
    key = normalise_text(raw)
    return _VALENCE_WORDS.get(key)


_INTENSITY_WORDS: dict[str, int] = {
    "nul": 0,
    "nulle": 0,
    "aucun": 0,
    "aucune": 0,
    "faible": 1,
    "leger": 1,
    "legere": 1,
    "peu": 1,
    "moyen": 2,
    "moyenne": 2,
    "modere": 2,
    "moderee": 2,
    "fort": 3,
    "forte": 3,
    "tres fort": 3,
    "tres forte": 3,
    "eleve": 3,
    "elevee": 3,
}


def match_intensity(values: pd.Series, d: Distinct | None = None) -> tuple[pd.Series, pd.Series]:
    """Parse intensities on the 0–3 scale of safety audits.

    Parameters
    ----------
    values : pandas.Series
        Numbers, numeric strings (decimal comma accepted) or words (« faible », « fort »).

    Returns
    -------
    intensity : pandas.Series
        Nullable ``Int64`` values in 0..3.
    invalid : pandas.Series
        Boolean, True where a value was given but is not on the scale (then left empty).

    Examples
    --------
    >>> vals, bad = match_intensity(pd.Series(["2", "3,0", "fort", "", "7"]))
    >>> vals.tolist(), bad.tolist()
    ([2, 3, 3, <NA>, <NA>], [False, False, False, False, True])
    """
    if d is None:
        d = distinct(values)
    text = pd.Series(d.text, dtype="str")
    given = text != ""
    numbers = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
    words = text[numbers.isna() & given].map(lambda s: _INTENSITY_WORDS.get(normalise_text(s)))
    numbers = numbers.astype("float64")
    numbers.loc[words.index] = pd.to_numeric(words, errors="coerce").astype("float64")
    ok = (numbers.between(0, 3) & (numbers == numbers.round())).to_numpy(bool)
    invalid = (given.to_numpy(bool) & ~ok)[d.codes]
    out = numbers.where(ok).astype("Int64").array.take(d.codes)
    return pd.Series(out, index=values.index), pd.Series(invalid, index=values.index)
