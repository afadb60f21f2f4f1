"""Reference values beside the quarter: its commune and the Métropole (median, rank).

The indicator table may carry, per indicator, the commune's value and the Métropole's
median and the quarter's rank among its communes (added by the metropolitan stage). This
module reads them under the names that stage uses, and says « non disponible » (with the
reason) when they are absent — never a made-up reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from qmi_geo.report._format import fr_value, is_missing

__all__ = ["METROPOLE_COMMUNES", "Reference", "reference_for"]

METROPOLE_COMMUNES = 130

_MEDIAN = ("mediane_metropole", "metropole_mediane", "mediane_mgp", "valeur_metropole")
_RANK = ("rang_metropole", "metropole_rang", "rang_mgp")
_COUNT = ("n_metropole", "nb_communes_metropole", "metropole_n", "n_communes_metropole")
_COMMUNE = ("valeur_commune", "commune_valeur")

NO_METROPOLE = (
    "valeurs de la Métropole non calculées pour cet indicateur (diagnostic métropolitain "
    "des 130 communes non disponible)"
)


def _first(row: pd.Series, names: tuple[str, ...]) -> Any:
    for name in names:
        if name in row.index and not is_missing(row[name]):
            return row[name]
    return None


@dataclass(frozen=True)
class Reference:
    """The commune and Métropole values of one indicator, as shown in the report."""

    commune: str
    commune_note: str
    median: str
    rank: str
    rank_value: int | None
    n_communes: int | None
    metropole_note: str

    @property
    def share_from_top(self) -> float | None:
        """Rank as a share of the communes (0 = highest value), or None."""
        if self.rank_value is None or not self.n_communes:
            return None
        return (self.rank_value - 1) / max(1, self.n_communes - 1)


def reference_for(row: pd.Series, *, quarter_is_commune: bool) -> Reference:
    """The references of one indicator row (``code``, ``valeur``, ``unite``… columns)."""
    unit = str(row.get("unite", "") or "")
    commune_raw = _first(row, _COMMUNE)
    if commune_raw is not None:
        commune, commune_note = fr_value(commune_raw, unit), ""
    elif quarter_is_commune:
        commune = fr_value(row.get("valeur"), unit)
        commune_note = "le quartier est la commune entière"
    else:
        commune = "non disponible"
        commune_note = "valeur de la commune non calculée (quartier plus petit que la commune)"
    median_raw = _first(row, _MEDIAN)
    rank_raw = _first(row, _RANK)
    count_raw = _first(row, _COUNT)
    n = int(float(count_raw)) if count_raw is not None else None
    if rank_raw is not None and n is None:
        n = METROPOLE_COMMUNES
    rank_value = int(float(rank_raw)) if rank_raw is not None else None
    median = fr_value(median_raw, unit) if median_raw is not None else "non disponible"
    rank = f"{rank_value} / {n}" if rank_value is not None else "non disponible"
    note = "" if median_raw is not None or rank_raw is not None else NO_METROPOLE
    return Reference(commune, commune_note, median, rank, rank_value, n, note)
