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
