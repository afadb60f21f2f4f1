"""Comparison of quarters: table, CSV, charts, HTML (escaped, opened in a real browser)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from qmi_geo.diagnostics import compare_quarters, compute_indicators, write_comparison
from qmi_geo.diagnostics.compare import comparison_notes


def quarter(x0: float, qpv_width: float, sites: int) -> pd.DataFrame:
    per = gpd.GeoDataFrame(geometry=[box(x0, 0, x0 + 1000, 1000)], crs=2154)
    layers = {
        "qpv": gpd.GeoDataFrame(
            {"code_qp": ["QN1"], "lib_qp": ["<script>x</script>"]},
            geometry=[box(x0, 0, x0 + qpv_width, 1000)],
            crs=2154,
        )
    }
    if sites:
        layers["sites"] = gpd.GeoDataFrame(
            {"type": ["parking"] * sites}, geometry=[box(x0, 0, x0 + 10, 10)] * sites, crs=2154
        )
    return compute_indicators(layers, perimeter=per)


@pytest.fixture
def tables():
    return {"Ville <A>": quarter(0, 500, 2), "Ville B": quarter(5000, 250, 0)}


def test_one_row_per_quarter_units_in_headers(tables):
    wide = compare_quarters(tables)
    assert list(wide.index) == ["Ville <A>", "Ville B"]
    assert wide["Part du quartier en QPV (%)"].tolist() == pytest.approx([50.0, 25.0])
    assert wide["Sites : Parking (nombre)"].iloc[0] == 2
    assert np.isnan(wide["Sites : Parking (nombre)"].iloc[1])


def test_notes_give_a_reason_for_every_missing_value(tables):
    notes = comparison_notes(tables)
    missing = notes[notes["Statut"] == "non disponible"]
    assert (missing["Note"].str.len() > 0).all()
    row = missing[(missing["Quartier"] == "Ville B") & (missing["Code"] == "sites_parking")]
    assert len(row) == 1


def test_write_comparison_outputs(tables, tmp_path):
    files = write_comparison(tables, tmp_path / "comparaison")
    raw = files["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(files["csv"], sep=";", encoding="utf-8-sig", index_col=0, decimal=",")
    assert back.loc["Ville B", "Sites : Parking (nombre)"] == "non disponible"
    assert files["graphique_part_qpv"].read_bytes().startswith(b"\x89PNG")
    assert "graphique_part_negative" not in files  # nothing to draw: no walk anywhere
    page = files["html"].read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "Ville &lt;A&gt;" in page
    assert "data:image/png;base64," in page
    assert 'lang="fr"' in page


@pytest.mark.browser
def test_html_opens_in_headless_chromium(tables, tmp_path):
    from selenium.webdriver.common.by import By

    from qmi_geo._browser import chromium_available, offline_chromium

    if not chromium_available():
        pytest.fail("chromium absent: install the Debian package to run browser tests")
    files = write_comparison(tables, tmp_path)
    shot = tmp_path / "shot.png"
    driver = offline_chromium(tmp_path / "profil", window_size="1200,1600")
    try:
        driver.get(files["html"].as_uri())
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        assert driver.title == "Comparaison des quartiers d'innovation"
        heads = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "thead th")]
        assert "Ville <A>" in heads
        imgs = driver.find_elements(By.CSS_SELECTOR, ".charts img")
        assert imgs and all(
            driver.execute_script("return arguments[0].naturalWidth", img) > 0 for img in imgs
        )
    finally:
        driver.quit()


def test_cli_compare_requires_specs():
    from qmi_geo.cli.main import cli

    res = CliRunner().invoke(cli, ["compare"])
    assert res.exit_code == 1
    assert "Aucun quartier à comparer" in res.output


@pytest.mark.slow
def test_cli_compare_pilots(pilot_specs, tmp_path):
    from qmi_geo.cli.main import cli

    args = [
        "compare",
        str(pilot_specs["meudon"]),
        str(pilot_specs["sceaux"]),
        "--sortie",
        str(tmp_path),
        "--paires",
        "10",
    ]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "Comparaison de 2 quartier(s)" in res.output
    back = pd.read_csv(
        tmp_path / "comparaison.csv", sep=";", encoding="utf-8-sig", index_col=0, decimal=","
    )
    assert list(back.index) == ["Meudon", "Sceaux"]
    assert (tmp_path / "graphiques" / "part_impermeable.png").exists()
