"""« Enjeux »: strengths and weaknesses written from the indicators by explicit rules.

Each rule reads one indicator of the quarter's table and, when its condition holds, writes
one sentence that states the figure and cites the indicator (code, label, value, source).
An indicator « non disponible » never produces a sentence. The rules, in order:

* **Métropole rank** (any indicator with a rank among the Métropole's communes): in the
  first 10 % → « parmi les 10 % les plus élevé·e·s de la Métropole »; in the last 10 % →
  « parmi les 10 % les plus faibles ». Whether high is a strength or a weakness is given
  by :data:`HIGHER_IS_WORSE`.
* ``part_qpv`` > 0 → point de vigilance (share of the quarter in a QPV); = 0 → no QPV.
* ``part_impermeable`` ≥ 50 % → point de vigilance; < 25 % → atout.
* ``part_vegetalisee`` ≥ 30 % → atout.
* ``part_nuisances_2plus`` ≥ 25 % → point de vigilance; ``part_points_noirs`` > 0 → point de
  vigilance.
* ``ratio_detour`` ≥ 1,5 → point de vigilance (breaks lengthen walks); < 1,3 → atout.
* ``distance_gare`` ≤ 800 m → atout (about 10 minutes' walk); > 1 500 m → point de vigilance.
* ``distance_gare_gpe`` ≤ 1 000 m → atout (a Grand Paris Express station planned nearby).
* ``part_negative`` ≥ 60 % with at least 10 ``annotations`` → point de vigilance.
* ``rues_citees`` > 0 → point de vigilance (streets cited by cyclists, FUB 2017).
* ``sites`` > 0 → atout (candidate deployment sites).
* the Gi* test found significant hot spots → point de vigilance citing the test.

The absolute thresholds are stated in each sentence, so the reader can judge them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from qmi_geo.report._format import fr_value, is_missing
from qmi_geo.report._reference import reference_for

__all__ = ["ATOUT", "HIGHER_IS_WORSE", "VIGILANCE", "Enjeu", "enjeux"]

ATOUT = "atout"
VIGILANCE = "point de vigilance"

#: Indicators for which a high value is a weakness (for the Métropole-rank rule).
HIGHER_IS_WORSE = {
    "part_qpv": True,
    "population_qpv": True,
    "impermeabilite_moyenne": True,
    "part_impermeable": True,
    "part_vegetalisee": False,
    "part_nuisances_2plus": True,
    "part_points_noirs": True,
    "densite_coupures": True,
    "ratio_detour": True,
    "distance_gare": True,
    "distance_gare_gpe": True,
    "revenu_median": False,
    "franchissements": False,
}


@dataclass(frozen=True)
class Enjeu:
    """One sentence of the synthesis and the indicator it rests on."""

    kind: str
    text: str
    code: str
    libelle: str
    valeur: str
    source: str
    rule: str

    @property
    def citation(self) -> str:
        """« indicateur <code> (<libellé>) : <valeur> — source : … »."""
        return f"indicateur {self.code} ({self.libelle}) : {self.valeur} — source : {self.source}"


def _num(row: pd.Series) -> float | None:
    if row is None or row.get("statut") == "non disponible" or is_missing(row.get("valeur")):
        return None
    return float(row["valeur"])


Rule = Callable[[float, pd.Series], tuple[str, str] | None]


def _rule_qpv(v: float, row: pd.Series) -> tuple[str, str] | None:
    if v > 0:
        return VIGILANCE, (
            f"{fr_value(v, '%')} du quartier est en quartier prioritaire de la politique "
            "de la ville (QPV 2024)."
        )
    return ATOUT, "Aucune partie du quartier n'est en quartier prioritaire (QPV 2024)."


def _rule_sealed(v: float, row: pd.Series) -> tuple[str, str] | None:
    if v >= 50:
        return VIGILANCE, (
            f"Plus de la moitié du quartier est imperméabilisée ({fr_value(v, '%')})."
        )
    if v < 25:
        return ATOUT, f"Moins d'un quart du quartier est imperméabilisé ({fr_value(v, '%')})."
    return None


def _rule_green(v: float, row: pd.Series) -> tuple[str, str] | None:
    if v >= 30:
        return ATOUT, f"Les espaces verts couvrent {fr_value(v, '%')} du quartier (30 % ou plus)."
    return None


def _rule_nuisances(v: float, row: pd.Series) -> tuple[str, str] | None:
    if v >= 25:
        return VIGILANCE, (
            f"{fr_value(v, '%')} du quartier cumule au moins deux nuisances environnementales "
            "(bruit, pollution de l'air…), soit un quart ou plus de sa surface."
        )
    return None


def _rule_black_spots(v: float, row: pd.Series) -> tuple[str, str] | None:
    if v > 0:
        return VIGILANCE, f"{fr_value(v, '%')} du quartier est en point noir environnemental."
    return None


def _rule_detour(v: float, row: pd.Series) -> tuple[str, str] | None:
    text = fr_value(v, "ratio").replace(".", ",")
    if v >= 1.5:
        return VIGILANCE, (
            f"Les coupures allongent les trajets à pied : le chemin par les rues est en "
            f"médiane {text} fois plus long qu'à vol d'oiseau (1,5 ou plus)."
        )
    if v < 1.3:
        return ATOUT, (
            f"Les coupures se franchissent sans grand détour (rapport médian {text}, moins de 1,3)."
        )
    return None


def _rule_station(v: float, row: pd.Series) -> tuple[str, str] | None:
    if v <= 800:
        return ATOUT, (
            f"Le centre du quartier est à {fr_value(v, 'm')} d'une gare RER ou train "
            "(800 m au plus, une dizaine de minutes à pied)."
        )
    if v > 1500:
        return VIGILANCE, (
            f"Le centre du quartier est à {fr_value(v, 'm')} de la gare RER ou train la plus "
            "proche (plus de 1 500 m)."
        )
    return None


def _rule_gpe(v: float, row: pd.Series) -> tuple[str, str] | None:
    if v <= 1000:
        return ATOUT, (
            f"Une gare du Grand Paris Express est prévue à {fr_value(v, 'm')} du centre du "
            "quartier (1 000 m au plus)."
        )
    return None


def _rule_sites(v: float, row: pd.Series) -> tuple[str, str] | None:
    if v > 0:
        return ATOUT, f"{fr_value(v, 'nombre')} sites de déploiement candidats sont recensés."
    return None


def _rule_fub(v: float, row: pd.Series) -> tuple[str, str] | None:
    if v > 0:
        return VIGILANCE, (
            f"{fr_value(v, 'nombre')} rue(s) du quartier sont citées comme problématiques à "
            "vélo par les répondants du baromètre FUB 2017."
        )
    return None


_RULES: tuple[tuple[str, Rule, str], ...] = (
    ("part_qpv", _rule_qpv, "part_qpv > 0 : vigilance ; = 0 : atout"),
    ("part_impermeable", _rule_sealed, "≥ 50 % : vigilance ; < 25 % : atout"),
    ("part_vegetalisee", _rule_green, "≥ 30 % : atout"),
    ("part_nuisances_2plus", _rule_nuisances, "≥ 25 % : vigilance"),
    ("part_points_noirs", _rule_black_spots, "> 0 : vigilance"),
    ("ratio_detour", _rule_detour, "≥ 1,5 : vigilance ; < 1,3 : atout"),
    ("distance_gare", _rule_station, "≤ 800 m : atout ; > 1 500 m : vigilance"),
    ("distance_gare_gpe", _rule_gpe, "≤ 1 000 m : atout"),
    ("rues_citees", _rule_fub, "> 0 : vigilance"),
    ("sites", _rule_sites, "> 0 : atout"),
)


def _rank_sentence(row: pd.Series, quarter_is_commune: bool) -> tuple[str, str] | None:
    ref = reference_for(row, quarter_is_commune=quarter_is_commune)
    share = ref.share_from_top
    code = str(row["code"])
    if share is None or code not in HIGHER_IS_WORSE:
        return None
    label = str(row["libelle"]).lower()
    worse_high = HIGHER_IS_WORSE[code]
    value = fr_value(row["valeur"], str(row["unite"]))
    if share <= 0.10:
        kind = VIGILANCE if worse_high else ATOUT
        return kind, (
            f"{label[0].upper() + label[1:]} ({value}) parmi les 10 % les plus élevé(e)s de "
            f"la Métropole (rang {ref.rank})."
        )
    if share >= 0.90:
        kind = ATOUT if worse_high else VIGILANCE
        return kind, (
            f"{label[0].upper() + label[1:]} ({value}) parmi les 10 % les plus faibles de la "
            f"Métropole (rang {ref.rank})."
        )
    return None


def enjeux(
    table: pd.DataFrame,
    *,
    quarter_is_commune: bool = True,
    hotspot_message: str | None = None,
    hotspot_count: int = 0,
) -> list[Enjeu]:
    """The synthesis sentences of a quarter, each citing its indicator.

    Parameters
    ----------
    table
        The indicator table (``code``, ``libelle``, ``valeur``, ``unite``, ``statut``,
        ``source``; reference columns when present).
    quarter_is_commune
        Whether the quarter is the whole commune.
    hotspot_message, hotspot_count
        The Gi* test's message and number of significant cells.

    Examples
    --------
    >>> t = pd.DataFrame(
    ...     {
    ...         "code": ["part_impermeable"],
    ...         "libelle": ["Part imperméabilisée"],
    ...         "valeur": [61.0],
    ...         "unite": ["%"],
    ...         "statut": ["ok"],
    ...         "source": ["IPR"],
    ...     }
    ... )
    >>> [e.code for e in enjeux(t)]
    ['part_impermeable']
    """
    rows = {str(r["code"]): r for _, r in table.iterrows()}
    out: list[Enjeu] = []

    def add(kind: str, text: str, row: pd.Series, rule: str) -> None:
        out.append(
            Enjeu(
                kind=kind,
                text=text,
                code=str(row["code"]),
                libelle=str(row["libelle"]),
                valeur=fr_value(row["valeur"], str(row["unite"])),
                source=str(row.get("source", "") or "non renseignée"),
                rule=rule,
            )
        )

    ranked: set[str] = set()
    for code, row in rows.items():
        if _num(row) is None:
            continue
        found = _rank_sentence(row, quarter_is_commune)
        if found:
            add(*found, row, "rang dans les 10 % extrêmes de la Métropole")
            ranked.add(code)
    for code, rule, doc in _RULES:
        row = rows.get(code)
        if row is None or code in ranked:
            continue
        value = _num(row)
        if value is None:
            continue
        if code == "part_negative":
            continue
        found = rule(value, row)
        if found:
            add(*found, row, doc)
    neg, n_ann = rows.get("part_negative"), rows.get("annotations")
    if neg is not None and n_ann is not None:
        v, n = _num(neg), _num(n_ann)
        if v is not None and n is not None and n >= 10 and v >= 60:
            add(
                VIGILANCE,
                f"Les ressentis de la marche sont majoritairement négatifs : {fr_value(v, '%')} "
                f"des {fr_value(n, 'nombre')} annotations (60 % ou plus).",
                neg,
                "≥ 60 % avec au moins 10 annotations : vigilance",
            )
    spots = rows.get("annotations")
    if hotspot_count and hotspot_message and spots is not None:
        add(
            VIGILANCE,
            "Point chaud significatif des ressentis (p < 0,05 après correction) : "
            + hotspot_message,
            spots,
            "test Gi* avec permutations et correction FDR",
        )
    return out
