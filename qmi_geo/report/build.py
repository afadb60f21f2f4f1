"""Build the livrables: per commune (from a pipeline result) and global (several specs)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from qmi_geo._atomic import write_bytes, write_text
from qmi_geo.report._context import KEY_INDICATORS, SECTIONS, commune_context
from qmi_geo.report._format import fr_number, fr_value
from qmi_geo.report._reference import NO_METROPOLE, reference_for
from qmi_geo.report._render import html_to_pdf, preload_pdf, render
from qmi_geo.settings import settings

__all__ = ["GLOBAL_SECTIONS", "build_commune_report", "build_global_report"]

log = logging.getLogger(__name__)

GLOBAL_SECTIONS = (
    ("chiffres", "Les quartiers en chiffres"),
    ("cartes", "Cartes comparées"),
    ("marche", "Les marches sensibles comparées"),
    ("metropole", "Contexte métropolitain"),
    ("repartition", "Répartition des solutions"),
    ("sources", "Sources, couverture et limites"),
)

#: Progress steps of one commune's report (see commune_context's ``step`` calls).
_COMMUNE_STEPS = 11


def _figure(name: str, *args: Any, **kwargs: Any) -> str:
    from qmi_geo.report import _figures

    return _figures.to_data_uri(getattr(_figures, name)(*args, **kwargs))


class _Figures:
    """The livrable's figures: requested while the context is built, drawn together after.

    Calling the batch records a figure and returns a placeholder for its data URI;
    :meth:`fill` draws them all and puts each URI in its place. On a machine with two
    cores (:func:`qmi_geo._overlap.available`) a forked copy of the process draws part of
    them while this one imports WeasyPrint and draws the rest: each figure is drawn by the
    same code from the same data, so the livrable is the same, byte for byte.

    The placeholders carry a random key drawn for each livrable, so that no text of the
    report (a participant's quote, say) can be taken for one.
    """

    def __init__(self) -> None:
        import secrets

        self._key = secrets.token_hex(8)
        self._jobs: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, name: str, *args: Any, **kwargs: Any) -> str:
        self._jobs.append((name, args, kwargs))
        return self._token(len(self._jobs) - 1)

    def _token(self, i: int) -> str:
        return f"qmi-figure-{self._key}-{i}"

    def _draw(self, jobs: Sequence[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> list[str]:
        return [_figure(name, *args, **kwargs) for name, args, kwargs in jobs]

    def fill(self, html: str, *, before: Callable[[], None] | None = None) -> str:
        """``html`` with every figure drawn in place; ``before()`` runs meanwhile."""
        from qmi_geo import _overlap

        jobs = self._jobs
        if len(jobs) >= 2 and _overlap.available():
            # this process also runs before() (WeasyPrint's import, ≈ 2 maps): it keeps fewer
            mine = (len(jobs) - 1) // 2
            child = _overlap.Forked(lambda: self._draw(jobs[mine:]))
            try:
                if before is not None:
                    before()
                uris = self._draw(jobs[:mine])
            except BaseException:
                child.cancel()
                raise
            uris += child.join()
        else:
            if before is not None:
                before()
            uris = self._draw(jobs)
        for i, uri in enumerate(uris):
            html = html.replace(self._token(i), uri)
        return html


def _bar(total: int, desc: str, progress: bool | None) -> Any:
    """A progress bar on a terminal only; each step is also a line of the log."""
    import sys

    from tqdm.auto import tqdm

    show = settings.progress if progress is None else progress
    tty = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    return tqdm(total=total, desc=desc, unit="section", disable=not (show and tty), leave=False)


def _write(out_dir: Path, stem: str, html: str, formats: Sequence[str]) -> dict[str, Path]:
    files: dict[str, Path] = {}
    if "html" in formats:
        files["rapport_html"] = write_text(out_dir / f"{stem}.html", html)
    if "pdf" in formats:
        files["rapport_pdf"] = write_bytes(
            out_dir / f"{stem}.pdf", html_to_pdf(html, base_url=out_dir)
        )
    return files


def build_commune_report(
    layerset: Any,
    result: Any,
    *,
    progress: bool | None = None,
    formats: Sequence[str] = ("html", "pdf"),
    figures: bool = True,
) -> dict[str, Path]:
    """Write ``diagnostic_<slug>.html`` and ``.pdf`` into the result's output folder.

    Parameters
    ----------
    layerset, result
        The pipeline's :class:`~qmi_geo.pipeline.LayerSet` and
        :class:`~qmi_geo.pipeline.DiagnoseResult` after the walk, indicator and matching
        stages (a missing stage gives a section saying so).
    progress
        Show a progress bar (default: the ``progress`` setting).
    formats
        ``"html"`` and/or ``"pdf"``.
    figures
        Draw the maps and charts (False: text only, for quick checks).

    Returns
    -------
    dict of str to pathlib.Path
        ``rapport_html`` and/or ``rapport_pdf``. When the Gi* test ran, its grid is added
        to ``result.extra_layers["points_chauds_gi"]`` (written into ``diagnostic.gpkg`` by
        ``qmi diagnose``).
    """
    spec = layerset.spec
    bar = _bar(_COMMUNE_STEPS + len(formats), f"Rapport {spec.name}", progress)

    def step(label: str) -> None:
        log.info("Rapport %s : %s", spec.name, label)
        bar.set_postfix_str(label)
        bar.update()

    try:
        batch = _Figures()
        ctx = commune_context(layerset, result, figure=batch if figures else None, step=step)
        test = ctx.pop("gi_test", None)
        if test is not None and test.tested:  # the tested grid goes into diagnostic.gpkg
            result.extra_layers["points_chauds_gi"] = test.grid
        html = batch.fill(
            render("livrable.html.j2", ctx), before=preload_pdf if "pdf" in formats else None
        )
        step("html")
        files = _write(Path(result.output_dir), f"diagnostic_{spec.slug}", html, formats)
        step("pdf")
    finally:
        bar.close()
    return files


def _quarter_summary(layerset: Any, result: Any) -> dict[str, Any]:
    from qmi_geo.walks.analysis import theme_counts
    from qmi_geo.walks.fub import FUB_WALK_ID

    spec = layerset.spec
    table = result.products.get("indicators")
    rows = {} if table is None else {str(r["code"]): r for _, r in table.iterrows()}
    ann = result.extra_layers.get("annotations")
    walk = ann[ann["marche"].astype(str) != FUB_WALK_ID] if ann is not None and len(ann) else None
    counts = theme_counts(walk) if walk is not None and len(walk) else None
    return {
        "name": spec.name,
        "slug": spec.slug,
        "insee": spec.insee,
        "cohort": spec.cohort,
        "rows": rows,
        "themes": {}
        if counts is None
        else dict(zip(counts["libelle"], counts["n_annotations"], strict=True)),
        "n_walk": 0 if walk is None else len(walk),
        "quarter_is_commune": spec.perimeter_source == "commune",
    }


def build_global_report(
    specs: Sequence[Any],
    *,
    output_dir: Path,
    progress: bool | None = None,
    formats: Sequence[str] = ("html", "pdf"),
    analyse_one: Callable[[Any], tuple[Any, Any]] | None = None,
) -> dict[str, Path]:
    """Write the global livrable comparing ``specs`` (``diagnostic_global.html``/``.pdf``).

    ``analyse_one(spec) -> (layerset, result)`` runs the stages for one quarter (default:
    walks, indicators and matching through :func:`qmi_geo.pipeline.analyse`).
    """
    from qmi_geo.matching import allocate

    if analyse_one is None:
        from qmi_geo.pipeline import analyse, indicators_stage, matching_stage, walks_stage

        def analyse_one(spec: Any) -> tuple[Any, Any]:
            res = analyse(
                spec,
                progress=False,
                stages=[walks_stage, indicators_stage, matching_stage],
            )
            return res.layerset, res

    bar = _bar(len(specs) + len(GLOBAL_SECTIONS) + len(formats), "Livrable global", progress)
    try:
        quarters = []
        for spec in specs:
            log.info("Livrable global : %s", spec.name)
            bar.set_postfix_str(spec.name)
            layerset, res = analyse_one(spec)
            quarters.append((layerset, res))
            bar.update()
        summaries = [_quarter_summary(ls, res) for ls, res in quarters]
        codes = [c for c in KEY_INDICATORS if any(c in s["rows"] for s in summaries)]
        figures_table = []
        for code in codes:
            label = next(str(s["rows"][code]["libelle"]) for s in summaries if code in s["rows"])
            cells = []
            for s in summaries:
                row = s["rows"].get(code)
                if row is None:
                    cells.append({"text": "non disponible", "nd": True, "raw": ""})
                    continue
                nd = row["statut"] == "non disponible"
                raw = "" if nd or pd.isna(row["valeur"]) else repr(float(row["valeur"]))
                cells.append(
                    {
                        "text": fr_value(None if nd else row["valeur"], str(row["unite"])),
                        "nd": nd,
                        "raw": raw,
                    }
                )
            figures_table.append({"code": code, "libelle": label, "cells": cells})
        bar.update()
        from qmi_geo.report._figures import small_multiples, to_data_uri

        multiples = to_data_uri(
            small_multiples([(ls.spec.name, ls.layers, ls.perimeter) for ls, _ in quarters])
        )
        bar.update()
        themes = sorted({t for s in summaries for t in s["themes"]})
        theme_rows = [
            {"theme": t, "cells": [int(s["themes"].get(t, 0)) for s in summaries]} for t in themes
        ]
        bar.update()
        metro = []
        for code in codes:
            for s in summaries:
                row = s["rows"].get(code)
                if row is not None:
                    ref = reference_for(row, quarter_is_commune=s["quarter_is_commune"])
                    metro.append(
                        {
                            "commune": s["name"],
                            "libelle": str(row["libelle"]),
                            "median": ref.median,
                            "rank": ref.rank,
                        }
                    )
        metro_missing = all(
            m["median"] == "non disponible" and m["rank"] == "non disponible" for m in metro
        )
        bar.update()
        scores = {}
        shareable: set[str] = set()
        names: dict[str, str] = {}
        for ls, res in quarters:
            matched = res.products.get("matching")
            if matched is None:
                continue
            scores[ls.spec.name] = matched.suitability.scores
            shareable |= {s.id for s in matched.solutions if s.exigences.site_partageable}
            names.update({s.id: s.nom for s in matched.solutions})
        allocation = None
        if scores:
            alloc = allocate(scores, shareable=shareable, solution_ids=names)
            allocation = {
                "params": alloc.params,
                "objective": fr_number(alloc.objective, 2),
                "by_commune": [
                    {
                        "commune": r.commune,
                        "n": int(r.nb_solutions),
                        "score": fr_number(float(r.score_moyen), 2) if r.nb_solutions else "—",
                        "manque": int(r.manque),
                    }
                    for r in alloc.by_commune.itertuples()
                ],
                "assignments": [
                    {
                        "commune": str(a["commune"]),
                        "solution": str(a.get("solution", a["solution_id"])),
                        "site": str(a.get("nom_site", a["site_id"])),
                        "score": fr_number(float(a["total"]), 2),
                        "raison": str(a.get("explication", "") or ""),
                    }
                    for _, a in alloc.assignments.iterrows()
                ],
                "unassigned": [
                    {"solution": str(u.get("solution", u["solution_id"])), "motif": str(u["motif"])}
                    for _, u in alloc.unassigned.iterrows()
                ],
            }
        bar.update()
        sources: dict[str, dict[str, Any]] = {}
        synthetic: set[str] = set()
        for ls, _ in quarters:
            for src in ls.sources:
                entry = sources.setdefault(
                    src.name,
                    {
                        "title": src.title or src.name,
                        "producer": src.producer,
                        "licence": src.licence,
                        "attribution": src.attribution,
                        "real": src.real,
                        "communes": [],
                    },
                )
                if ls.counts.get(src.name, 0) > 0:
                    entry["communes"].append(ls.spec.name)
            for f in getattr(ls.spec, "walk_files", []):
                if "synthetique" in Path(f).name:
                    synthetic.add(Path(f).name)
        bar.update()
        ctx = {
            "kind": "global",
            "title": "Diagnostic territorial — livrable global des quartiers d'innovation",
            "produced": dt.date.today().strftime("%d/%m/%Y"),
            "sections": GLOBAL_SECTIONS,
            "communes": summaries,
            "figures_table": figures_table,
            "multiples": multiples,
            "theme_rows": theme_rows,
            "metro": metro,
            "metro_missing": metro_missing,
            "metropole_note": NO_METROPOLE,
            "allocation": allocation,
            "sources": list(sources.values()),
            "synthetic": sorted(synthetic),
            "commune_sections": SECTIONS,
        }
        html = render("global.html.j2", ctx)
        bar.update()
        files = _write(Path(output_dir), "diagnostic_global", html, formats)
        bar.update()
    finally:
        bar.close()
    return files
