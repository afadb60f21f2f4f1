"""Every pilot's livrable and the global livrable, built from the command line (long)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from qmi_geo.cli.main import cli
from qmi_geo.report._context import SECTIONS
from qmi_geo.report._format import fr_value
from qmi_geo.report.build import GLOBAL_SECTIONS
from tests.report.conftest import open_offline, pdf_text, sections_shown

pytestmark = pytest.mark.long

PILOTS = ["aulnay-sous-bois", "meudon", "noisy-le-grand", "sceaux"]


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("slug", PILOTS)
def test_pilot_livrable_from_qmi_diagnose(
    slug: str, tmp_path: Path, repo: Path, driver: object
) -> None:
    spec = repo / "diagnostics" / f"{slug}.toml"
    result = CliRunner().invoke(cli, ["-q", "diagnose", str(spec), "--sortie", str(tmp_path)])
    assert result.exit_code == 0, result.output
    pdf, html = tmp_path / f"diagnostic_{slug}.pdf", tmp_path / f"diagnostic_{slug}.html"
    assert pdf.stat().st_size > 100_000 and html.stat().st_size > 100_000
    text = _flat(pdf_text(pdf))
    for _, title in SECTIONS:
        assert _flat(title) in text, (slug, title)
    ind = pd.read_csv(tmp_path / "indicateurs.csv", sep=";", decimal=",", encoding="utf-8-sig")
    ind = ind.set_index("Code")
    for code in ("population", "part_qpv", "part_impermeable", "sites"):
        if ind.loc[code, "Statut"] != "non disponible":
            assert _flat(fr_value(ind.loc[code, "Valeur"], ind.loc[code, "Unité"])) in text
    page = html.read_text(encoding="utf-8")
    assert 'href="carte_sensible.html"' in page  # qmi diagnose wrote the web map first
    assert "<script" not in page.lower()
    assert open_offline(driver, html) == []
    assert sections_shown(driver) == [title for _, title in SECTIONS]


def test_global_livrable_four_pilots_and_issy(tmp_path: Path, repo: Path, driver: object) -> None:
    specs = [str(repo / "diagnostics" / f"{s}.toml") for s in [*PILOTS, "issy-les-moulineaux"]]
    result = CliRunner().invoke(
        cli, ["-q", "rapport", "--global", *specs, "--sortie", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    text = _flat(pdf_text(tmp_path / "diagnostic_global.pdf"))
    for _, title in GLOBAL_SECTIONS:
        assert _flat(title) in text, title
    for name in ("Aulnay-sous-Bois", "Meudon", "Noisy-le-Grand", "Sceaux", "Issy-les-Moulineaux"):
        assert name in text
    page = (tmp_path / "diagnostic_global.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 1  # the small multiples
    assert "Répartition par programmation linéaire" in page
    html = tmp_path / "diagnostic_global.html"
    assert open_offline(driver, html) == []
    assert sections_shown(driver) == [title for _, title in GLOBAL_SECTIONS]
