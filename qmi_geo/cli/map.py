"""``qmi map``: the carte sensible augmentée (web), the print map, a solution's site map."""

from __future__ import annotations

from pathlib import Path

import click

from qmi_geo.cli.options import friendly_errors, output_option, resolve_output, spec_argument

__all__ = ["map_cmd"]


@click.command(name="map")
@spec_argument
@click.option(
    "--print",
    "--impression",
    "print_map",
    is_flag=True,
    help="Produire aussi la carte A3 paysage à imprimer (PDF et PNG, 300 dpi).",
)
@click.option(
    "--solution",
    "solution_id",
    default=None,
    metavar="ID",
    help="Produire la carte des sites candidats d'une solution (porteur de projet).",
)
@click.option(
    "--basemap",
    "--fond",
    "fond",
    type=click.Choice(["ign", "osm"]),
    default=None,
    help="Ajouter un fond de carte en ligne (Plan IGN ou OpenStreetMap).",
)
@output_option
@friendly_errors
def map_cmd(
    spec: str, print_map: bool, solution_id: str | None, fond: str | None, output: Path | None
) -> None:
    """Produit la carte sensible augmentée de la commune SPEC.

    Écrit maps/<commune>/carte_sensible.html : un fichier autonome qui s'ouvre par
    double-clic, sans réseau, avec l'outil de dessin de l'atelier « carte sur table ».

    SPEC est un fichier diagnostics/<commune>.toml, un code INSEE ou un nom de commune.
    """
    from qmi_geo.pipeline import (
        default_stages,
        diagnose,
        print_map_stage,
        solution_map_stage,
    )
    from qmi_geo.spec import load_spec

    spec_obj = load_spec(spec)
    click.secho(f"Carte de {spec_obj.name} ({spec_obj.insee})", bold=True)
    stages = default_stages(with_map=not solution_id, basemap=fond, with_report=False)
    if solution_id:
        stages.append(solution_map_stage(solution_id, basemap=fond))
    if print_map:
        stages.append(print_map_stage)
    result = diagnose(spec_obj, output_dir=resolve_output(spec_obj, output), stages=stages)
    for note in result.notes:
        click.echo(note)
    for label, path in result.files.items():
        if label.startswith(("carte", "solution_")):
            click.secho(f"  {label:<22} {path}", fg="green")
