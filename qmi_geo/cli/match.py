"""``qmi match``: rank the sites of a quarter for every candidate solution, allocate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from qmi_geo.cli.options import echo_warning, friendly_errors, output_option

__all__ = ["match"]


@click.command("match")
@click.argument("specs", nargs=-1, required=True, metavar="SPEC...")
@click.option(
    "--allocate",
    "do_allocate",
    is_flag=True,
    help="Répartit aussi les solutions entre les communes données (6 à 8 par commune).",
)
@click.option(
    "--catalogue",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Catalogue de solutions (TOML) ; par défaut celui de la spécification.",
)
@click.option("--min-par-commune", "min_per", default=6, show_default=True, type=int)
@click.option("--max-par-commune", "max_per", default=8, show_default=True, type=int)
@click.option(
    "--score-min",
    "min_score",
    default=0.3,
    show_default=True,
    type=float,
    help="Score minimal d'un site pour être proposé dans la répartition.",
)
@click.option(
    "--top",
    "top_n",
    default=10,
    show_default=True,
    type=int,
    help="Nombre de sites classés par solution sur les cartes des porteurs de projet.",
)
@output_option
@friendly_errors
def match(
    specs: tuple[str, ...],
    do_allocate: bool,
    catalogue: Path | None,
    min_per: int,
    max_per: int,
    min_score: float,
    top_n: int,
    output: Path | None,
) -> None:
    """Classe, pour chaque solution candidate, les sites du quartier où elle peut s'installer.

    Écrit maps/<commune>/appariements.csv (scores et raisons), appariements_exclus.csv (sites
    écartés et pourquoi) et, si le module de cartes est présent, une carte hors ligne par
    solution dans maps/<commune>/solutions/. Avec --allocate, propose la répartition des
    solutions entre les communes (maps/repartition/).

    Exemples : qmi match diagnostics/meudon.toml ;
    qmi match --allocate diagnostics/*.toml
    """
    from qmi_geo.matching import allocate, load_solutions, write_allocation
    from qmi_geo.spec import load_spec

    scores_by_commune: dict[str, Any] = {}
    shareable: set[str] = set()
    all_ids: list[str] = []
    last_dir: Path | None = None
    for raw in specs:
        spec = load_spec(raw)
        out = (output / spec.slug if len(specs) > 1 else output) if output else spec.output_dir
        solutions = load_solutions(
            catalogue or spec.solution_catalogue, only=spec.solutions or None
        )
        scores = _match_one(spec, solutions, Path(out), top_n)
        scores_by_commune[spec.name] = scores
        shareable |= {s.id for s in solutions if s.exigences.site_partageable}
        all_ids += [s.id for s in solutions if s.id not in all_ids]
        last_dir = Path(out)
    if do_allocate:
        result = allocate(
            scores_by_commune,
            min_per_commune=min_per,
            max_per_commune=max_per,
            min_score=min_score,
            shareable=shareable,
            solution_ids=all_ids,
        )
        base = output if output else (last_dir.parent if last_dir else Path("maps"))
        files = write_allocation(result, Path(base) / "repartition")
        click.echo(result.report())
        click.echo(f"Répartition écrite dans {files[0].parent}")


def _match_one(spec: Any, solutions: list[Any], out: Path, top_n: int) -> Any:
    """Match one quarter, write its files, return its scores."""
    from qmi_geo.matching import match_quarter, matches_for_map, write_matches
    from qmi_geo.pipeline import load_layers

    layerset = load_layers(spec)
    annotations = hotspots = None
    if getattr(spec, "walk_files", None):
        from qmi_geo.walks import import_walks
        from qmi_geo.walks.analysis import hotspots as find_hotspots

        walks = import_walks(spec.walk_files, perimeter=layerset.perimeter)
        annotations = walks.annotations
        if len(annotations):
            hotspots = find_hotspots(
                annotations, radius_m=spec.hotspot_radius_m, min_size=spec.hotspot_min_size
            )
    result = match_quarter(
        layerset.layers, solutions, annotations=annotations, hotspots=hotspots, weights=spec.weights
    )
    suit = result.suitability
    files = write_matches(suit.scores, out, excluded=suit.excluded, sites=result.sites)
    click.echo(
        f"{spec.name} : {len(result.sites)} sites candidats, {len(solutions)} solutions, "
        f"{len(suit.scores)} couples possibles, {len(suit.excluded)} écartés."
    )
    for sol in solutions:
        sub = suit.scores[suit.scores["solution_id"] == sol.id]
        if len(sub):
            best = sub.iloc[0]
            click.echo(f"  • {sol.nom} : {best['explication']} (score {best['total']:.2f})")
        else:
            click.echo(f"  • {sol.nom} : aucun site compatible dans le quartier")
    try:
        from qmi_geo.maps import build_solution_map
    except ImportError:
        echo_warning(
            "cartes par solution non produites : qmi_geo.maps.build_solution_map "
            "n'est pas encore disponible."
        )
    else:
        pairs = matches_for_map(suit.scores, result.sites, top_n=top_n)
        for sol in solutions:
            build_solution_map(
                sol,
                pairs[pairs["solution"] == sol.id],
                perimeter=layerset.perimeter,
                layers=layerset.layers,
                out_path=out / "solutions" / f"{sol.id}.html",
                sources=layerset.sources,
            )
        click.echo(f"Cartes des porteurs de projet : {out / 'solutions'}")
    click.echo(f"Fichiers écrits : {', '.join(str(f) for f in files)}")
    return suit.scores
