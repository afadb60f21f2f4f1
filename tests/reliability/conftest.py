"""Fixtures for the reliability tests: a Kobo-like walk file with personal columns."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO_WALKS = REPO / "layers" / "marches"

#: Personal values written in the synthetic Kobo file: none may reach any output.
PERSONAL_VALUES = (
    "Zéphyrine",
    "Quillebeuf",
    "zephyrine.q@example.org",
    "06 12 34 56 78",
    "+33612345678",
    "kobo_zq_1987",
    "collect:Zq8xYh2",
    "Eudoxie",
    "Brindejonc",
    "eudoxie.b@example.org",
)

#: Real places of Aulnay-sous-Bois (lat, lon): gare, parvis, a college.
_ROWS = [
    # lat, lon, theme, comment, date, firstname, lastname, email, phone, submitter, device
    ("48.931977", "2.495768", "chaleur", "Parvis brûlant", "2024-06-15T14:05:00"),
    ("48.932496", "2.495202", "traversée dangereuse", "Feu trop court", "2024-06-15T14:07:00"),
    ("48.932475", "2.49612", "bruit", "Bus et klaxons", "2024-06-15T14:09:00"),
    ("", "", "bruit", "position oubliée", "2024-06-15T14:10:00"),
    ("43.2965", "5.3698", "chaleur", "saisi à Marseille par erreur", "2024-06-15T14:11:00"),
]


def kobo_personal_csv(path: Path) -> Path:
    """A KoboToolbox-like CSV export with personal columns (synthetic)."""
    header = (
        "start;_geo_latitude;_geo_longitude;groupe/theme;groupe/commentaire;Prénom;"
        "Nom de famille;Email;Téléphone;_submitted_by;deviceid;_id\n"
    )
    people = [
        ("Zéphyrine", "Quillebeuf", "zephyrine.q@example.org", "06 12 34 56 78", "kobo_zq_1987"),
        ("Eudoxie", "Brindejonc", "eudoxie.b@example.org", "+33612345678", "kobo_zq_1987"),
    ]
    lines = [header]
    for i, (lat, lon, theme, comment, date) in enumerate(_ROWS):
        first, last, mail, phone, sub = people[i % 2]
        lines.append(
            f"{date};{lat};{lon};{theme};{comment};{first};{last};{mail};{phone};{sub};"
            f"collect:Zq8xYh2;{9000 + i}\n"
        )
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def kobo_file(tmp_path: Path) -> Path:
    """The synthetic Kobo export in a temporary folder."""
    return kobo_personal_csv(tmp_path / "kobo_personnes_synthetique.csv")


def write_spec(
    folder: Path, files: list[Path], *, extra: str = "", out: Path | None = None
) -> Path:
    """A spec for Aulnay-sous-Bois reading ``files``, writing into ``out``."""
    listed = ", ".join(f'"{f.as_posix()}"' for f in files)
    out = out or folder / "sortie"
    spec = folder / "aulnay-sous-bois.toml"
    spec.write_text(
        'insee = "93005"\nname = "Aulnay-sous-Bois"\n'
        f"[walks]\nfiles = [{listed}]\n{extra}\n"
        f'[output]\ndir = "{out.as_posix()}"\n',
        encoding="utf-8",
    )
    return spec
