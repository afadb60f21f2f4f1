"""The HTML livrable in real headless Chromium with the network blocked."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qmi_geo._browser import chromium_available, offline_chromium
from qmi_geo.report._context import SECTIONS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not chromium_available():
        pytest.fail(
            "Chromium and chromedriver are required (Debian packages chromium, "
            "chromium-driver; installed by .ci/run)"
        )
    drv = offline_chromium(tmp_path_factory.mktemp("chromium_rapport"), console_log=True)
    drv.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {
            "source": (
                "window.__errors = [];"
                "window.addEventListener('error', function (e) {"
                " window.__errors.push(String(e.message || e.target && e.target.src)); }, true);"
            )
        },
    )
    try:
        yield drv
    finally:
        drv.quit()


def _open(driver: Any, path: Path) -> None:
    driver.get(path.as_uri())
    for _ in range(50):
        if driver.execute_script("return document.readyState") == "complete":
            break
        time.sleep(0.1)


def test_html_livrable_shows_every_section_offline(driver, aulnay_report) -> None:
    page = aulnay_report.out / "diagnostic_aulnay-sous-bois.html"
    _open(driver, page)
    logs = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert logs == []
    assert driver.execute_script("return window.__errors") == []
    for sid, title in SECTIONS:
        box = driver.execute_script(
            "const s = document.getElementById(arguments[0]);"
            "if (!s) return null; const r = s.getBoundingClientRect();"
            "return [r.height, s.querySelector('h2').innerText];",
            sid,
        )
        assert box is not None, sid
        assert box[0] > 50 and box[1] == title, (sid, box)
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);"
    )
    assert len(images) >= 7
    assert all(done and width > 500 for done, width in images)
    # the print stylesheet hides the screen-only link and keeps the sections
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    hidden = driver.execute_script(
        "return Array.from(document.querySelectorAll('.screen-only'))"
        ".every(e => getComputedStyle(e).display === 'none');"
    )
    assert hidden
