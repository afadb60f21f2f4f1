"""The long-form indicator record shared by every indicator module.

Each module turns its indicator Series into rows of one long table with the columns of
:data:`COLUMNS` (plus ``zone``, the label of the zone, and ``couches``, the layer kinds the
value comes from; :func:`qmi_geo.diagnostics.compute_indicators` turns the latter into the
``source`` attribution).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["COLUMNS", "ESTIMATED", "OK", "UNAVAILABLE", "Rows", "missing_layer"]

OK = "ok"
ESTIMATED = "estimé"
UNAVAILABLE = "non disponible"

COLUMNS = ["code", "theme", "libelle", "valeur", "unite", "statut", "note", "source"]


class Rows:
    """Accumulate indicator rows for a set of zones and one theme.

    Parameters
    ----------
    index
        The zones' index; every added Series is aligned to it.
    theme
        The French theme label (« Contexte », « QPV »…).
    """

    def __init__(self, index: pd.Index, theme: str) -> None:
        self.index = index
        self.theme = theme
        # one entry per indicator; the table is built once, in frame() (a DataFrame per
        # indicator cost ≈ 1 ms each, ≈ 50 per table)
        self._added: list[tuple[str, str, str, np.ndarray, np.ndarray, np.ndarray, str]] = []

    def __len__(self) -> int:
        """The number of rows added so far (one per zone and indicator)."""
        return len(self._added) * len(self.index)

    def add(
        self,
        code: str,
        libelle: str,
        unite: str,
        values: pd.Series | float,
        *,
        kinds: Iterable[str] = (),
        statut: str | pd.Series = OK,
        note: str | pd.Series = "",
        missing_note: str = "valeur non calculable",
    ) -> None:
        """Add one indicator for every zone.

        Zones whose value is NaN get the status « non disponible » and ``missing_note``.
        """
        n = len(self.index)
        if isinstance(values, pd.Series):
            vals = values.reindex(self.index).astype(float).to_numpy(dtype=float)
        else:
            vals = np.full(n, float(values))
        if isinstance(statut, pd.Series):
            st = statut.reindex(self.index).to_numpy(dtype=object)
        else:
            st = np.full(n, statut, dtype=object)
        if isinstance(note, pd.Series):
            nt = note.reindex(self.index).fillna("").to_numpy(dtype=object)
        else:
            nt = np.full(n, note, dtype=object)
        missing = np.isnan(vals)
        if missing.any():
            st[missing] = UNAVAILABLE
            nt[missing] = missing_note
        self._added.append((code, libelle, unite, vals, st, nt, ",".join(kinds)))

    def unavailable(
        self, code: str, libelle: str, unite: str, reason: str, *, kinds: Iterable[str] = ()
    ) -> None:
        """Add an indicator that cannot be computed for any zone, with the reason."""
        self.add(code, libelle, unite, np.nan, kinds=kinds, missing_note=reason)

    def frame(self) -> pd.DataFrame:
        """All rows added so far, as one long DataFrame (zones within each indicator)."""
        if not self._added:
            return pd.DataFrame(columns=["zone", *COLUMNS[:-1], "couches"])
        n = len(self.index)

        def repeated(i: int) -> list[object]:
            return [value for entry in self._added for value in [entry[i]] * n]

        def stacked(i: int) -> np.ndarray:
            return np.concatenate([entry[i] for entry in self._added])

        return pd.DataFrame(
            {
                "zone": np.tile(self.index.to_numpy(), len(self._added)),
                "code": repeated(0),
                "theme": [self.theme] * len(self),
                "libelle": repeated(1),
                "valeur": stacked(3),
                "unite": repeated(2),
                "statut": stacked(4),
                "note": stacked(5),
                "couches": repeated(6),
            }
        )


def missing_layer(kind: str) -> str:
    """The French reason given when a layer kind is absent for a quarter."""
    return f"couche « {kind} » absente pour ce quartier"
