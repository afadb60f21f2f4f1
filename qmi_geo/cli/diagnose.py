"""``qmi diagnose``: the whole diagnostic of one commune."""

from __future__ import annotations

from pathlib import Path

import click

from qmi_geo.cli.options import (
    echo_warning,
    friendly_errors,
    output_option,
    resolve_output,
    spec_argument,
)

__all__ = ["diagnose"]


@click.command()
@spec_argument
@output_option
@click.option(
    "--no-map", "--sans-carte", "no_map", is_flag=True, help="Ne pas produire la carte web."
)
@click.option(
    "--no-report",
    "--sans-rapport",
    "no_report",
    is_flag=True,
    help="Ne pas produire le livrable (diagnostic_<commune>.pdf et .html).",
)
@click.option(
    "--basemap",
    "--fond",
    "fond",
    type=click.Choice(["ign", "osm"]),
    default=None,
    help="Ajouter un fond de carte en ligne (Plan IGN ou OpenStreetMap) ; hors ligne sinon.",
)
@friendly_errors
def diagnose(
    spec: str, output: Path | None, no_map: bool, no_report: bool, fond: str | None
) -> None:
    """Produit le diagnostic complet de la commune SPEC.

    Couches validées et normalisées, annotations des marches, indicateurs, appariement des
    solutions, carte sensible augmentée et livrable (PDF et HTML), écrits dans
    maps/<commune>/.

    SPEC est un fichier diagnostics/<commune>.toml, un code INSEE ou un nom de commune.
    """
    from qmi_geo.pipeline import default_stages
    from qmi_geo.pipeline import diagnose as run
    from qmi_geo.spec import load_spec

    spec_obj = load_spec(spec)
    click.secho(f"Diagnostic de {spec_obj.name} ({spec_obj.insee})", bold=True)
    result = run(
        spec_obj,
        output_dir=resolve_output(spec_obj, output),
        stages=default_stages(with_map=not no_map, basemap=fond, with_report=not no_report),
    )
    layerset = result.layerset
    counts = ", ".join(f"{k} {len(v)}" for k, v in layerset.layers.items())
    click.echo(f"Couches : {counts}")
    for kind, reason in getattr(layerset, "layer_errors", {}).items():
        echo_warning(
            f"couche « {kind} » inutilisable, ses indicateurs sont « non disponible » : {reason}"
        )
    for note in result.notes:
        click.echo(note)
    errors = [i for i in layerset.report.issues if i.level == "erreur"]
    if errors:
        click.secho(f"{len(errors)} source(s) en erreur : voir rapport_validation.txt", fg="red")
    click.secho(f"\nRésultats dans {result.output_dir}", fg="green", bold=True)
    for label, path in result.files.items():
        click.echo(f"  {label:<20} {path}")
