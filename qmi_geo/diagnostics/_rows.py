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
        self.records: list[pd.DataFrame] = []

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
        vals = (
            values.reindex(self.index).astype(float)
            if isinstance(values, pd.Series)
            else pd.Series(float(values), index=self.index)
        )
        st = statut.reindex(self.index) if isinstance(statut, pd.Series) else statut
        nt = note.reindex(self.index) if isinstance(note, pd.Series) else note
        frame = pd.DataFrame(
            {
                "zone": self.index,
                "code": code,
                "theme": self.theme,
                "libelle": libelle,
                "valeur": vals.to_numpy(),
                "unite": unite,
                "statut": st if isinstance(st, str) else st.to_numpy(),
                "note": nt if isinstance(nt, str) else nt.fillna("").to_numpy(),
                "couches": ",".join(kinds),
            }
        )
        missing = frame["valeur"].isna().to_numpy()
        if missing.any():
            frame.loc[missing, "statut"] = UNAVAILABLE
            frame.loc[missing, "note"] = missing_note
        self.records.append(frame)

    def unavailable(
        self, code: str, libelle: str, unite: str, reason: str, *, kinds: Iterable[str] = ()
    ) -> None:
        """Add an indicator that cannot be computed for any zone, with the reason."""
        self.add(code, libelle, unite, np.nan, kinds=kinds, missing_note=reason)

    def frame(self) -> pd.DataFrame:
        """All rows added so far, as one long DataFrame."""
        if not self.records:
            return pd.DataFrame(columns=["zone", *COLUMNS[:-1], "couches"])
        return pd.concat(self.records, ignore_index=True)


def missing_layer(kind: str) -> str:
    """The French reason given when a layer kind is absent for a quarter."""
    return f"couche « {kind} » absente pour ce quartier"
