from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from qmi_geo.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_match_and_allocate_on_real_pilot_layers(tmp_path):
    specs = [str(ROOT / "diagnostics" / f"{c}.toml") for c in ("meudon", "sceaux")]
    result = CliRunner().invoke(
        cli, ["match", "--allocate", "--min-par-commune", "1", *specs, "--sortie", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    shown = re.findall(r"\(score ([^)]*)\)", result.output)
    assert shown and [s for s in shown if not re.fullmatch(r"[01],\d\d", s)] == []  # French
    scores = pd.read_csv(
        tmp_path / "meudon" / "appariements.csv", sep=";", encoding="utf-8-sig", decimal=","
    )
    assert (tmp_path / "meudon" / "appariements.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    digi = scores[scores["id_solution"] == "digiponts92"]
    assert len(digi) and set(digi["type_site"]) == {"Pont, franchissement"}
    assert scores["explication"].str.len().gt(10).all()
    page = tmp_path / "meudon" / "solutions" / "digiponts92.html"
    assert page.exists() and "Digiponts92" in page.read_text(encoding="utf-8")
    rep = pd.read_csv(
        tmp_path / "repartition" / "repartition.csv", sep=";", encoding="utf-8-sig", decimal=","
    )
    assert rep.groupby("commune").size().le(8).all() and rep["id_solution"].is_unique
    assert "Répartition des solutions" in (tmp_path / "repartition" / "repartition.txt").read_text(
        encoding="utf-8"
    )


def test_bad_catalogue_is_a_french_error(tmp_path):
    bad = tmp_path / "cat.toml"
    bad.write_text('[[solution]]\nid = "x"\n', encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "match",
            str(ROOT / "diagnostics" / "meudon.toml"),
            "--catalogue",
            str(bad),
            "--sortie",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1
    assert "champ « exigences »" in result.output or "champ « nom »" in result.output
    assert "Traceback" not in result.output
