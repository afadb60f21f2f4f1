"""The carte sensible in real headless Chromium, with the network disabled."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from qmi_geo._browser import chromium_session, open_page
from qmi_geo.maps import build_web_map
from qmi_geo.maps.defis import read_defis_export, save_defis
from qmi_geo.style import LAYER_STYLES

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("telechargements")


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory, downloads: Path) -> Iterator[Any]:
    profile = tmp_path_factory.mktemp("chromium")
    with chromium_session(profile, downloads=downloads, console_log=True, record_errors=True) as d:
        yield d


@pytest.fixture(scope="module")
def page(
    tmp_path_factory: pytest.TempPathFactory,
    aulnay_layers,
    perimeter,
    annotations,
    hotspots,
    sources,
) -> Path:
    out = tmp_path_factory.mktemp("page") / "carte_sensible.html"
    layers = {k: v for k, v in aulnay_layers.items() if k != "quartier"}
    return build_web_map(
        layers,
        perimeter=perimeter,
        title="Aulnay-sous-Bois",
        out_path=out,
        annotations=annotations,
        hotspots=hotspots,
        sources=sources,
        slug="aulnay-sous-bois",
    )


def _open(driver: Any, path: Path) -> None:
    open_page(driver, path)


def _severe(driver: Any) -> list[str]:
    logs = driver.get_log("browser")
    return [e["message"] for e in logs if e["level"] == "SEVERE"]


def test_page_loads_offline_with_layers_markers_and_no_error(driver, page: Path) -> None:
    _open(driver, page)
    assert _severe(driver) == []
    assert driver.execute_script("return window.__errors") == []
    labels = driver.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".map(function (e) { return e.textContent.trim(); })"
    )
    for kind in ("qpv", "coupures", "gares", "sites", "annotations", "points_chauds", "defis"):
        assert LAYER_STYLES[kind].label in labels
    n_icons = driver.execute_script(
        "return document.querySelectorAll('.leaflet-marker-icon').length"
    )
    assert n_icons > 5  # clusters and single markers
    assert driver.execute_script("return window.qmiAnnotations.qmiMarkers.length") == 300
    shot = page.parent / "carte_sensible.png"
    driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


def test_injected_comment_is_shown_as_text_and_never_runs(driver, page: Path) -> None:
    _open(driver, page)
    text = driver.execute_script("""
        var group = window.qmiAnnotations, m = group.qmiMarkers[0];
        var done = false;
        group.qmiCluster.zoomToShowLayer(m, function () { m.openPopup(); });
        var el = m.getPopup() && m.getPopup().getElement();
        return el ? el.textContent : null;
    """)
    for _ in range(100):  # the zoom (and spiderfy) animations take longer on a loaded machine
        time.sleep(0.1)
        text = driver.execute_script(
            "var p = document.querySelector('.qmi-popup'); return p ? p.textContent : null;"
        )
        if text is not None:
            break
    assert text is not None and '<img src=x onerror="window.__xss=1">' in text
    assert driver.execute_script("return document.querySelector('.qmi-popup img')") is None
    # the search box finds it and shows it as text as well
    box = driver.find_element("id", "qmi-recherche-champ")
    box.send_keys("onerror")
    time.sleep(0.6)
    found = driver.execute_script(
        "return Array.from(document.querySelectorAll('.qmi-recherche button'))"
        ".map(function (b) { return b.textContent; })"
    )
    assert any("<img src=x" in f for f in found)
    assert driver.execute_script("return window.__xss") is None
    assert _severe(driver) == []


def _draw(driver: Any, js_layer: str, theme: str, priority: int, comment: str) -> None:
    driver.execute_script(
        "var map = window.qmiAtelier.group._map;"
        f"var layer = {js_layer};"
        "map.fire(L.Draw.Event.CREATED, {layer: layer, layerType: 'x'});"
    )
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", "qmi-defi-theme")).select_by_value(theme)
    prio = driver.find_element("id", "qmi-defi-priorite")
    prio.clear()
    prio.send_keys(str(priority))
    driver.find_element("id", "qmi-defi-commentaire").send_keys(comment)
    driver.find_element("id", "qmi-defi-enregistrer").click()


def _wait_download(folder: Path, before: set[Path]) -> Path:
    for _ in range(50):
        new = [p for p in folder.glob("*.geojson") if p not in before]
        if new:
            time.sleep(0.2)
            return new[0]
        time.sleep(0.1)
    raise AssertionError("no défis export was downloaded")


def test_drawn_defis_round_trip_through_export_and_import(
    driver, page: Path, downloads: Path, perimeter, tmp_path: Path
) -> None:
    _open(driver, page)
    # a point drawn with the real tool: click the button, then the map
    driver.find_element("css selector", ".leaflet-draw-draw-circlemarker").click()
    driver.find_element(
        "id",
        page.stem
        and driver.execute_script("return window.qmiAtelier.group._map.getContainer().id"),
    ).click()
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", "qmi-defi-theme")).select_by_value("chaleur")
    prio = driver.find_element("id", "qmi-defi-priorite")
    prio.clear()
    prio.send_keys("0")
    driver.find_element("id", "qmi-defi-enregistrer").click()
    assert "entier" in driver.find_element("css selector", ".qmi-formulaire-defi p").text
    prio.clear()
    prio.send_keys("2")
    driver.find_element("id", "qmi-defi-commentaire").send_keys("Parvis <b>brûlant</b>")
    driver.find_element("id", "qmi-defi-enregistrer").click()
    # a line and a polygon injected through the same event the tool fires
    _draw(
        driver, "L.polyline([[48.94, 2.49], [48.945, 2.50]])", "coupure", 1, "Traversée de l'avenue"
    )
    _draw(driver, "L.polygon([[48.93, 2.48], [48.935, 2.48], [48.935, 2.49]])", "eau", 3, "")
    # each drawn défi shows its priority number on the map
    numbers = driver.execute_script(
        "return Array.from(document.querySelectorAll('.qmi-defi-numero'))"
        ".map(function (e) { return e.textContent; }).sort()"
    )
    assert numbers == ["1", "2", "3"]
    before = set(downloads.glob("*.geojson"))
    driver.find_element("id", "qmi-exporter-defis").click()
    export = _wait_download(downloads, before)
    assert export.name.startswith("defis_aulnay-sous-bois_")
    raw = json.loads(export.read_text(encoding="utf-8"))
    assert [f["properties"]["priorite"] for f in raw["features"]] == [1, 2, 3]

    defis = read_defis_export(export)
    assert list(defis["theme"]) == ["coupure", "chaleur", "eau"]
    assert list(defis["priorite"]) == [1, 2, 3]
    assert list(defis.geom_type) == ["LineString", "Point", "Polygon"]
    assert defis["commentaire"].iloc[1] == "Parvis <b>brûlant</b>"
    line = defis.geometry.iloc[0]
    expected = gpd.GeoSeries.from_xy([2.49, 2.50], [48.94, 48.945], crs=4326).to_crs(2154)
    assert line.coords[0] == pytest.approx((expected.iloc[0].x, expected.iloc[0].y), abs=0.2)
    export.rename(tmp_path / export.name)  # the next export gets the same name
    store = save_defis(defis, tmp_path / "defis.gpkg")
    assert len(store) == 3

    # the next map shows them, editable; exporting again and re-importing adds nothing
    page2 = build_web_map(
        {},
        perimeter=perimeter,
        title="t",
        out_path=tmp_path / "c2.html",
        defis=store,
        slug="aulnay-sous-bois",
    )
    _open(driver, page2)
    assert driver.execute_script("return window.qmiAtelier.group.getLayers().length") == 3
    items = driver.execute_script(
        "return Array.from(document.querySelectorAll('.qmi-liste-defis li'))"
        ".map(function (e) { return e.textContent; })"
    )
    assert items[0].startswith("Défi n° 1")
    before = set(downloads.glob("*.geojson"))
    driver.find_element("id", "qmi-exporter-defis").click()
    again = read_defis_export(_wait_download(downloads, before))
    merged = save_defis(again, tmp_path / "defis.gpkg")
    assert sorted(merged["id"]) == sorted(store["id"])
    assert _severe(driver) == []


def test_layer_control_is_grouped_and_the_credit_is_one_line(driver: Any, page: Path) -> None:
    try:
        driver.set_window_size(1280, 720)
        _open(driver, page)
        groups = driver.execute_script(
            "return Array.from(document.querySelectorAll("
            "'.leaflet-control-layers-overlays details.qmi-groupe')).map(function (d) {"
            " return [d.querySelector('summary').textContent,"
            " d.querySelectorAll('label').length]; })"
        )
        titles = [g[0] for g in groups]
        assert titles == ["Territoire", "Coupures et mobilité", "Ressentis", "Atelier et solutions"]
        assert all(n > 0 for _, n in groups)
        # on a 1280 x 720 screen the control opens folded, and unfolds on request
        folded = "return document.querySelector('.qmi-couches').classList.contains('qmi-replie')"
        assert driver.execute_script(folded) is True
        driver.find_element("css selector", ".qmi-couches-titre").click()
        assert driver.execute_script(folded) is False
        # the credit is one short line; the button opens the full list of sources
        bar = driver.find_element("css selector", ".leaflet-control-attribution")
        assert bar.size["height"] < 30, bar.text
        assert bar.text.startswith("Leaflet | Sources : IGN")
        panel = driver.find_element("id", "qmi-sources-liste")
        assert not panel.is_displayed()
        driver.find_element("css selector", ".qmi-sources-bouton").click()
        assert panel.is_displayed()
        items = panel.find_elements("css selector", "li")
        assert len(items) >= 8 and f"Sources ({len(items)})" in bar.text
        # a layer switched off and on keeps the grouping (Leaflet rebuilds the list)
        driver.execute_script(
            "var g = window.qmiAnnotations; var map = g._map;map.removeLayer(g); map.addLayer(g);"
        )
        assert driver.execute_script(
            "return document.querySelectorAll('.qmi-groupe').length"
        ) == len(groups)
        shot = page.parent / "carte_1280x720.png"
        driver.save_screenshot(str(shot))
        assert _severe(driver) == []
    finally:
        driver.set_window_size(1400, 900)


def test_solution_map_frames_numbered_sites_with_their_reasons(
    driver: Any,
    aulnay_layers: dict[str, gpd.GeoDataFrame],
    perimeter: gpd.GeoDataFrame,
    sources: list[Any],
    tmp_path: Path,
) -> None:
    from qmi_geo.maps import build_solution_map

    sites = aulnay_layers["sites"]
    ranked = gpd.GeoDataFrame(
        {
            "solution_nom": "Îlot <frais>",
            "site_nom": list(sites["nom"]),
            "type_site": list(sites["type"]),
            "rang": [2, 1, 3],
            "score": [0.7, 0.9, 0.5],
            "raisons": ["Parking minéral", "Cour d'école très minérale <b>", "Place"],
        },
        geometry=list(sites.geometry),
        crs=2154,
    )
    solution = type("S", (), {"nom": "Îlot <frais>", "id": "ilot"})()
    path = build_solution_map(
        solution,
        ranked,
        perimeter=perimeter,
        layers=aulnay_layers,
        out_path=tmp_path / "ilot.html",
        sources=sources,
    )
    _open(driver, path)
    labels = driver.execute_script(
        "return Array.from(document.querySelectorAll('.qmi-rang'))"
        ".map(function (e) { return e.textContent; })"
    )
    assert sorted(labels) == ["1", "2", "3"]
    # the map opens on the ranked sites, tighter than the whole quarter
    inside = driver.execute_script(
        "var g = window.qmiSitesClasses, b = g._map.getBounds();"
        "return g.qmiMarkers.every(function (m) { return b.contains(m.getLatLng()); })"
    )
    assert inside is True
    # the side list is ordered by rank and opens the site's popup with its reasons
    rows = driver.find_elements("css selector", ".qmi-classement button")
    assert [r.find_element("css selector", ".qmi-num").text for r in rows] == ["1", "2", "3"]
    rows[0].click()
    time.sleep(0.6)
    popup = driver.find_element("css selector", ".leaflet-popup-content .qmi-popup").text
    assert "n° 1 pour Îlot <frais>" in popup
    assert "Pourquoi ce site" in popup and "Cour d'école très minérale <b>" in popup
    assert _severe(driver) == []
