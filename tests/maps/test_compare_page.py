"""The comparison page: thumbnails at one scale, links, distinct rows, footnotes, reference."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from qmi_geo.diagnostics import write_comparison
from qmi_geo.diagnostics.compare import distinct_rows
from qmi_geo.maps.thumbnails import quarter_thumbnails
from qmi_geo.spec import find_specs


def _table(qpv: float, sealed: float, *, median: float | None = None) -> pd.DataFrame:
    rows = [
        ("part_qpv", "QPV", "Part du quartier en QPV", qpv, "%", "ok", "", "ANCT – QPV 2024"),
        (
            "impermeabilite_moyenne",
            "Surfaces minéralisées",
            "Imperméabilisation moyenne",
            sealed,
            "%",
            "estimé",
            "",
            "Underlaid (INSEE (RP 2021, BPE ; Source : Insee), CSTB) ; MOS 2021",
        ),
        (
            "part_impermeable",
            "Surfaces minéralisées",
            "Part de la surface imperméabilisée",
            sealed,
            "%",
            "estimé",
            "",
            "Underlaid (INSEE (RP 2021, BPE ; Source : Insee), CSTB) ; MOS 2021",
        ),
        ("ratio_detour", "Coupures", "Détour piéton", None, "ratio", "non disponible",
         "pas de réseau de rues", "OSM"),
        ("sites", "Sites", "Sites de déploiement candidats", 4, "nombre", "ok", "", "MENJ"),
        ("sites_ecole", "Sites", "Sites : École", 4, "nombre", "ok", "", "MENJ"),
    ]
    t = pd.DataFrame(
        rows,
        columns=["code", "theme", "libelle", "valeur", "unite", "statut", "note", "source"],
    )
    if median is not None:
        t["mediane_metropole"] = [median, None, None, None, None, None]
        t["rang_metropole"] = [12, None, None, None, None, None]
    return t


def test_one_row_per_distinct_indicator_sources_in_footnotes_and_reference(
    tmp_path: Path,
) -> None:
    tables = {"Ville A": _table(9.3, 63.3, median=4.0), "Ville B": _table(4.1, 49.9)}
    files = write_comparison(
        tables,
        tmp_path,
        thumbnails={"Ville A": b"\x89PNG-a", "Ville B": b"\x89PNG-b"},
        links={"Ville A": {"carte": "../a/carte_sensible.html", "rapport": None}},
    )
    page = files["html"].read_text(encoding="utf-8")
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    # the two sealed-share indicators with equal values are one row
    assert "Imperméabilisation moyenne" in body
    assert body.count("<tr><th scope='row'>") == 4  # qpv, sealed, sites, sites_ecole
    assert "même valeur que : Part de la surface imperméabilisée" in body
    # counts that happen to be equal stay two rows
    assert "Sites : École" in body
    # n.d. everywhere: out of the table, listed with the reasons
    assert "Détour piéton" not in body and "Non disponibles pour tous les quartiers" in page
    # sources are numbered footnotes, each once, never cut inside parentheses
    notes = re.findall(r"<li id='source-(\d+)'>(.*?)</li>", page)
    texts = [t for _, t in notes]
    assert len(texts) == len(set(texts))
    assert any("BPE ; Source : Insee), CSTB)" in t for t in texts), texts
    assert not any(t.startswith("Source : Insee)") for t in texts)
    assert "Source :" not in body
    # the Métropole's median and rank where the table has them
    assert "Métropole (médiane)" in page and "rang 12 / 130" in page
    # thumbnails and links
    assert page.count("class='vignette'") == 2
    assert "href='../a/carte_sensible.html'" in page
    assert "Diagnostic : pas encore produite" in page


def test_distinct_rows_keeps_chance_equal_counts(tmp_path: Path) -> None:
    t = _table(1, 2).drop_duplicates("code").set_index("code")
    cat = _table(1, 2)[["code", "theme", "libelle", "unite"]]
    rows, merged, empty = distinct_rows(cat, {"A": t, "B": t})
    assert merged == {"impermeabilite_moyenne": ["Part de la surface imperméabilisée"]}
    assert empty == ["ratio_detour"]
    assert "sites_ecole" in list(rows["code"])


def test_thumbnails_share_one_scale() -> None:
    small = gpd.GeoDataFrame(geometry=[box(650000, 6860000, 651000, 6861000)], crs=2154)
    big = gpd.GeoDataFrame(geometry=[box(660000, 6860000, 664000, 6862000)], crs=2154)
    thumbs, caption = quarter_thumbnails({"petit": (small, {}), "grand": (big, {})})
    assert set(thumbs) == {"petit", "grand"}
    assert all(png.startswith(b"\x89PNG") for png in thumbs.values())
    assert "4,5 km de côté" in caption  # 1.12 x the largest quarter (4 km), for both


def test_all_specs_are_found_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QMI_WORKSPACE", raising=False)
    found = find_specs()
    assert [p.name for p in found] == sorted(p.name for p in (repo / "diagnostics").glob("*.toml"))
    assert len(found) >= 4
