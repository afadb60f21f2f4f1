"""The HTML livrable in real headless Chromium with the network blocked."""

from __future__ import annotations

import pytest

from qmi_geo.report._context import SECTIONS
from tests.report.conftest import open_offline, sections_shown

pytestmark = pytest.mark.browser


def test_html_livrable_shows_every_section_offline(driver, aulnay_report) -> None:
    page = aulnay_report.out / "diagnostic_aulnay-sous-bois.html"
    assert open_offline(driver, page) == []
    assert sections_shown(driver) == [title for _, title in SECTIONS]
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
