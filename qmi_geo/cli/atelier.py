"""``qmi atelier``: bring the « carte sur table » workshop's défis back into the diagnostic."""

from __future__ import annotations

from pathlib import Path

import click

from qmi_geo.cli.options import friendly_errors, output_option, resolve_output, spec_option

__all__ = ["atelier"]


@click.group()
def atelier() -> None:
    """Défis de l'atelier « carte sur table »."""


@atelier.command(name="import")
@click.argument("fichier", type=click.Path(path_type=Path, dir_okay=False))
@spec_option
@output_option
@friendly_errors
def import_cmd(fichier: Path, spec: str, output: Path | None) -> None:
    """Importe FICHIER (export « Exporter les défis » de la carte) dans le diagnostic.

    Les défis sont validés, enregistrés dans <sortie>/defis.gpkg (couche « defis »,
    sans doublon : un défi déjà importé est mis à jour) ; les défis rejetés sont listés dans
    defis_rejets.csv avec la raison. La prochaine carte et l'appariement les utilisent,
    à condition de donner le même dossier : « qmi diagnose SPEC -o DOSSIER » lit les
    défis importés par « qmi atelier import FICHIER --spec SPEC -o DOSSIER ».
    Sans --output, le dossier est maps/<commune>/ (ou [output] dir de la spec).
    Les sites proposés (mode « site proposé » de la carte) vont dans
    <sortie>/sites_atelier.gpkg et sont classés par l'appariement suivant.
    """
    from qmi_geo._validate import ValidationReport
    from qmi_geo.maps import read_defis_export, read_sites_export, save_defis, save_sites
    from qmi_geo.spec import load_spec

    spec_obj = load_spec(spec)
    from qmi_geo._atomic import write_csv

    report = ValidationReport()
    defis = read_defis_export(fichier, report)
    out = resolve_output(spec_obj, output)
    stored = save_defis(defis, out / "defis.gpkg") if len(defis) else defis
    sites = read_sites_export(fichier, report)
    if len(sites):
        kept = save_sites(sites, out / "sites_atelier.gpkg")
        click.secho(
            f"{len(sites)} site(s) proposé(s) importé(s) ; {len(kept)} site(s) d'atelier au "
            f"total dans {out / 'sites_atelier.gpkg'} (classés par la prochaine "
            "« qmi diagnose » ou « qmi match »).",
            fg="green",
        )
    for issue in report.issues:
        click.secho(str(issue), fg="yellow" if issue.level != "erreur" else "red", err=True)
    rejects = report.rejects_frame()
    if len(rejects):
        path = out / "defis_rejets.csv"
        write_csv(rejects, path)
        click.secho(f"{len(rejects)} défi(s) rejeté(s) : voir {path}", fg="red")
    click.secho(
        f"{len(defis)} défi(s) importé(s) ; {len(stored)} défi(s) au total dans "
        f"{out / 'defis.gpkg'}",
        fg="green",
    )
