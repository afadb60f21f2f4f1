"""``qmi map``: the carte sensible augmentée (web), the print map, a solution's site map."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from qmi_geo.cli.options import friendly_errors, output_option, spec_argument

__all__ = ["map_cmd"]


def _map_inputs(spec: Any, out: Path) -> dict[str, Any]:
    """Gather what the map draws: layers, walk annotations and their synthesis, défis, matches.

    To move into :mod:`qmi_geo.pipeline` once the stages are wired (the CLI holds no logic).
    """
    import geopandas as gpd

    from qmi_geo.maps.defis import DEFIS_LAYER
    from qmi_geo.pipeline import load_layers

    layerset = load_layers(spec)
    inputs: dict[str, Any] = {
        "layers": layerset.layers,
        "perimeter": layerset.perimeter,
        "sources": [s for s in layerset.sources if layerset.counts.get(s.name, 0) > 0],
        "title": f"{spec.name} — quartier d'innovation",
        "slug": spec.slug,
    }
    if spec.walk_files:
        from qmi_geo.walks import import_walks
        from qmi_geo.walks.analysis import density_surface, hotspots

        ann = import_walks(spec.walk_files, perimeter=layerset.perimeter).annotations
        if len(ann):
            inputs["annotations"] = ann
            inputs["hotspots"] = hotspots(
                ann, radius_m=spec.hotspot_radius_m, min_size=spec.hotspot_min_size
            )
            inputs["density_tif"] = density_surface(
                ann,
                out / "densite_annotations.tif",
                cell_m=spec.density_cell_m,
                bandwidth_m=spec.density_bandwidth_m,
            )
    store = out / "defis.gpkg"
    if store.exists():
        inputs["defis"] = gpd.read_file(store, layer=DEFIS_LAYER)
    return inputs


@click.command(name="map")
@spec_argument
@click.option(
    "--print",
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
    "--fond",
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
    from qmi_geo.maps import build_print_map, build_solution_map, build_web_map
    from qmi_geo.spec import load_spec

    spec_obj = load_spec(spec)
    out = Path(output or spec_obj.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    click.secho(f"Carte de {spec_obj.name} ({spec_obj.insee})", bold=True)
    inputs = _map_inputs(spec_obj, out)
    if solution_id:
        from qmi_geo.errors import SolutionError
        from qmi_geo.matching import load_solutions, match_quarter, matches_for_map

        solutions = load_solutions(spec_obj.solution_catalogue, only=[solution_id])
        if not solutions:
            raise SolutionError(
                f"Solution inconnue : {solution_id!r}. Vérifiez l'identifiant "
                "dans le catalogue des solutions."
            )
        result = match_quarter(
            inputs["layers"],
            solutions,
            annotations=inputs.get("annotations"),
            hotspots=inputs.get("hotspots"),
            defis=inputs.get("defis"),
            weights=spec_obj.weights,
        )
        ranked = matches_for_map(result.suitability.scores, result.sites, top_n=None)
        path = build_solution_map(
            solutions[0],
            ranked,
            perimeter=inputs["perimeter"],
            layers=inputs["layers"],
            sources=inputs["sources"],
            out_path=out / f"carte_solution_{solution_id}.html",
            basemap=fond,
        )
        click.echo(f"  sites classés : {len(ranked)}")
        click.secho(f"Carte de la solution : {path}", fg="green")
        return
    web = build_web_map(**inputs, out_path=out / "carte_sensible.html", basemap=fond)
    size = web.stat().st_size / 1e6
    click.secho(f"Carte web : {web} ({size:.1f} Mo)", fg="green")
    if print_map:
        kwargs = {k: v for k, v in inputs.items() if k != "slug"}
        pdf, png = build_print_map(**kwargs, out_stem=out / "carte_impression")
        click.secho(f"Carte à imprimer : {pdf} et {png}", fg="green")
