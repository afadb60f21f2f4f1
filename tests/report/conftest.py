"""Build one pilot commune's livrable once for the report tests."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest


@dataclass
class Built:
    out: Path
    html: str
    pdf: Path
    pdf_text: str
    indicators: pd.DataFrame


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
    )


@pytest.fixture(scope="session")
def aulnay_report(tmp_path_factory: pytest.TempPathFactory, pilot_specs: dict[str, Path]) -> Built:
    """The livrable of Aulnay-sous-Bois (real layers, synthetic walk of 35 annotations)."""
    return build_pilot(pilot_specs["aulnay-sous-bois"], tmp_path_factory.mktemp("aulnay"))
