"""The long indicator table: one row per zone and indicator, missing values said so."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qmi_geo.diagnostics._rows import UNAVAILABLE, Rows


def test_rows_per_zone_in_the_order_added_with_missing_values_unavailable() -> None:
    zones = pd.Index(["92048", "93005", "75056"], dtype="str")
    rows = Rows(zones, "Contexte")
    rows.add(
        "population",
        "Population",
        "habitants",
        pd.Series({"75056": 2_100_000.0, "92048": 45_000.0}),  # one zone missing
        kinds=("communes", "iris"),
        missing_note="pas de population",
    )
    rows.add(
        "part",
        "Part",
        "%",
        0.5,
        statut=pd.Series({"92048": "estimé", "93005": "ok", "75056": "ok"}),
        note=pd.Series({"92048": "approché"}),
    )
    rows.unavailable("eau", "Eau", "m", "couche « eau » absente")
    assert len(rows) == 9
    table = rows.frame()
    assert table.columns.tolist() == [
        "zone", "code", "theme", "libelle", "valeur", "unite", "statut", "note", "couches"
    ]  # fmt: skip
    assert table["zone"].tolist() == [*zones] * 3
    assert table["code"].tolist() == ["population"] * 3 + ["part"] * 3 + ["eau"] * 3
    np.testing.assert_array_equal(
        table["valeur"], [45_000.0, np.nan, 2_100_000.0, 0.5, 0.5, 0.5, np.nan, np.nan, np.nan]
    )
    assert table["statut"].tolist() == [
        "ok", UNAVAILABLE, "ok", "estimé", "ok", "ok", UNAVAILABLE, UNAVAILABLE, UNAVAILABLE
    ]  # fmt: skip
    assert table["note"].tolist() == [
        "", "pas de population", "", "approché", "", "", *["couche « eau » absente"] * 3
    ]  # fmt: skip
    assert table["couches"].tolist()[:3] == ["communes,iris"] * 3
    assert set(table["theme"]) == {"Contexte"}
    for col in ("zone", "code", "statut", "note"):
        assert pd.api.types.is_string_dtype(table[col])


def test_no_rows_gives_the_empty_table_with_its_columns() -> None:
    table = Rows(pd.Index(["92048"]), "QPV").frame()
    assert table.empty
    assert "statut" in table.columns
