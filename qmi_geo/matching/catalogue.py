"""The catalogue of candidate solutions: schema, loading and validation.

The catalogue is data kept in the repository (``layers/solutions.toml``): one ``[[solution]]``
table per solution with its identity (name, theme, category, commune of the first cohort, a
short French description), the requirements derived from the description
(``[solution.exigences]``) and the replicability index (``[solution.evaluation]``, five criteria
scored 0–3, or ``"non_evalue"``). The schema is documented at the top of that file. Users can
add their own solutions in the same format; a bad entry raises
:class:`~qmi_geo.errors.SolutionError` naming the file, the solution and the field.

This module is the only one of :mod:`qmi_geo.matching` that reads a file.

Examples
--------
>>> from qmi_geo.matching import load_solutions
>>> solutions = load_solutions()
>>> len(solutions)
28
>>> purple = next(s for s in solutions if s.id == "purple")
>>> purple.exigences.types_sites
('parking', 'place', 'ecole', 'rue')
>>> purple.evaluation.experimentation_deployee
3
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from qmi_geo.errors import SolutionError
from qmi_geo.style import SITE_KINDS, THEMES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - python 3.10
    import tomli as tomllib

__all__ = [
    "CONTEXT_LEVELS",
    "EVALUATION_CRITERIA",
    "NOT_EVALUATED",
    "SURFACE_KINDS",
    "Evaluation",
    "Requirements",
    "Solution",
    "default_catalogue_path",
    "load_solutions",
    "parse_solutions",
    "solutions_frame",
]

NOT_EVALUATED = "non_evalue"

#: The five criteria of the replicability index and their scales (brochure QMI, « Pas
#: d'expérimentation sans évaluation »), as shown to users.
EVALUATION_CRITERIA: dict[str, tuple[str, tuple[str, str, str, str]]] = {
    "experimentation_deployee": (
        "Expérimentation déployée",
        ("Pas du tout", "Terrain validé", "Test lancé", "Test réussi"),
    ),
    "traction_commerciale": ("Traction commerciale", ("Non", "Un peu", "Forte", "Très forte")),
    "potentiel_industrialisation": (
        "Potentiel d'industrialisation",
        ("Pas du tout", "Difficilement", "Oui mais plafond à l'entrée", "Oui"),
    ),
    "facilite_operationnelle": (
        "Facilité opérationnelle",
        (
            "Ingénierie très lourde et ressources indisponibles",
            "Ingénierie difficile",
            "Facilité opérationnelle",
            "Grande facilité opérationnelle et ressources facilement disponibles",
        ),
    ),
    "stabilite_financiere": (
        "Stabilité financière",
        (
            "Fragilité financière",
            "Ressources financières présentes",
            "Ressources financières présentes et potentiels de financement",
            "Structure rentable",
        ),
    ),
}

#: What kind of surface a solution needs on its site.
SURFACE_KINDS: dict[str, str] = {
    "aucune": "pas de surface particulière",
    "minerale": "sol minéral, imperméabilisé",
    "pleine_terre": "pleine terre",
    "toiture": "toiture",
    "facade": "façade",
    "interieur": "locaux intérieurs",
}

#: Accepted values of the context requirements (coupures, gares, qpv, densite).
CONTEXT_LEVELS: dict[str, tuple[str, ...]] = {
    "coupures": ("requis", "favorable", "indifferent"),
    "gares": ("favorable", "indifferent"),
    "qpv": ("favorable", "indifferent"),
    "densite": ("favorable", "indifferent"),
}

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SOLUTION_KEYS = {
    "id",
    "nom",
    "thematique",
    "categorie",
    "commune",
    "insee",
    "cohorte",
    "description",
    "themes",
    "enjeux",
    "justification",
    "exigences",
    "evaluation",
}
_REQUIREMENT_KEYS = {
    "types_sites",
    "surface_min_m2",
    "surface_max_m2",
    "surface_requise",
    "espace_public",
    "site_partageable",
    "sans_site",
    *CONTEXT_LEVELS,
}


@dataclass(frozen=True)
class Requirements:
    """What a solution needs from a site (``[solution.exigences]``)."""

    types_sites: tuple[str, ...]
    surface_min_m2: float | None = None
    surface_max_m2: float | None = None
    surface_requise: str = "aucune"
    espace_public: bool = False
    site_partageable: bool = False
    sans_site: bool = False
    coupures: str = "indifferent"
    gares: str = "indifferent"
    qpv: str = "indifferent"
    densite: str = "indifferent"


@dataclass(frozen=True)
class Evaluation:
    """Replicability index: five criteria scored 0–3, ``None`` when not evaluated yet."""

    experimentation_deployee: int | None = None
    traction_commerciale: int | None = None
    potentiel_industrialisation: int | None = None
    facilite_operationnelle: int | None = None
    stabilite_financiere: int | None = None
    source: str = ""

    def scores(self) -> dict[str, int | None]:
        """Return the five criteria as a dict (``None`` = not evaluated)."""
        return {k: getattr(self, k) for k in EVALUATION_CRITERIA}

    @property
    def complete(self) -> bool:
        """Whether the five criteria are all evaluated."""
        return all(v is not None for v in self.scores().values())

    @property
    def total(self) -> int | None:
        """Sum of the five criteria (0–15) when all are evaluated, else ``None``.

        The brochure gives the criteria and their scales but no aggregation; the sum is the
        convention of qmi_geo and is never computed on an incomplete evaluation.
        """
        values = self.scores().values()
        return sum(v for v in values if v is not None) if self.complete else None

    def describe(self) -> str:
        """One French line per criterion: « Traction commerciale : 2 (Forte) »."""
        lines = []
        for key, (label, scale) in EVALUATION_CRITERIA.items():
            value = getattr(self, key)
            text = "non évalué" if value is None else f"{value} ({scale[value]})"
            lines.append(f"{label} : {text}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Solution:
    """A candidate solution of the catalogue."""

    id: str
    nom: str
    thematique: str
    description: str
    themes: tuple[str, ...]
    exigences: Requirements
    evaluation: Evaluation = field(default_factory=Evaluation)
    categorie: str = ""
    commune: str = ""
    insee: str = ""
    cohorte: int | None = None
    enjeux: tuple[str, ...] = ()
    justification: str = ""
    source: str = ""

    @property
    def label(self) -> str:
        """Name shown to users."""
        return self.nom


def default_catalogue_path() -> Path:
    """Return the bundled catalogue, ``<workspace>/layers/solutions.toml``.

    The workspace is :meth:`qmi_geo.settings.Settings.resolved_workspace` when it holds a
    catalogue, else the repository this package lives in.
    """
    candidates = []
    try:
        from qmi_geo.settings import settings

        candidates.append(Path(settings.resolved_workspace()) / "layers" / "solutions.toml")
    except Exception:
        pass
    candidates.append(Path(__file__).resolve().parents[2] / "layers" / "solutions.toml")
    for path in candidates:
        if path.is_file():
            return path
    return candidates[-1]


def load_solutions(
    path: str | Path | None = None, *, only: Sequence[str] | None = None
) -> list[Solution]:
    """Read and validate a solution catalogue (TOML).

    Parameters
    ----------
    path : str or Path, optional
        The catalogue; default :func:`default_catalogue_path`.
    only : sequence of str, optional
        Keep only these solution ids (in this order); an unknown id is an error.

    Returns
    -------
    list of Solution

    Raises
    ------
    SolutionError
        The file is missing or not valid TOML, or an entry breaks the schema; the message
        names the file, the solution and the field.
    """
    path = Path(path) if path is not None else default_catalogue_path()
    if not path.is_file():
        raise SolutionError(
            f"Catalogue de solutions introuvable : {path}. Indiquez un fichier TOML existant "
            "(modèle : layers/solutions.toml)."
        )
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SolutionError(
            f"{path} : le fichier n'est pas un TOML valide ({exc}). Corrigez la syntaxe "
            "(guillemets, crochets, virgules)."
        ) from None
    solutions = parse_solutions(data, source=str(path))
    if only:
        by_id = {s.id: s for s in solutions}
        unknown = [i for i in only if i not in by_id]
        if unknown:
            raise SolutionError(
                f"{path} : solution(s) inconnue(s) {', '.join(unknown)}. Identifiants "
                f"disponibles : {', '.join(sorted(by_id))}."
            )
        solutions = [by_id[i] for i in only]
    return solutions


def parse_solutions(data: Mapping[str, Any], *, source: str = "catalogue") -> list[Solution]:
    """Validate a parsed catalogue (the dict of a TOML file) and build the solutions.

    Examples
    --------
    >>> entry = {
    ...     "id": "banc",
    ...     "nom": "Banc",
    ...     "thematique": "Espace public",
    ...     "description": "Un banc.",
    ...     "themes": ["mobilier_repos"],
    ...     "exigences": {"types_sites": ["place"], "surface_min_m2": 2},
    ... }
    >>> parse_solutions({"solution": [entry]})[0].exigences.surface_min_m2
    2.0
    >>> parse_solutions({"solution": [{**entry, "themes": ["banc"]}]})
    Traceback (most recent call last):
    ...
    qmi_geo.errors.SolutionError: catalogue, solution « banc » (n° 1), champ « themes » : ...
    """
    entries = data.get("solution")
    if not isinstance(entries, list) or not entries:
        raise SolutionError(
            f"{source} : aucune solution. Le catalogue doit contenir des tables [[solution]]."
        )
    solutions = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        solution = _parse_one(entry, number, source)
        if solution.id in seen:
            raise SolutionError(
                f"{source}, solution n° {number}, champ « id » : l'identifiant « {solution.id} » "
                f"est déjà utilisé par la solution n° {seen[solution.id]}. Donnez un id unique."
            )
        seen[solution.id] = number
        solutions.append(solution)
    return solutions


class _Entry:
    """Field access with French error messages naming the solution and the field."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def fail(self, key: str, problem: str) -> SolutionError:
        return SolutionError(f"{self.where}, champ « {key} » : {problem}")

    def text(self, key: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.fail(key, "champ obligatoire manquant ou vide. Ajoutez-le.")
            return default
        if not isinstance(value, str):
            raise self.fail(key, f"texte attendu, reçu {value!r}. Mettez-le entre guillemets.")
        return value.strip()

    def codes(self, key: str, allowed: Mapping[str, Any], what: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.fail(
                key, f'liste non vide de {what} attendue (ex. ["{next(iter(allowed))}"]).'
            )
        bad = [v for v in value if v not in allowed]
        if bad:
            raise self.fail(
                key,
                f"{what} inconnu(s) {', '.join(map(repr, bad))}. Valeurs possibles : "
                f"{', '.join(allowed)}.",
            )
        return tuple(dict.fromkeys(value))

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "liste de textes attendue.")
        return tuple(value)

    def area(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise self.fail(key, f"surface en m² positive attendue, reçu {value!r}.")
        return float(value)

    def choice(self, key: str, allowed: Iterable[str], default: str) -> str:
        allowed = tuple(allowed)
        value = self.data.get(key, default)
        if value not in allowed:
            raise self.fail(
                key, f"valeur {value!r} inconnue. Valeurs possibles : {', '.join(allowed)}."
            )
        return str(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"true ou false attendu, reçu {value!r}.")
        return value

    def unknown(self, allowed: set[str]) -> None:
        extra = sorted(set(self.data) - allowed)
        if extra:
            raise self.fail(
                extra[0], f"champ inconnu. Champs possibles : {', '.join(sorted(allowed))}."
            )


def _parse_one(entry: Any, number: int, source: str) -> Solution:
    if not isinstance(entry, Mapping):
        raise SolutionError(f"{source}, solution n° {number} : table [[solution]] attendue.")
    ident = entry.get("id")
    name = f"« {ident} » " if isinstance(ident, str) else ""
    e = _Entry(entry, f"{source}, solution {name}(n° {number})")
    e.unknown(_SOLUTION_KEYS)
    sid = e.text("id", required=True)
    if not _ID_RE.match(sid):
        raise e.fail(
            "id",
            f"« {sid} » n'est pas un identifiant valide : lettres minuscules "
            "sans accents, chiffres et tirets (ex. « jardins-de-pluie »).",
        )
    req_data = entry.get("exigences")
    if not isinstance(req_data, Mapping):
        raise e.fail("exigences", "table [solution.exigences] manquante (au moins types_sites).")
    r = _Entry(req_data, f"{e.where}, exigences")
    r.unknown(_REQUIREMENT_KEYS)
    smin, smax = r.area("surface_min_m2"), r.area("surface_max_m2")
    if smin is not None and smax is not None and smax < smin:
        raise r.fail("surface_max_m2", f"{smax:g} m² est inférieur à surface_min_m2 ({smin:g} m²).")
    requirements = Requirements(
        types_sites=r.codes("types_sites", SITE_KINDS, "type(s) de site"),
        surface_min_m2=smin,
        surface_max_m2=smax,
        surface_requise=r.choice("surface_requise", SURFACE_KINDS, "aucune"),
        espace_public=r.flag("espace_public", False),
        site_partageable=r.flag("site_partageable", False),
        sans_site=r.flag("sans_site", False),
        **{k: r.choice(k, levels, "indifferent") for k, levels in CONTEXT_LEVELS.items()},
    )
    cohort = entry.get("cohorte")
    if cohort is not None and (isinstance(cohort, bool) or not isinstance(cohort, int)):
        raise e.fail("cohorte", f"numéro de promotion entier attendu, reçu {cohort!r}.")
    insee = e.text("insee")
    if insee and not re.fullmatch(r"\d[\dAB]\d{3}", insee):
        raise e.fail("insee", f"code INSEE à 5 caractères attendu, reçu {insee!r}.")
    return Solution(
        id=sid,
        nom=e.text("nom", required=True),
        thematique=e.text("thematique", required=True),
        description=e.text("description", required=True),
        themes=e.codes("themes", THEMES, "thème(s)"),
        exigences=requirements,
        evaluation=_parse_evaluation(entry.get("evaluation"), e),
        categorie=e.text("categorie"),
        commune=e.text("commune"),
        insee=insee,
        cohorte=cohort,
        enjeux=e.strings("enjeux"),
        justification=e.text("justification"),
        source=source,
    )


def _parse_evaluation(data: Any, parent: _Entry) -> Evaluation:
    if data is None:
        return Evaluation()
    if not isinstance(data, Mapping):
        raise parent.fail("evaluation", "table [solution.evaluation] attendue.")
    ev = _Entry(data, f"{parent.where}, evaluation")
    ev.unknown({*EVALUATION_CRITERIA, "source"})
    values: dict[str, int | None] = {}
    for key in EVALUATION_CRITERIA:
        value = data.get(key, NOT_EVALUATED)
        if value == NOT_EVALUATED:
            values[key] = None
        elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3:
            values[key] = value
        else:
            raise ev.fail(
                key, f'note entière de 0 à 3 ou "{NOT_EVALUATED}" attendue, reçu {value!r}.'
            )
    return Evaluation(**values, source=ev.text("source"))


def solutions_frame(solutions: Sequence[Solution]) -> pd.DataFrame:
    """One row per solution, flat columns (for reports and CSV).

    Examples
    --------
    >>> from qmi_geo.matching import load_solutions
    >>> frame = solutions_frame(load_solutions())
    >>> frame.loc["digiponts92", "types_sites"]
    'pont'
    """
    rows = []
    for s in solutions:
        req = s.exigences
        rows.append(
            {
                "id": s.id,
                "nom": s.nom,
                "thematique": s.thematique,
                "categorie": s.categorie,
                "commune": s.commune,
                "insee": s.insee,
                "themes": ";".join(s.themes),
                "types_sites": ";".join(req.types_sites),
                "surface_min_m2": req.surface_min_m2,
                "surface_max_m2": req.surface_max_m2,
                "surface_requise": req.surface_requise,
                "espace_public": req.espace_public,
                "site_partageable": req.site_partageable,
                "sans_site": req.sans_site,
                "coupures": req.coupures,
                "gares": req.gares,
                "qpv": req.qpv,
                "densite": req.densite,
                "indice_replicabilite": s.evaluation.total,
                **{f"eval_{k}": v for k, v in s.evaluation.scores().items()},
            }
        )
    return pd.DataFrame(rows).set_index("id")
