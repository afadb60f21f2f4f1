"""``qmi compare``: the comparison table of several quarters (CSV, HTML, charts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from qmi_geo.cli.options import friendly_errors
from qmi_geo.errors import SpecError

__all__ = ["compare"]


@click.command()
@click.argument("specs", nargs=-1, metavar="SPEC...")
@click.option(
    "--all",
    "all_specs",
    is_flag=True,
    help="Compare tous les quartiers du dossier diagnostics/ (ceux fournis avec le "
    "programme hors d'un espace de travail).",
)
@click.option(
    "--output",
    "-o",
    "--sortie",
    "output",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Dossier de sortie (par défaut : maps/comparaison/).",
)
@click.option(
    "--pairs",
    "--paires",
    "n_pairs",
    type=click.IntRange(0, 10_000),
    default=50,
    show_default=True,
    help="Paires de points tirées par quartier pour le détour piéton.",
)
@friendly_errors
def compare(specs: tuple[str, ...], all_specs: bool, output: Path | None, n_pairs: int) -> None:
    """Compare les indicateurs de plusieurs quartiers d'innovation.

    SPEC est un fichier diagnostics/<commune>.toml, un code INSEE ou un nom de commune.
    Écrit comparaison.csv, comparaison_notes.csv (raisons des valeurs manquantes),
    comparaison.html et les graphiques PNG dans maps/comparaison/.

    Exemple : qmi compare diagnostics/*.toml
    """
    from functools import partial

    from tqdm.auto import tqdm

    from qmi_geo.diagnostics import write_comparison
    from qmi_geo.pipeline import Stage, analyse, indicators_stage, walks_stage
    from qmi_geo.settings import settings
    from qmi_geo.spec import find_specs, load_spec

    chosen: list[Any] = list(specs)
    if all_specs:
        chosen += [p for p in find_specs() if str(p) not in chosen]
    if not chosen:
        raise SpecError(
            "Aucun quartier à comparer : donnez des fichiers diagnostics/<commune>.toml, "
            "des codes INSEE ou des noms de communes, ou l'option --all."
        )
    import os

    from qmi_geo.maps.thumbnails import quarter_thumbnails

    loaded = [load_spec(s) for s in chosen]
    out = output or settings.resolved_workspace() / "maps" / "comparaison"
    tables = {}
    quarters = {}
    links: dict[str, dict[str, str | None]] = {}
    stages: list[Stage] = [walks_stage, partial(indicators_stage, n_pairs=n_pairs)]
    bar = tqdm(
        loaded, desc="Quartiers", unit="quartier", disable=None if settings.progress else True
    )
    for spec in bar:
        bar.set_postfix_str(spec.name)
        if bar.disable:
            click.echo(f"Quartier {spec.name} ({spec.insee})…", err=True)
        # each quarter's own folder, as `qmi diagnose` uses (or <sortie>/<commune>/)
        folder = output / spec.slug if output else None
        result = analyse(spec, output_dir=folder, stages=stages, progress=False)
        name = spec.name if spec.name not in tables else f"{spec.name} ({spec.insee})"
        tables[name] = result.products["indicators"]
        quarters[name] = (result.layerset.perimeter, result.layerset.layers)
        links[name] = {}
        for key, fname in (
            ("carte", "carte_sensible.html"),
            ("rapport", f"diagnostic_{spec.slug}.html"),
        ):
            target = result.output_dir / fname
            links[name][key] = (
                Path(os.path.relpath(target, out)).as_posix() if target.exists() else None
            )
    thumbs, scale_note = quarter_thumbnails(quarters)
    files = write_comparison(tables, out, thumbnails=thumbs, links=links, scale_note=scale_note)
    n_missing = sum(int(t["valeur"].isna().sum()) for t in tables.values())
    click.secho(f"Comparaison de {len(tables)} quartier(s) écrite dans {out}", bold=True)
    for key in ("csv", "notes", "html"):
        click.echo(f"  {files[key].name}")
    n_charts = sum(1 for k in files if k.startswith("graphique_"))
    click.echo(f"  graphiques/ ({n_charts} graphiques PNG)")
    if n_missing:
        click.echo(
            f"{n_missing} valeur(s) non disponible(s) : raisons dans "
            f"{files['notes'].name} et dans la page HTML."
        )
