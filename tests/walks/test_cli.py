"""``qmi walks import`` and ``qmi walks summary`` through click, on the demo walk files."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from qmi_geo.cli.main import cli

from .conftest import LAYERS

DEMO = LAYERS / "marches"


def test_import_then_summary(tmp_path):
    runner = CliRunner()
    files = [
        str(DEMO / "aulnay-sous-bois_marche_synthetique.csv"),
        str(DEMO / "aulnay-sous-bois_kobo_synthetique.csv"),
    ]
    args = ["walks", "import", *files, "--spec", "93005", "--sortie", str(tmp_path)]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "25 lu(s) : 24 accepté(s), 1 rejeté(s)" in res.output
    assert "inversées" in res.output
    rejects = pd.read_csv(tmp_path / "rejets.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert rejects[["fichier", "ligne"]].values.tolist() == [
        ["aulnay-sous-bois_marche_synthetique.csv", "26"]
    ]
    # re-import as JSON: same ids, nothing duplicated
    res = runner.invoke(cli, [*args, "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["total"] == {"lus": 35, "acceptes": 34, "rejetes": 1, "corriges": 1, "signales": 1}
    res = runner.invoke(
        cli, ["walks", "summary", "--spec", "93005", "--sortie", str(tmp_path), "--json"]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["annotations"] == 34
    assert {"theme": "chaleur"}.items() <= summary["themes"][0].items()
    assert any(s["theme"] == "chaleur" for s in summary["points_chauds"])
    text = runner.invoke(cli, ["walks", "summary", "--spec", "93005", "--sortie", str(tmp_path)])
    assert "Chaleur, îlot de chaleur" in text.output and "Points chauds" in text.output
    for name in ("Camille", "Yanis"):
        assert name not in text.output


def test_missing_file_is_a_french_message(tmp_path):
    res = CliRunner().invoke(
        cli,
        [
            "walks",
            "import",
            str(tmp_path / "absent.csv"),
            "--spec",
            "93005",
            "--sortie",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 1
    assert "introuvable" in res.output and "Traceback" not in res.output
