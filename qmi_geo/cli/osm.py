"""``qmi osm``: download or import the OpenStreetMap layers of a diagnostic."""

from __future__ import annotations

from pathlib import Path

import click

from qmi_geo.cli.options import friendly_errors, spec_argument

__all__ = ["osm"]


@click.group()
def osm() -> None:
    """Télécharge ou importe les couches OpenStreetMap d'un diagnostic."""


@osm.command("fetch")
@spec_argument
@click.option(
    "--from-xml",
    "xml_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="FICHIER.osm",
    help="Lire un extrait OSM XML local au lieu de télécharger (aucun accès réseau).",
)
@click.option(
    "--buffer",
    "--tampon",
    "buffer_m",
    type=click.FloatRange(min=0),
    default=None,
    metavar="METRES",
    help="Tampon autour du quartier en mètres (par défaut celui de la spec).",
)
@click.option(
    "--output",
    "-o",
    "--sortie",
    "out_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="CHEMIN.gpkg",
    help="GeoPackage à écrire (par défaut layers/osm/<commune>_osm.gpkg, lu par « qmi diagnose »).",
)
@click.option(
    "--no-streets",
    "--sans-rues",
    "no_streets",
    is_flag=True,
    help="Ne pas construire le réseau piéton (couche rues).",
)
@friendly_errors
def fetch(
    spec: str,
    xml_path: Path | None,
    buffer_m: float | None,
    out_path: Path | None,
    no_streets: bool,
) -> None:
    """Récupère les couches OpenStreetMap du quartier SPEC et de son tampon.

    SPEC est un fichier diagnostics/<commune>.toml, un code INSEE ou un nom de commune.
    Sans --from-xml, les données sont téléchargées depuis l'API Overpass (réseau requis) ;
    les réponses sont mises en cache dans le dossier de cache de l'utilisateur.

    Exemples :

      qmi osm fetch meudon

      qmi osm fetch 92048 --from-xml meudon.osm --tampon 300
    """
    from qmi_geo.layers.osm import LABELS, default_osm_path, fetch_osm, osm_from_xml
    from qmi_geo.pipeline import perimeter_for
    from qmi_geo.spec import load_spec

    spec_obj = load_spec(spec)
    buffer = spec_obj.buffer_m if buffer_m is None else buffer_m
    perimeter = perimeter_for(spec_obj)
    area = perimeter.geometry.iloc[0].buffer(buffer)
    target = out_path if out_path is not None else default_osm_path(spec_obj.slug)
    click.secho(f"OpenStreetMap — {spec_obj.name} ({spec_obj.insee})", bold=True)
    km2 = f"{area.area / 1e6:.2f}".replace(".", ",")
    click.echo(f"Zone : quartier + tampon de {buffer:.0f} m ({km2} km²)")
    if xml_path is not None:
        click.echo(f"Lecture de l'extrait {xml_path}…")
        result = osm_from_xml(xml_path, polygon_2154=area, out_path=target, network=not no_streets)
    else:
        click.echo("Téléchargement depuis l'API Overpass (peut prendre quelques minutes)…")
        result = fetch_osm(area, out_path=target, network=not no_streets)
    click.echo("")
    width = max(len(label) for label in LABELS.values())
    for kind, gdf in result.layers.items():
        detail = ""
        if "type" in gdf.columns and len(gdf):
            counts = gdf["type"].value_counts()
            detail = "  (" + ", ".join(f"{t} {n}" for t, n in counts.items()) + ")"
        colour = "green" if len(gdf) else "yellow"
        click.echo(
            f"  {LABELS[kind]:<{width}} "
            + click.style(f"{len(gdf):>6} entité(s)", fg=colour)
            + detail
        )
    click.echo("")
    click.echo(f"Écrit : {result.path}")
    if result.metadata.synthetique:
        click.secho("Attention : extrait synthétique (données de test).", fg="yellow")
    click.echo(
        f"Source : {result.metadata.attribution}, licence {result.metadata.licence} — "
        "à citer sur toute carte qui utilise ces couches."
    )
