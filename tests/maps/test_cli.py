"""``qmi map`` and ``qmi atelier import`` through click's runner, on the real pilot data."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
from click.testing import CliRunner

from qmi_geo.cli.main import cli


def test_map_writes_offline_page(repo: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["-q", "map", str(repo / "diagnostics" / "sceaux.toml"), "--sortie", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    page = tmp_path / "carte_sensible.html"
    text = page.read_text(encoding="utf-8")
    assert "Sceaux" in text and "<script src=" not in text
    assert page.stat().st_size < 5 * 1024 * 1024


def test_atelier_import_stores_defis_and_reports_rejects(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "sortie"
    spec = tmp_path / "sceaux.toml"
    spec.write_text(
        f'insee = "92071"\nname = "Sceaux"\n[output]\ndir = "{out.as_posix()}"\n', encoding="utf-8"
    )
    export = tmp_path / "defis_sceaux.geojson"
    export.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [2.29, 48.776]},
                        "properties": {
                            "id": "d1",
                            "theme": "chaleur",
                            "priorite": 1,
                            "commentaire": "x",
                        },
                    },
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [2.29, 48.777]},
                        "properties": {"id": "d2", "theme": "bruit", "priorite": -1},
                    },
                ],
            }
        ),
        encoding="utf-8",
    )
    runner = CliRunner()
    res = runner.invoke(cli, ["atelier", "import", str(export), "--spec", str(spec)])
    assert res.exit_code == 0, res.output
    assert "1 défi(s) importé(s)" in res.output
    stored = gpd.read_file(out / "defis.gpkg", layer="defis")
    assert list(stored["id"]) == ["d1"]
    rejects = out / "defis_rejets.csv"
    assert rejects.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "priorité" in rejects.read_text(encoding="utf-8-sig")
    again = runner.invoke(cli, ["atelier", "import", str(export), "--spec", str(spec)])
    assert again.exit_code == 0 and "1 défi(s) au total" in again.output


def test_atelier_import_of_a_missing_file_is_a_french_error(repo: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli,
        [
            "atelier",
            "import",
            str(tmp_path / "absent.geojson"),
            "--spec",
            str(repo / "diagnostics" / "sceaux.toml"),
        ],
    )
    assert res.exit_code == 1
    assert "introuvable" in res.output and "Traceback" not in res.output


def test_atelier_round_trip_into_a_custom_output_folder(repo: Path, tmp_path: Path) -> None:
    """Défis imported with -o X are found by `qmi diagnose -o X` (same folder resolution)."""
    out = tmp_path / "mon dossier"
    export = tmp_path / "defis_sceaux.geojson"
    export.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [2.2905, 48.7775]},
                        "properties": {
                            "id": "defi-rt-1",
                            "theme": "chaleur",
                            "priorite": 1,
                            "commentaire": "Parvis de la mairie",
                        },
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    spec = str(repo / "diagnostics" / "sceaux.toml")
    runner = CliRunner()
    res = runner.invoke(cli, ["atelier", "import", str(export), "--spec", spec, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "defis.gpkg").exists()
    res = runner.invoke(cli, ["-q", "diagnose", spec, "--output", str(out), "--no-report"])
    assert res.exit_code == 0, res.output
    stored = gpd.read_file(out / "diagnostic.gpkg", layer="defis")
    assert list(stored["id"]) == ["defi-rt-1"]
    page = (out / "carte_sensible.html").read_text(encoding="utf-8")
    assert "defi-rt-1" in page  # shown, editable, on the workshop map
    # the French spelling of the option is kept as an alias
    res = runner.invoke(cli, ["atelier", "import", str(export), "--spec", spec, "--sortie", str(out)])
    assert res.exit_code == 0 and "1 défi(s) au total" in res.output


def test_option_names_are_english_with_french_aliases_in_help() -> None:
    runner = CliRunner()
    for args, options in (
        (["diagnose", "--help"], ["--output", "-o", "--sortie", "--no-map", "--sans-carte"]),
        (["map", "--help"], ["--output", "--basemap", "--fond", "--print"]),
        (["atelier", "import", "--help"], ["--output", "--sortie", "--spec"]),
        (["compare", "--help"], ["--output", "--sortie", "--pairs", "--paires", "--all"]),
    ):
        res = runner.invoke(cli, args)
        assert res.exit_code == 0, res.output
        for opt in options:
            assert opt in res.output, (args, opt)
        assert "Dossier de sortie" in res.output or "Dossier" in res.output


def test_in_a_log_there_is_one_plain_line_per_stage_and_no_bar(
    repo: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    log = tmp_path / "qmi.log"
    with log.open("wb") as fh:
        proc = subprocess.run(
            [sys.executable, "-m", "qmi_geo", "map", str(repo / "diagnostics" / "sceaux.toml"),
             "-o", str(tmp_path / "out")],
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            check=False,
        )
    text = log.read_text(encoding="utf-8")
    assert proc.returncode == 0, text
    assert "\r" not in text  # no progress bar redrawn in a file
    assert "[qmi] Sceaux : lecture de" in text and "[qmi] Sceaux : carte sensible" in text
    assert "site(s) de déploiement candidat(s)" in text  # the indicator's count, same words
