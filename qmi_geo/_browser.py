"""Headless Chromium with the network blocked, for the browser tests and the benchmarks.

Uses Debian's ``chromium`` and ``chromium-driver`` (never a downloaded browser). Every page
is opened with all traffic sent to a closed proxy port, so a map that still needed the
network would fail visibly.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    "CHROMEDRIVER",
    "CHROMIUM",
    "OFFLINE_ARGS",
    "chromium_available",
    "chromium_session",
    "offline_chromium",
    "open_page",
]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

#: Headless, sandbox off (CI runs as root), all traffic to a closed port, no background calls.
OFFLINE_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)

#: Collects uncaught errors and failed resources of every page in ``window.__errors``.
RECORD_ERRORS = (
    "window.__errors = [];"
    "window.addEventListener('error', function (e) {"
    " window.__errors.push(String(e.message || e.target && e.target.src)); }, true);"
)


def chromium_available() -> bool:
    """Whether Debian's chromium and chromedriver are installed."""
    return Path(CHROMIUM).exists() and shutil.which(CHROMEDRIVER) is not None


def offline_chromium(
    user_data_dir: Path | str,
    *,
    window_size: str = "1400,900",
    downloads: Path | None = None,
    console_log: bool = False,
    record_errors: bool = False,
) -> Any:
    """Start a Selenium-driven headless Chromium that cannot reach the network.

    Parameters
    ----------
    user_data_dir
        A fresh, empty profile folder.
    window_size
        ``"width,height"`` in pixels.
    downloads
        Folder where downloads (e.g. the exported défis) land without a prompt.
    console_log
        Keep the browser console (``driver.get_log("browser")``).
    record_errors
        Collect each page's uncaught errors and failed resources in ``window.__errors``.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not chromium_available():
        raise RuntimeError(
            "Chromium and chromedriver are required (Debian packages chromium, "
            "chromium-driver; installed by .ci/run)"
        )
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (*OFFLINE_ARGS, f"--window-size={window_size}", f"--user-data-dir={user_data_dir}"):
        opts.add_argument(arg)
    if console_log:
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if downloads is not None:
        opts.add_experimental_option(
            "prefs",
            {
                "download.default_directory": str(downloads),
                "download.prompt_for_download": False,
                "profile.default_content_setting_values.automatic_downloads": 1,
            },
        )
    driver = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    if downloads is not None:
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
    if record_errors:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_ERRORS})
    return driver


@contextmanager
def chromium_session(user_data_dir: Path | str, **options: Any) -> Iterator[Any]:
    """:func:`offline_chromium` (same options) that is quit when the block ends."""
    driver = offline_chromium(user_data_dir, **options)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver: Any, page: Path, *, settle: float = 0.5, timeout: float = 5.0) -> None:
    """Open ``page`` and wait until the document is loaded, then ``settle`` seconds more.

    The settle time lets the map's own scripts run after ``load`` (clustering, legend); tests
    that need a precise state wait for it themselves.
    """
    driver.get(Path(page).as_uri())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.execute_script("return document.readyState") == "complete":
            break
        time.sleep(0.1)
    time.sleep(settle)
