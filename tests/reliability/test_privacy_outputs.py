"""Personal columns never reach an output file, the rejects file included."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from qmi_geo.cli.main import cli
from qmi_geo.walks import import_walks
from qmi_geo.walks._privacy import is_personal_column

from .conftest import PERSONAL_VALUES, write_spec


def _text_of(path: Path) -> bytes:
    """The bytes to search: a PDF's extracted text (its streams are compressed)."""
    if path.suffix.lower() == ".pdf":
        out = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
        )
        return out.stdout + path.read_bytes()
    return path.read_bytes()


def _leaks(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = _text_of(path)
        hits = [v for v in PERSONAL_VALUES if v.encode("utf-8") in data]
        if hits:
            found[str(path.relative_to(folder))] = hits
    return found


def test_kobo_personal_columns_are_recognised() -> None:
    columns = ["Prénom", "Nom de famille", "Email", "Téléphone", "_submitted_by", "deviceid"]
    assert all(is_personal_column(c) for c in columns)
    assert not any(is_personal_column(c) for c in ["groupe/theme", "start", "_id", "name"])


def test_rejects_keep_row_reason_and_non_personal_columns(kobo_file: Path) -> None:
    result = import_walks(kobo_file)
    rejects = result.rejects
    assert rejects["ligne"].tolist() == [5, 6]
    assert "groupe/commentaire" in rejects.columns and "start" in rejects.columns
    assert not any(is_personal_column(c) for c in rejects.columns if c != "pseudonyme")
    assert rejects["raison"].iloc[0] == (
        "coordonnées vides : renseignez latitude et longitude ou une colonne WKT"
    )
    assert rejects["raison"].iloc[1] == (
        "coordonnées hors d'Île-de-France (5.3698 ; 43.2965) : corrigez la position, ou "
        "importez ce fichier pour la commune où il a été saisi"
    )
    assert not any(v in rejects.to_string() for v in PERSONAL_VALUES)


def test_no_output_of_a_diagnostic_holds_personal_data(tmp_path: Path, kobo_file: Path) -> None:
    spec = write_spec(tmp_path, [kobo_file])
    out = tmp_path / "sortie"
    res = CliRunner().invoke(cli, ["diagnose", str(spec)])
    assert res.exit_code == 0, res.output
    written = sorted(p.name for p in out.iterdir())
    assert {"annotations.gpkg", "diagnostic.gpkg", "rejets.csv", "carte_sensible.html"} <= set(
        written
    )
    rejects = pd.read_csv(out / "rejets.csv", sep=";", encoding="utf-8-sig", dtype=str)
    assert rejects["ligne"].tolist() == ["5", "6"]
    assert _leaks(out) == {}
    for value in PERSONAL_VALUES:
        assert value not in res.output
