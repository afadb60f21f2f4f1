"""The carte sensible at first sight, on a phone and in print, in real offline Chromium.

At 1400 x 900 and 390 x 844 (a phone, emulated with Chromium's device metrics): clicking the
largest popup keeps the quarter's centre in view and Escape brings the view back; at 390 px
the panels fold into one drawer and no two panel boxes overlap; print emulation shows the
map, its title and legend, and no panel.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from qmi_geo._browser import chromium_session, open_page
from qmi_geo.maps import build_web_map
from qmi_geo.maps._annotations import annotation_payload
from qmi_geo.maps._symbols import site_svg
from qmi_geo.style import SITE_KINDS
from qmi_geo.walks.analysis import density_surface

from .conftest import XSS

pytestmark = pytest.mark.browser

#: Largest share of the map a single panel box may cover on a phone (drawer closed).
PHONE_PANEL_SHARE = 0.12
#: Largest share of the map the open drawer may cover on a phone.
PHONE_DRAWER_SHARE = 0.6


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with chromium_session(tmp_path_factory.mktemp("chromium"), console_log=True) as d:
        yield d


@pytest.fixture(scope="module")
def page(
    tmp_path_factory: pytest.TempPathFactory,
    aulnay_layers,
    perimeter,
    annotations,
    hotspots,
    sources,
    indicators,
) -> Path:
    """Aulnay's layers, 300 synthetic annotations and one site with 12 long solutions."""
    out = tmp_path_factory.mktemp("mise_en_page") / "carte_sensible.html"
    tif = density_surface(annotations, out.parent / "densite.tif", cell_m=50, bandwidth_m=150)
    b = perimeter.total_bounds
    site = gpd.points_from_xy([(b[0] + b[2]) / 2], [b[3] - 150], crs=2154)[0]
    reasons = "Site très minéral, proche d'un QPV, rue citée par les cyclistes. " * 6
    matches = gpd.GeoDataFrame(
        {
            "solution_nom": [f"Solution synthétique n° {i}" for i in range(12)],
            "site_nom": "Rue Jacques Duclos",
            "type_site": "rue",
            "rang": list(range(1, 13)),
            "score": [0.9 - 0.01 * i for i in range(12)],
            "raisons": reasons,
        },
        geometry=[site] * 12,
        crs=2154,
    )
    layers = {k: v for k, v in aulnay_layers.items() if k != "quartier"}
    return build_web_map(
        layers,
        perimeter=perimeter,
        title="Aulnay-sous-Bois — quartier d'innovation",
        out_path=out,
        annotations=annotations,
        hotspots=hotspots,
        density_tif=tif,
        indicators=indicators,
        matches=matches,
        sources=sources,
        slug="aulnay-sous-bois",
    )


def _open(driver: Any, path: Path, width: int, height: int, *, mobile: bool = False) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    open_page(driver, path, settle=0.8)


def _severe(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


_CENTRE_IN_VIEW = """
var map = window.qmiPage.map, c = window.qmiPage.quarter.getCenter();
return map.getBounds().contains(c);
"""


def _click_largest_popup(driver: Any) -> dict[str, Any]:
    """Show the solutions, click the site with 12 solutions, measure the popup."""
    driver.execute_script(
        "var g = window.qmiSitesClasses; window.qmiPage.map.addLayer(g);"
        "window.__before = window.qmiPage.map.getCenter();"
    )
    time.sleep(0.3)
    marker = driver.execute_script("return window.qmiSitesClasses.qmiMarkers[0].getElement()")
    marker.click()
    time.sleep(1.2)  # auto-pan animation
    return driver.execute_script("""
        var map = window.qmiPage.map, el = document.querySelector('.leaflet-popup');
        var box = el.getBoundingClientRect(), m = map.getContainer().getBoundingClientRect();
        var content = el.querySelector('.leaflet-popup-content');
        return {centre: map.getBounds().contains(window.qmiPage.quarter.getCenter()),
                height: box.height, mapHeight: m.height,
                top: box.top - m.top, bottom: m.bottom - box.bottom,
                scrolls: content.scrollHeight > content.clientHeight + 5};
    """)


@pytest.mark.parametrize(("width", "height"), [(1400, 900), (390, 844)])
def test_the_largest_popup_keeps_the_quarter_in_view_and_escape_restores_it(
    driver: Any, page: Path, width: int, height: int, tmp_path: Path
) -> None:
    _open(driver, page, width, height, mobile=width < 600)
    assert driver.execute_script(_CENTRE_IN_VIEW) is True
    got = _click_largest_popup(driver)
    driver.save_screenshot(str(page.parent / f"popup_{width}x{height}.png"))
    assert got["centre"] is True, got
    assert got["scrolls"] is True, "a 12-solution popup scrolls inside a bounded height"
    assert got["height"] < 0.7 * got["mapHeight"], got
    assert got["top"] >= 0 and got["bottom"] >= 0, got
    # Escape closes the popup and the auto-pan is undone
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    time.sleep(0.8)
    assert driver.execute_script("return document.querySelector('.leaflet-popup')") is None
    moved = driver.execute_script(
        "var map = window.qmiPage.map;"
        "return map.latLngToContainerPoint(window.__before)"
        ".distanceTo(map.latLngToContainerPoint(map.getCenter()));"
    )
    assert moved < 5, f"the view is {moved:.0f} px away from where it was"
    # pan far away, then the « recentrer » control brings the quarter back
    driver.execute_script("window.qmiPage.map.panBy([3000, 3000], {animate: false})")
    time.sleep(0.3)
    driver.find_element("css selector", ".qmi-recentrer a").click()
    time.sleep(0.8)
    assert driver.execute_script(_CENTRE_IN_VIEW) is True
    assert _severe(driver) == []


_BOXES = """
var map = document.querySelector('.folium-map').getBoundingClientRect();
function shown(el) {
  var s = getComputedStyle(el), r = el.getBoundingClientRect();
  return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0 && r.height > 0
      && !el.closest('[hidden]');
}
var els = Array.from(document.querySelectorAll(
  '.leaflet-control, .qmi-tiroir-bouton, .qmi-tiroir'));
// a control inside the drawer is counted as the drawer
els = els.filter(function (e) { return shown(e) && !e.parentElement.closest('.qmi-tiroir'); });
return {map: [map.width, map.height], boxes: els.map(function (e) {
  var r = e.getBoundingClientRect();
  return [e.className.split(' ').slice(0, 3).join(' '), r.left, r.top, r.right, r.bottom]; })};
"""


def _overlaps(a: list[Any], b: list[Any]) -> bool:
    return a[1] < b[3] - 1 and b[1] < a[3] - 1 and a[2] < b[4] - 1 and b[2] < a[4] - 1


def _share(box: list[Any], size: list[float]) -> float:
    return (box[3] - box[1]) * (box[4] - box[2]) / (size[0] * size[1])


def test_on_a_phone_the_panels_fold_into_one_drawer_that_overlaps_nothing(
    driver: Any, page: Path
) -> None:
    _open(driver, page, 390, 844, mobile=True)
    got = driver.execute_script(_BOXES)
    driver.save_screenshot(str(page.parent / "telephone_390x844.png"))
    boxes, size = got["boxes"], got["map"]
    names = [b[0] for b in boxes]
    assert any("qmi-tiroir-bouton" in n for n in names), names
    for kind in ("qmi-couches", "qmi-recherche", "leaflet-control-minimap"):
        assert not any(kind in n for n in names), f"{kind} should be in the drawer or hidden"
    for i, a in enumerate(boxes):
        assert _share(a, size) <= PHONE_PANEL_SHARE, (a, _share(a, size))
        for b in boxes[i + 1 :]:
            assert not _overlaps(a, b), (a, b)
    # the drawer opens with the title, legend, layers and search, and covers a bounded share
    driver.find_element("css selector", ".qmi-tiroir-bouton").click()
    time.sleep(0.4)
    got = driver.execute_script(_BOXES)
    driver.save_screenshot(str(page.parent / "telephone_390x844_tiroir.png"))
    drawer = [b for b in got["boxes"] if b[0].startswith("qmi-tiroir ")] or [
        b for b in got["boxes"] if b[0] == "qmi-tiroir"
    ]
    assert drawer, got["boxes"]
    assert _share(drawer[0], size) <= PHONE_DRAWER_SHARE
    inside = driver.execute_script(
        "var d = document.getElementById('qmi-tiroir');"
        "return ['.qmi-panneau', '.qmi-legende', '.qmi-couches', '.qmi-recherche']"
        ".map(function (s) { return !!d.querySelector(s); })"
    )
    assert inside == [True, True, True, True]
    for i, a in enumerate(got["boxes"]):
        for b in got["boxes"][i + 1 :]:
            assert not _overlaps(a, b), (a, b)
    # Escape closes the drawer
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    assert driver.execute_script("return document.getElementById('qmi-tiroir').hidden") is True
    assert _severe(driver) == []


def test_print_shows_the_map_title_and_legend_and_no_panel(driver: Any, page: Path) -> None:
    _open(driver, page, 1400, 900)
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    time.sleep(0.5)
    got = driver.execute_script("""
        function shown(sel) {
          var el = document.querySelector(sel); if (!el) { return null; }
          var r = el.getBoundingClientRect();
          return getComputedStyle(el).display !== 'none' && r.width > 0 && r.height > 0;
        }
        return {map: shown('.folium-map'), legend: shown('.qmi-legende'),
                title: shown('.qmi-titre-impression'), sources: shown('.qmi-sources-impression'),
                panel: shown('.qmi-panneau'), layers: shown('.leaflet-control-layers'),
                search: shown('.qmi-recherche'), minimap: shown('.leaflet-control-minimap'),
                draw: shown('.leaflet-draw'), export: shown('.qmi-export'),
                drawer: shown('.qmi-tiroir-bouton'),
                title_text: document.querySelector('.qmi-titre-impression').textContent,
                tiles: document.querySelectorAll('.leaflet-overlay-pane path').length};
    """)
    driver.save_screenshot(str(page.parent / "impression.png"))
    assert got["map"] and got["legend"] and got["title"] and got["sources"], got
    assert got["title_text"] == "Aulnay-sous-Bois — quartier d'innovation"
    for panel in ("panel", "layers", "search", "minimap", "draw", "export", "drawer"):
        assert got[panel] is False, f"{panel} is printed"
    assert got["tiles"] > 10  # the map's own layers are drawn
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_legend_entries_filter_the_annotations_and_clusters_show_the_theme(
    driver: Any, page: Path
) -> None:
    _open(driver, page, 1400, 900)
    count = "return window.qmiAnnotations.qmiCluster.getLayers().length"
    total = driver.execute_script(count)
    assert total == 300
    buttons = driver.find_elements("css selector", "button.qmi-filtre[data-theme]")
    assert buttons, "theme entries are toggle buttons"
    theme = buttons[0].get_attribute("data-theme")
    n_theme = driver.execute_script(
        "return window.qmiAnnotations.qmiMarkers.filter(function (m) {"
        f" return m.options.qmiTheme === {theme!r}; }}).length"
    )
    driver.execute_script("arguments[0].scrollIntoView()", buttons[0])
    buttons[0].click()
    assert buttons[0].get_attribute("aria-pressed") == "false"
    assert driver.execute_script(count) == total - n_theme
    neg = driver.find_element("css selector", "button.qmi-filtre[data-valence='negatif']")
    driver.execute_script("arguments[0].scrollIntoView()", neg)
    neg.click()
    assert driver.execute_script(count) < total - n_theme
    buttons[0].click()
    neg.click()
    assert driver.execute_script(count) == total
    # cluster icons show a theme's glyph, not a plain number bubble
    glyphs = driver.execute_script(
        "return Array.from(document.querySelectorAll('.qmi-grappe .qmi-grappe-glyphe'))"
        ".map(function (e) { return e.textContent; })"
    )
    assert glyphs and all(g.strip() for g in glyphs)
    assert driver.execute_script("return document.querySelectorAll('.marker-cluster').length") == 0
    # the search box finds a station by name and zooms to it
    box = driver.find_element("id", "qmi-recherche-champ")
    box.send_keys("aulnay")
    time.sleep(0.6)
    found = driver.find_elements("css selector", ".qmi-recherche li button")
    assert any(b.text.startswith("Gare — ") for b in found), [b.text for b in found]
    [b for b in found if b.text.startswith("Gare — ")][0].click()
    time.sleep(0.8)
    assert driver.execute_script("return window.qmiPage.map.getZoom()") >= 17
    assert _severe(driver) == []


_CLUSTER_ICONS = """
var g = window.qmiAnnotations, c = g.qmiCluster, out = [];
c._featureGroup.eachLayer(function (l) {
  if (!(l instanceof L.MarkerCluster) || !l._icon) { return; }
  var counts = {}, ms = l.getAllChildMarkers();
  ms.forEach(function (m) { var t = m.options.qmiTheme; counts[t] = (counts[t] || 0) + 1; });
  var top = Math.max.apply(null, Object.keys(counts).map(function (t) { return counts[t]; }));
  var labels = Object.keys(counts).filter(function (t) { return counts[t] === top; })
    .map(function (t) { return m0label(t); });
  out.push({title: l._icon.querySelector(".qmi-grappe").title, n: ms.length,
            count: l.getChildCount(), top: top, labels: labels});
});
function m0label(t) {
  var m = g.qmiMarkers.find(function (x) { return x.options.qmiTheme === t; });
  return m.options.title;
}
return out;
"""


def _check_cluster_icons(driver: Any) -> int:
    """Each cluster on screen names a most frequent theme of its markers, with its count."""
    icons = driver.execute_script(_CLUSTER_ICONS)
    for icon in icons:
        assert icon["n"] == icon["count"], icon
        assert icon["title"].startswith(f"{icon['n']} annotations, surtout « "), icon
        assert icon["title"].endswith(f" ({icon['top']})"), icon
        assert any(f"« {label} »" in icon["title"] for label in icon["labels"]), icon
    return len(icons)


def test_cluster_icons_name_the_dominant_theme_at_every_zoom_and_after_filters(
    driver: Any, page: Path
) -> None:
    # counts are computed once per cluster and reused across zooms (issue 13): what each
    # icon says must still be what its markers are, after zooming and after a filter
    _open(driver, page, 1400, 900)
    seen = _check_cluster_icons(driver)
    for zoom in (12, 15, 13):
        driver.execute_script(f"window.qmiPage.map.setZoom({zoom}, {{animate: false}})")
        time.sleep(0.5)
        seen += _check_cluster_icons(driver)
    theme = driver.find_elements("css selector", "button.qmi-filtre[data-theme]")[0]
    driver.execute_script("arguments[0].scrollIntoView(); arguments[0].click()", theme)
    time.sleep(0.3)
    hidden = theme.get_attribute("data-theme")
    seen += _check_cluster_icons(driver)
    assert driver.execute_script(
        "return window.qmiAnnotations.qmiCluster.getLayers().every(function (m) {"
        f" return m.options.qmiTheme !== {hidden!r}; }})"
    )
    driver.execute_script("arguments[0].click()", theme)
    time.sleep(0.3)
    seen += _check_cluster_icons(driver)
    assert seen > 5  # clusters were on screen to be checked
    assert _severe(driver) == []


def test_markers_read_from_the_json_block_keep_the_input_order(
    driver: Any, page: Path, annotations: gpd.GeoDataFrame
) -> None:
    # the table is read from a JSON block (issue 13); qmiMarkers[i] is the i-th
    # annotation, which the popups and the comment search rely on
    _open(driver, page, 1400, 900)
    got = driver.execute_script(
        "var ms = window.qmiAnnotations.qmiMarkers;"
        "return ms.map(function (m, i) { var ll = m.getLatLng();"
        " return [m.qmiIndex === i, ll.lat, ll.lng]; });"
    )
    assert all(ok for ok, _lat, _lon in got)
    payload = annotation_payload(annotations)
    expected = [(round(p[0], 6), round(p[1], 6)) for p in payload["points"]]
    assert [(round(lat, 6), round(lon, 6)) for _ok, lat, lon in got] == expected
    first = driver.execute_script(
        "var m = window.qmiAnnotations.qmiMarkers[0], p = m.getPopup().getContent();"
        "return (typeof p === 'function' ? p(m) : p).textContent;"
    )
    assert XSS in first  # the first synthetic annotation is the XSS attempt, as text
    # markercluster's drag/move listeners are not registered on the (never moved) markers;
    # the popup's own listeners are, and spiderfying a cluster still moves its markers
    listens = driver.execute_script(
        "var ms = window.qmiAnnotations.qmiMarkers, m = ms[0];"
        "return [ms.some(function (x) { return x.listens('dragstart') || x.listens('dragend'); }),"
        " m.listens('click')];"
    )
    assert listens == [False, True]
    moved = driver.execute_async_script(
        "var done = arguments[0], g = window.qmiAnnotations, c = g.qmiCluster;"
        "var m = g.qmiMarkers[1], before = m.getLatLng();"
        "c.zoomToShowLayer(m, function () {"
        "  var p = m.__parent; while (p && !p._icon) { p = p.__parent; }"
        "  var home = m._preSpiderfyLatlng || m.getLatLng();"
        "  done([c.hasLayer(m), !!m._icon || !!(p && p._icon), before.equals(home)]);"
        "});"
    )
    assert moved == [True, True, True]


def test_sites_drawn_with_the_print_maps_shape_and_colour_per_kind(driver: Any, page: Path) -> None:
    # issue 11 leftover: web-map sites carry the print map's shape + colour per kind
    # (qmi_geo.style.SITE_KINDS, via _symbols.site_svg), with a legend entry per kind
    _open(driver, page, 1400, 900)
    driver.execute_script(
        "var map = window.qmiPage.map;map.fitBounds(window.qmiPage.quarter, {animate: false});"
    )
    time.sleep(0.4)
    drawn = driver.execute_script(
        "return Array.from(document.querySelectorAll('.qmi-site svg polygon')).map("
        "function (p) { return [p.getAttribute('fill'), p.getAttribute('points')]; })"
    )
    want = {k: (SITE_KINDS[k].colour, site_svg(k)) for k in ("parking", "ecole", "place")}
    assert len(drawn) == 3, drawn
    assert {fill for fill, _pts in drawn} == {c for c, _svg in want.values()}
    for fill, pts in drawn:
        kind = next(k for k, (c, _svg) in want.items() if c == fill)
        assert f'points="{pts}"' in want[kind][1]  # the shape of its kind
    assert len({pts for _fill, pts in drawn}) == 3  # three kinds, three shapes
    legend = driver.execute_script(
        "return Array.from(document.querySelectorAll('.qmi-legende li, .qmi-legende div'))"
        ".filter(function (e) { return e.querySelector('svg polygon'); })"
        ".map(function (e) { return [e.textContent.trim(),"
        " e.querySelector('svg polygon').getAttribute('fill')]; })"
    )
    for k, (colour, _svg) in want.items():
        assert any(SITE_KINDS[k].label in text and fill == colour for text, fill in legend), (
            k,
            legend,
        )
    assert _severe(driver) == []
