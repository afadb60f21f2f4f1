"""Participant text and analyst free text are shown as text, never run as HTML."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from qmi_geo.maps.defis import read_defis_export, save_defis
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
    # the workshop's défis (stored by `qmi atelier import`) and the commune's own sites
    out = tmp / "out"
    out.mkdir()
    export = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [2.2905, 48.7775]},
                "properties": {"id": f"d{p}", "theme": theme, "priorite": p, "commentaire": c},
            }
            for p, theme, c in [
                (2, "chaleur", "Cour d'école <b onmouseover=alert(3)>brûlante</b>"),
                (1, "bruit", "Avenue bruyante le matin"),
            ]
        ],
    }
    (tmp / "defis.geojson").write_text(json.dumps(export), encoding="utf-8")
    save_defis(read_defis_export(tmp / "defis.geojson"), out / "defis.gpkg")
    sites = gpd.GeoDataFrame(
        {"NOM": ["Parvis de la mairie (proposé)"], "type": ["place"]},
        geometry=[Point(2.2935, 48.7775)],
        crs=4326,
    )
    sites.to_file(tmp / "sites_ville_synthetique.gpkg", layer="sites")
    spec = tmp / "sceaux_test.toml"
    spec.write_text(
        textwrap.dedent(
            f'''
            insee = "92071"
            name = "Sceaux"
            [[layers.sites]]
            path = "sites_ville_synthetique.gpkg"
            layer = "sites"
            fields = {{ nom = "NOM" }}
            producer = "Ville de Sceaux"
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


def test_workshop_section_lists_defis_by_priority_and_commune_sites(built: Built) -> None:
    start = built.html.index('<section class="chapter" id="atelier">')
    section = built.html[start : built.html.index("</section>", start)]
    assert section.index("Avenue bruyante") < section.index("Cour d&#39;école")  # priority 1 first
    assert "&lt;b onmouseover=alert(3)&gt;brûlante&lt;/b&gt;" in section
    assert "Parvis de la mairie (proposé)" in section
    assert section.count('src="data:image/png;base64,') == 1  # the défis map
    text = " ".join(built.pdf_text.split())
    assert "<b onmouseover=alert(3)>brûlante</b>" in text


def test_five_annotations_say_too_few(built: Built) -> None:
    flat = " ".join(built.pdf_text.split())
    assert "Trop peu d'annotations pour un test statistique des points chauds (5 dans le" in flat
