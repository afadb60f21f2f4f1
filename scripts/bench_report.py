"""Benchmark of the diagnostic livrable (issue 12): one pilot's report vs its diagnostic.

For Aulnay-sous-Bois (real layers, synthetic walk), in one process on this machine:

1. ``diagnose`` without the report (layers, walk, indicators, matching, web map), as
   ``qmi diagnose --no-report`` runs it;
2. the report stage alone (``build_commune_report``: context, 8 maps and a chart, HTML,
   PDF), first-import costs of its libraries reported separately;
3. the PDF typesetting compared with what a competent user would do without us: print the
   same HTML to PDF with headless Chromium (``--print-to-pdf``); both PDFs are read back
   with pdftotext and must hold every section title and the same key figures.

Writes the section « Livrable du diagnostic (issue 12) » of BENCHMARKS.md.
Run: ``.venv/bin/python scripts/bench_report.py`` (``--no-write`` to only print).
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HEADER = "## Livrable du diagnostic (issue 12)"


def _pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    return " ".join(out.stdout.decode("utf-8").replace("\u202f", " ").split())


def main() -> None:
    """Run the benchmark and write its BENCHMARKS.md section."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec", default=str(ROOT / "diagnostics" / "aulnay-sous-bois.toml"))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    from qmi_geo._browser import CHROMIUM, OFFLINE_ARGS
    from qmi_geo.pipeline import default_stages, diagnose
    from qmi_geo.report import build_commune_report
    from qmi_geo.report._context import SECTIONS
    from qmi_geo.settings import settings
    from qmi_geo.spec import load_spec

    spec = load_spec(args.spec)
    tmp = Path(tempfile.mkdtemp(prefix="bench_report_"))
    with settings.override(progress=False):
        t0 = time.perf_counter()
        result = diagnose(spec, output_dir=tmp, stages=default_stages(with_report=False))
        t_diag = time.perf_counter() - t0

        t0 = time.perf_counter()
        for mod in ("weasyprint", "esda.getisord", "libpysal.weights", "jinja2", "markdown_it"):
            importlib.import_module(mod)
        t_import = time.perf_counter() - t0

        t0 = time.perf_counter()
        files = build_commune_report(result.layerset, result)
        t_report = time.perf_counter() - t0

        from qmi_geo.report._render import html_to_pdf

        html_path = files["rapport_html"]
        html = html_path.read_text(encoding="utf-8")
        t0 = time.perf_counter()
        pdf_ours = html_to_pdf(html, base_url=tmp)
        t_weasy = time.perf_counter() - t0
        (tmp / "weasy.pdf").write_bytes(pdf_ours)

        chrome_pdf = tmp / "chromium.pdf"
        t0 = time.perf_counter()
        subprocess.run(
            [
                CHROMIUM,
                *OFFLINE_ARGS,
                f"--user-data-dir={tmp / 'profile'}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={chrome_pdf}",
                html_path.as_uri(),
            ],
            capture_output=True,
            check=True,
        )
        t_chrome = time.perf_counter() - t0

    ours, theirs = _pdf_text(tmp / "weasy.pdf"), _pdf_text(chrome_pdf)
    table = result.products["indicators"].set_index("code")
    from qmi_geo.report._format import fr_value

    keys = [
        " ".join(
            fr_value(table.loc[c, "valeur"], table.loc[c, "unite"]).replace("\u202f", " ").split()
        )
        for c in ("population", "part_qpv", "part_impermeable", "annotations")
    ]
    titles = [" ".join(t.split()) for _, t in SECTIONS]
    same = all(t in ours and t in theirs for t in titles) and all(
        k in ours and k in theirs for k in keys
    )

    def pages(path: Path) -> str:
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
        return info.stdout.split("Pages:")[1].split()[0]

    yes = {True: "oui", False: "non"}
    rows = [
        (
            "`qmi diagnose --no-report` (couches, marche, indicateurs, appariement, carte web)",
            t_diag,
        ),
        ("premier import de WeasyPrint, esda, libpysal, Jinja2, markdown-it", t_import),
        (
            "livrable (`build_commune_report` : chiffres, 8 cartes + 1 graphique, Gi*, HTML, PDF)",
            t_report,
        ),
    ]
    lines = [
        HEADER,
        "",
        f"`scripts/bench_report.py` ({time.strftime('%Y-%m-%d')}, 2 cœurs) — {spec.name} : "
        "couches réelles, marche synthétique ; un seul processus.",
        "",
        "| étape | temps (s) | rapport au diagnostic |",
        "|---|---:|---:|",
    ]
    lines += [f"| {label} | {_fr(t, 1)} | {_fr(t / t_diag, 2)} |" for label, t in rows]
    lines += [
        "",
        "Composition du PDF à partir du même HTML, comparée à l'impression par Chromium sans "
        "tête (ce qu'un utilisateur compétent ferait sans qmi_geo) :",
        "",
        "| moteur | temps (s) | pages | titres et chiffres clés lus par pdftotext |",
        "|---|---:|---:|---|",
        f"| WeasyPrint (le nôtre : sommaire paginé, numéros de page, titres balisés) | "
        f"{_fr(t_weasy, 1)} | {pages(tmp / 'weasy.pdf')} | {yes[all(t in ours for t in titles)]} |",
        f"| Chromium `--print-to-pdf` (ni sommaire paginé ni numéros de page) | "
        f"{_fr(t_chrome, 1)} | {pages(chrome_pdf)} | {yes[all(t in theirs for t in titles)]} |",
        "",
        f"Même contenu des deux côtés (7 titres, {len(keys)} chiffres clés) : {yes[same]}. "
        f"Diagnostic + livrable : {_fr(t_diag + t_report, 1)} s, bien en deçà d'une minute. "
        f"WeasyPrint est {_fr(t_weasy / t_chrome, 1)} fois plus lent que Chromium à composer "
        "le PDF, le prix du sommaire paginé, des numéros de page et du balisage des titres.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", text)


def _fr(x: float, digits: int) -> str:
    return f"{x:.{digits}f}".replace(".", ",")


def write_section(path: Path, text: str) -> None:
    """Replace (or append) this benchmark's section of BENCHMARKS.md."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if HEADER in old:
        start = old.index(HEADER)
        nxt = old.find("\n## ", start + len(HEADER))
        old = old[:start] + (old[nxt + 1 :] if nxt >= 0 else "")
    path.write_text(old.rstrip("\n") + "\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    main()
