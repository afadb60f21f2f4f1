"""Workshop site round trip in real headless Chromium (network disabled).

Draw a car park in the map's « site proposé » mode, export, ``qmi atelier import``,
re-run the matching of the real Aulnay-sous-Bois layers, and see the site ranked with its
drawn area.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qmi_geo._browser import chromium_session, open_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("telechargements_sites")


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory, downloads: Path) -> Iterator[Any]:
    with chromium_session(tmp_path_factory.mktemp("chromium_sites"), downloads=downloads) as d:
        yield d


def _wait_download(folder: Path, before: set[Path]) -> Path:
    for _ in range(50):
        new = [p for p in folder.glob("*.geojson") if p not in before]
        if new:
            time.sleep(0.2)
            return new[0]
        time.sleep(0.1)
    raise AssertionError("no export was downloaded")


def test_site_drawn_in_the_workshop_comes_back_and_is_ranked(driver, downloads, tmp_path):
    from selenium.webdriver.support.ui import Select

    from qmi_geo.cli.main import cli
    from qmi_geo.maps import build_web_map
    from qmi_geo.pipeline import analyse, map_stage, matching_stage, perimeter_for
    from qmi_geo.spec import load_spec

    spec = load_spec("93005")
    perimeter = perimeter_for(spec)
    page = build_web_map(
        {}, perimeter=perimeter, title="Aulnay", out_path=tmp_path / "c.html", slug="aulnay"
    )
    open_page(driver, page)
    # a 60 m × 40 m car park near the town centre, drawn through the tool's own event
    driver.execute_script(
        "var map = window.qmiAtelier.group._map;"
        "var layer = L.polygon([[48.9340, 2.4960], [48.9340, 2.49682], [48.93436, 2.49682],"
        " [48.93436, 2.4960]]);"
        "map.fire(L.Draw.Event.CREATED, {layer: layer, layerType: 'polygon'});"
    )
    Select(driver.find_element("id", "qmi-nature")).select_by_value("site")
    assert driver.find_element("id", "qmi-defi-theme").is_displayed() is False
    Select(driver.find_element("id", "qmi-site-type")).select_by_value("parking")
    driver.find_element("id", "qmi-site-nom").send_keys("Parking de la <mairie>")
    driver.find_element("id", "qmi-site-proprietaire").send_keys("Ville")
    driver.find_element("id", "qmi-defi-enregistrer").click()
    items = driver.execute_script(
        "return Array.from(document.querySelectorAll('.qmi-liste-defis li'))"
        ".map(function (e) { return e.textContent; })"
    )
    assert items == ["Site proposé — Parking : Parking de la <mairie>"]
    before = set(downloads.glob("*.geojson"))
    driver.find_element("id", "qmi-exporter-defis").click()
    export = _wait_download(downloads, before)
    props = json.loads(export.read_text(encoding="utf-8"))["features"][0]["properties"]
    assert props["nature"] == "site" and props["type_site"] == "parking"
    assert props["nom"] == "Parking de la <mairie>" and props["proprietaire"] == "Ville"

    out = tmp_path / "sortie"
    res = CliRunner().invoke(
        cli, ["atelier", "import", str(export), "--spec", "93005", "--sortie", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "1 site(s) proposé(s) importé(s)" in res.output
    result = analyse(spec, output_dir=out, progress=False, stages=[matching_stage, map_stage])
    matched = result.products["matching"]
    site = matched.sites[matched.sites["nom"] == "Parking de la <mairie>"].iloc[0]
    assert site["origine"] == "atelier" and site["dans_quartier"]
    assert 2300 < site["surface_m2"] < 2500  # 60 m × 40 m, measured in Lambert-93
    scores = matched.suitability.scores
    row = scores[(scores["solution_id"] == "purple") & (scores["site_id"] == site["site_id"])]
    assert len(row) == 1 and row["rang"].notna().all()
    why = row["explication"].iloc[0]
    assert why.startswith("Parking « Parking de la <mairie> » (proposé en atelier), surface :")
    assert "m² (dessinée en atelier)" in why
    assert "sites_atelier" in row["sources"].iloc[0].split(";")
    written = (out / "appariements.csv").read_text(encoding="utf-8-sig")
    assert "Parking de la <mairie>" in written

    # the next workshop map shows the imported site again, editable, among the sites too
    page2 = out / "carte_sensible.html"
    html = page2.read_text(encoding="utf-8")
    # the sites layer of the map (GeoJSON of the sites kind, HTML-escaped name)
    assert '"nom": "Parking de la \\u0026lt;mairie\\u0026gt;"' in html
    open_page(driver, page2, timeout=10.0)
    items = driver.execute_script(
        "return Array.from(document.querySelectorAll('.qmi-liste-defis li'))"
        ".map(function (e) { return e.textContent; })"
    )
    assert "Site proposé — Parking : Parking de la <mairie>" in items
    before = set(downloads.glob("*.geojson"))
    driver.find_element("id", "qmi-exporter-defis").click()
    again = _wait_download(downloads, before)
    feats = json.loads(again.read_text(encoding="utf-8"))["features"]
    site_feats = [f for f in feats if f["properties"].get("nature") == "site"]
    assert len(site_feats) == 1 and site_feats[0]["properties"]["id"] == props["id"]
    assert site_feats[0]["properties"]["type_site"] == "parking"
    # importing the re-export updates the site instead of adding a copy
    res = CliRunner().invoke(
        cli, ["atelier", "import", str(again), "--spec", "93005", "--sortie", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "1 site(s) d'atelier au total" in res.output
