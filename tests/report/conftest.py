"""Build one pilot commune's livrable once for the report tests."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest


@dataclass
class Built:
    out: Path
    html: str
    pdf: Path
    pdf_text: str
    indicators: pd.DataFrame
    extra_layers: dict[str, Any]


def pdf_text(path: Path) -> str:
    """The PDF's text as poppler reads it (layout off, so lines follow the reading order)."""
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def build_pilot(spec_path: Path, out: Path) -> Built:
    from qmi_geo.pipeline import analyse, indicators_stage, matching_stage, walks_stage
    from qmi_geo.report import build_commune_report
    from qmi_geo.spec import load_spec

    spec = load_spec(spec_path)
    result = analyse(
        spec,
        output_dir=out,
        progress=False,
        stages=[walks_stage, indicators_stage, matching_stage],
    )
    files = build_commune_report(result.layerset, result, progress=False)
    indicators = pd.read_csv(
        out / "indicateurs.csv", sep=";", decimal=",", encoding="utf-8-sig", dtype={"Code": str}
    )
    return Built(
        out=out,
        html=files["rapport_html"].read_text(encoding="utf-8"),
        pdf=files["rapport_pdf"],
        pdf_text=pdf_text(files["rapport_pdf"]),
        indicators=indicators,
        extra_layers=result.extra_layers,
    )


@pytest.fixture(scope="session")
def aulnay_report(tmp_path_factory: pytest.TempPathFactory, pilot_specs: dict[str, Path]) -> Built:
    """The livrable of Aulnay-sous-Bois (real layers, synthetic walk of 35 annotations)."""
    return build_pilot(pilot_specs["aulnay-sous-bois"], tmp_path_factory.mktemp("aulnay"))


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium with the network blocked, recording console and page errors."""
    from qmi_geo._browser import chromium_session

    profile = tmp_path_factory.mktemp("chromium_rapport")
    with chromium_session(profile, console_log=True, record_errors=True) as d:
        yield d


def open_offline(driver: Any, page: Path) -> list[str]:
    """Open a page; return its console errors and uncaught page errors."""
    driver.get(page.as_uri())
    for _ in range(50):
        if driver.execute_script("return document.readyState") == "complete":
            break
        time.sleep(0.1)
    logs = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return logs + list(driver.execute_script("return window.__errors"))


def sections_shown(driver: Any) -> list[str]:
    """Titles of the page's sections that are displayed with some content."""
    return list(
        driver.execute_script(
            "return Array.from(document.querySelectorAll('section.chapter'))"
            ".filter(s => s.getBoundingClientRect().height > 50 && s.offsetParent !== null)"
            ".map(s => s.querySelector('h2').innerText);"
        )
    )
