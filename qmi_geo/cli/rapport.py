"""``qmi rapport``: the diagnostic livrable of a commune, or the global livrable."""

from __future__ import annotations

from pathlib import Path

import click

from qmi_geo.cli.options import friendly_errors, output_option

__all__ = ["rapport"]


@click.command()
@click.argument("specs", nargs=-1, required=True, metavar="SPEC...")
@click.option(
    "--global",
    "global_",
    is_flag=True,
    help="Livrable global comparant les quartiers donnés (maps/global/).",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(["pdf", "html"]),
    multiple=True,
    help="Format(s) à produire (par défaut : PDF et HTML).",
)
@output_option
@friendly_errors
def rapport(
    specs: tuple[str, ...], global_: bool, formats: tuple[str, ...], output: Path | None
) -> None:
    """Produit le livrable du diagnostic : PDF A4 et HTML hors ligne.

    Avec une commune : maps/<commune>/diagnostic_<commune>.pdf et .html (chiffres clés,
    cartes, marche sensible, atelier, enjeux, solutions, sources). Avec --global et
    plusieurs communes : maps/global/diagnostic_global.pdf et .html.

    Exemples : qmi rapport diagnostics/sceaux.toml ;
    qmi rapport --global diagnostics/*.toml
    """
    from qmi_geo.spec import load_spec

    chosen = formats or ("html", "pdf")
    loaded = [load_spec(s) for s in specs]
    if global_:
        from qmi_geo.report import build_global_report

        base = output or Path(loaded[0].output_dir).parent / "global"
        click.secho(f"Livrable global : {', '.join(s.name for s in loaded)}", bold=True)
        files = build_global_report(loaded, output_dir=Path(base), formats=chosen)
    else:
        if len(loaded) > 1:
            raise click.UsageError(
                "une seule commune sans --global ; pour plusieurs livrables individuels, "
                "lancez la commande une fois par commune."
            )
        from qmi_geo.pipeline import (
            analyse,
            indicators_stage,
            matching_stage,
            walks_stage,
        )
        from qmi_geo.report import build_commune_report

        spec = loaded[0]
        click.secho(f"Livrable de {spec.name} ({spec.insee})", bold=True)
        result = analyse(
            spec, output_dir=output, stages=[walks_stage, indicators_stage, matching_stage]
        )
        files = build_commune_report(result.layerset, result, formats=chosen)
    for label, path in files.items():
        click.echo(f"  {label:<14} {path}")
