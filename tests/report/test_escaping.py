"""Participant text and analyst free text are shown as text, never run as HTML."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.report.conftest import Built, build_pilot

EVIL = [  # (theme, comment, participant): one theme each, so every comment is quoted
    ("insécurité", "<script>alert('xss')</script> trottoir trop étroit", "Ysolde Zirconi-Tessaud"),
    ("chaleur", '<img src=x onerror="alert(1)"> pas d\'ombre', "Barnabé Quillevère"),
    ("circulation", "Carrefour </blockquote><b>dangereux</b>", "Ysolde Zirconi-Tessaud"),
    ("bruit", "Bruit & odeurs > supportable", "Oriane Tressalier"),
    ("fraîcheur", "Placette agréable", "Barnabé Quillevère"),
]


def _spec(tmp: Path, layers_dir: Path) -> Path:
    rows = ["marche;date;heure;thème;ressenti;intensité;commentaire;participant;latitude;longitude"]
    for i, (theme, comment, who) in enumerate(EVIL):
        rows.append(
            f"sceaux-test;14/05/2024;10:0{i};{theme};négatif;3;{comment};{who};"
            f"48,77{6 + i % 3};2,28{8 + i % 2}"
        )
    (tmp / "marche_synthetique.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec = tmp / "sceaux_test.toml"
    spec.write_text(
        textwrap.dedent(
            f'''
            insee = "92071"
            name = "Sceaux"
            [walks]
            files = ["marche_synthetique.csv"]
            fub = false
            [output]
            dir = "{tmp / "out"}"
            [rapport]
            introduction = """Diagnostic **provisoire**. <script>alert('intro')</script>
            [lien](javascript:alert(1))"""
            contexte = "Entretiens : <img src=x onerror=alert(2)>"
            '''
        ),
        encoding="utf-8",
    )
    return spec


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, layers_dir: Path) -> Built:
    tmp = tmp_path_factory.mktemp("sceaux_echappement")
    return build_pilot(_spec(tmp, layers_dir), tmp / "out")


def test_quotes_and_free_text_are_escaped(built: Built) -> None:
    html = built.html
    lower = html.lower()
    assert "<script" not in lower
    # the only images are the report's own inlined PNGs; no tag carries an event handler
    assert all(
        m.startswith('<img src="data:image/png;base64,')
        for m in re.findall(r"<img[^>]{0,40}", html)
    )
    assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", lower)
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html
    assert "<b>dangereux</b>" not in html
    assert 'href="javascript:' not in lower
    assert "<strong>provisoire</strong>" in html  # Markdown still works
    # the PDF shows the same text literally
    text = built.pdf_text
    assert "<script>alert('xss')</script>" in text
    assert "Bruit & odeurs > supportable" in " ".join(text.split())
    assert "Carrefour </blockquote><b>dangereux</b>" in text
    for _, _, who in EVIL:
        assert who not in html and who not in text
        assert who.split()[0] not in text


def test_five_annotations_say_too_few(built: Built) -> None:
    flat = " ".join(built.pdf_text.split())
    assert "Trop peu d'annotations pour un test statistique des points chauds (5 dans le" in flat
