"""The report's explicit rules: references, enjeux, quotes."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from qmi_geo.report._enjeux import ATOUT, VIGILANCE, enjeux
from qmi_geo.report._quotes import select_quotes
from qmi_geo.report._reference import reference_for


def _table(rows: list[dict]) -> pd.DataFrame:
    base = {"theme": "T", "statut": "ok", "note": "", "source": "Producteur – couche"}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_metropole_reference_is_shown_when_the_table_has_it() -> None:
    row = _table(
        [
            {
                "code": "part_impermeable",
                "libelle": "Part imperméabilisée",
                "valeur": 81.0,
                "unite": "%",
                "mediane_metropole": 55.26,
                "rang_metropole": 4,
            }
        ]
    ).iloc[0]
    ref = reference_for(row, quarter_is_commune=True)
    assert (ref.median, ref.rank, ref.metropole_note) == ("55,3\u202f%", "4 / 130", "")
    missing = reference_for(
        row.drop(["mediane_metropole", "rang_metropole"]), quarter_is_commune=False
    )
    assert missing.median == missing.rank == missing.commune == "non disponible"
    assert "Métropole" in missing.metropole_note


def test_rank_rule_names_the_top_ten_percent_and_cites_the_indicator() -> None:
    table = _table(
        [
            {
                "code": "part_impermeable",
                "libelle": "Part imperméabilisée",
                "valeur": 81.0,
                "unite": "%",
                "rang_metropole": 4,
            },
            {
                "code": "revenu_median",
                "libelle": "Revenu médian",
                "valeur": 15000.0,
                "unite": "€ par UC",
                "rang_metropole": 128,
            },
        ]
    )
    out = {e.code: e for e in enjeux(table)}
    assert out["part_impermeable"].kind == VIGILANCE
    assert (
        "parmi les 10 % les plus élevé(e)s de la Métropole (rang 4 / 130)"
        in out["part_impermeable"].text
    )
    assert out["revenu_median"].kind == VIGILANCE  # low income: a weakness
    assert "plus faibles" in out["revenu_median"].text
    assert out["part_impermeable"].citation.startswith("indicateur part_impermeable (")


def test_no_sentence_for_an_unavailable_indicator() -> None:
    table = _table(
        [
            {
                "code": "part_impermeable",
                "libelle": "Part",
                "valeur": float("nan"),
                "unite": "%",
                "statut": "non disponible",
            },
            {"code": "distance_gare", "libelle": "Distance", "valeur": 400.0, "unite": "m"},
        ]
    )
    out = enjeux(table)
    assert [e.code for e in out] == ["distance_gare"]
    assert out[0].kind == ATOUT and "400 m" in out[0].text


def test_quotes_skip_fub_and_duplicates_and_follow_the_rule() -> None:
    ann = gpd.GeoDataFrame(
        {
            "id": list("abcde"),
            "marche": ["m", "m", "m", "fub_barometre_2017", "m"],
            "theme": ["bruit", "bruit", "bruit", "bruit", "chaleur"],
            "valence": ["negatif"] * 5,
            "intensite": [2.0, 2.0, 3.0, 3.0, None],
            "commentaire": ["court", "un peu plus long", "fort", "rue citée FUB", "  "],
            "signalements": ["", "", "doublon", "", ""],
        },
        geometry=[Point(0, 0)] * 5,
        crs=2154,
    )
    quotes = select_quotes(ann)
    assert [q.text for q in quotes] == ["un peu plus long", "court"]
