"""The per-commune livrable, built for a real pilot and read back as a user would."""

from __future__ import annotations

import html as html_lib
import re
import subprocess

import pytest

from qmi_geo.report._context import SECTIONS
from qmi_geo.report._format import decimals_for, fr_value

ROW = re.compile(
    r'<tr data-code="(?P<code>[^"]+)" data-valeur="(?P<raw>[^"]*)">\s*<td>.*?</td>\s*'
    r'<td class="num valeur">(?P<shown>.*?)</td>',
    re.S,
)


def _section(html: str, sid: str) -> str:
    start = html.index(f'<section class="chapter" id="{sid}">')
    return html[start : html.index("</section>", start)]


def _flat(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def test_pdf_has_every_section_title_and_key_figures(aulnay_report) -> None:
    text = _flat(aulnay_report.pdf_text)
    for _, title in SECTIONS:
        assert _flat(title) in text, title
    ind = aulnay_report.indicators.set_index("Code")
    for code in ("population", "part_qpv", "annotations", "sites"):
        shown = _flat(fr_value(ind.loc[code, "Valeur"], ind.loc[code, "Unité"]))
        assert shown in text, (code, shown)
    assert "Sommaire" in text and "Page 2 /" in text


def test_pdf_is_a4_tagged_with_embedded_fonts(aulnay_report) -> None:
    info = subprocess.run(
        ["pdfinfo", str(aulnay_report.pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert "595.276 x 841.89" in info  # A4 in points
    assert re.search(r"Tagged:\s+yes", info)
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 8
    fonts = subprocess.run(
        ["pdffonts", str(aulnay_report.pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # "emb" column


def test_every_figure_of_the_key_table_equals_indicateurs_csv(aulnay_report) -> None:
    section = _section(aulnay_report.html, "chiffres")
    rows = list(ROW.finditer(section))
    assert len(rows) >= 10
    ind = aulnay_report.indicators.set_index("Code")
    for m in rows:
        code, raw = m["code"], m["raw"]
        shown = _flat(html_lib.unescape(re.sub(r"<[^>]+>", "", m["shown"])))
        row = ind.loc[code]
        if row["Statut"] == "non disponible":
            assert shown == "non disponible" and raw == ""
            continue
        assert float(raw) == pytest.approx(float(row["Valeur"]), rel=1e-5), code
        number = re.match(r"-?[\d ]+(?:,\d+)?", shown).group(0).replace(" ", "")
        dec = decimals_for(str(row["Unité"]))
        assert float(number.replace(",", ".")) == pytest.approx(
            round(float(row["Valeur"]), dec), abs=10**-dec / 2 + 1e-9
        ), (code, shown, row["Valeur"])


def test_every_enjeu_cites_its_indicator(aulnay_report) -> None:
    section = _section(aulnay_report.html, "enjeux")
    found = re.findall(r'<p class="enjeu" data-indicateur="([^"]+)">(.*?)</p>', section, flags=re.S)
    assert len(found) >= 3
    ind = aulnay_report.indicators.set_index("Code")
    for code, body in found:
        assert code in ind.index
        cite = _flat(
            html_lib.unescape(re.search(r'<span class="cite">(.*?)</span>', body).group(1))
        )
        assert f"indicateur {code} (" in cite
        value = _flat(fr_value(ind.loc[code, "Valeur"], ind.loc[code, "Unité"]))
        assert value in cite, (code, cite)
        assert ind.loc[code, "Statut"] != "non disponible"


def test_html_is_self_contained(aulnay_report) -> None:
    html = aulnay_report.html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert "<script" not in html.lower()
    assert html.count('src="data:image/png;base64,') >= 7
    for sid, _ in SECTIONS:
        assert f'id="{sid}"' in html


def test_walk_section_states_the_gi_test(aulnay_report) -> None:
    text = _flat(aulnay_report.pdf_text)
    assert "Points chauds : test statistique" in text
    assert "Benjamini-Hochberg" in text
    assert "point chaud significatif" in text.lower()
    assert "synthétiques" in text  # the walk files are synthetic and the report says so


def test_no_participant_name_in_outputs(aulnay_report, layers_dir) -> None:
    import pandas as pd

    raw = pd.read_csv(
        layers_dir / "marches" / "aulnay-sous-bois_marche_synthetique.csv",
        sep=";",
        encoding="cp1252",
    )
    names = {str(n) for n in raw["participant"].dropna()}
    assert names
    text = aulnay_report.pdf_text
    for name in names:
        assert name not in aulnay_report.html, name
        assert name not in text, name


def test_gi_grid_is_handed_to_the_geopackage(aulnay_report) -> None:
    # qmi diagnose writes result.extra_layers into diagnostic.gpkg; the fixture kept them
    grid = aulnay_report.extra_layers.get("points_chauds_gi")
    assert grid is not None and len(grid) >= 9
    assert {"n_annotations", "z_gi", "p_sim", "p_fdr", "significatif"} <= set(grid.columns)
    assert int(grid["n_annotations"].sum()) == int(
        aulnay_report.indicators.set_index("Code").loc["annotations", "Valeur"]
    )
