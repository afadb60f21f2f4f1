"""``qmi metropole``: the diagnostic of every commune of the Métropole, on dask.distributed."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from qmi_geo.cli.options import friendly_errors

__all__ = ["metropole"]


@click.command()
@click.argument("communes", nargs=-1)
@click.option(
    "--output",
    "-o",
    "--sortie",
    "output",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("maps/metropole"),
    show_default=True,
    help="Dossier de sortie : un sous-dossier par commune et les tableaux de la Métropole.",
)
@click.option(
    "--scheduler",
    "--ordonnanceur",
    "scheduler",
    default=None,
    help="Adresse d'un ordonnanceur dask existant (ex. tcp://hote:8786) ; sinon des processus "
    "locaux.",
)
@click.option(
    "--workers",
    "--processus",
    "workers",
    type=click.IntRange(min=1),
    default=None,
    help="Nombre de processus locaux (par défaut 2 ; ignoré avec --scheduler).",
)
@click.option("--map", "--carte", "with_map", is_flag=True, help="Produire aussi la carte web.")
@friendly_errors
def metropole(
    communes: tuple[str, ...],
    output: Path,
    scheduler: str | None,
    workers: int | None,
    with_map: bool,
) -> None:
    """Diagnostique les communes de la Métropole du Grand Paris, une tâche dask par commune.

    COMMUNES : noms ou codes INSEE (par défaut les 130 communes de la Métropole). Écrit
    un dossier par commune, metropole_indicateurs.csv (Excel), metropole.gpkg (QGIS),
    comparaison_metropole.html et des cartes de la Métropole (cartes/*.png). Une commune
    en échec est signalée dans echecs.csv sans arrêter les autres.
    """
    from qmi_geo.layers.communes import metropole_communes
    from qmi_geo.metropole import run_metropole
    from qmi_geo.spec import resolve_commune

    codes = [resolve_commune(c) for c in communes] or metropole_communes()
    logging.getLogger("qmi_geo.metropole").setLevel(logging.INFO)
    logging.getLogger("distributed").setLevel(logging.WARNING)
    where = scheduler or f"{workers or 2} processus locaux"
    click.secho(f"Diagnostic de {len(codes)} commune(s) sur {where}", bold=True)
    result = run_metropole(codes, output, scheduler=scheduler, n_workers=workers, with_map=with_map)
    done = len(result.results) - len(result.failures)
    click.echo(f"{done} commune(s) diagnostiquée(s) en {result.seconds:.0f} s.")
    if result.failures:
        click.secho(f"{len(result.failures)} commune(s) en échec (voir echecs.csv) :", fg="red")
        for res in result.failures:
            click.secho(f"  {res['nom']} ({res['insee']}) : {res['erreur']}", fg="red")
    click.secho(f"\nRésultats dans {result.output_dir}", fg="green", bold=True)
    for label, path in result.files.items():
        if not label.startswith("carte_"):
            click.echo(f"  {label:<14} {path}")
    if result.failures and not done:
        raise SystemExit(1)
