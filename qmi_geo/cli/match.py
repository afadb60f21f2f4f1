"""``qmi match``: rank the sites of a quarter for every candidate solution, allocate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from qmi_geo.cli.options import friendly_errors, output_option

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
@click.option(
    "--min-per-commune",
    "--min-par-commune",
    "min_per",
    default=6,
    show_default=True,
    type=int,
    help="Nombre minimal de solutions par commune dans la répartition.",
)
@click.option(
    "--max-per-commune",
    "--max-par-commune",
    "max_per",
    default=8,
    show_default=True,
    type=int,
    help="Nombre maximal de solutions par commune dans la répartition.",
)
@click.option(
    "--min-score",
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
    from qmi_geo.matching import allocate, write_allocation
    from qmi_geo.spec import load_spec

    scores_by_commune: dict[str, Any] = {}
    commune_rows: list[Any] = []
    shareable: set[str] = set()
    services_ids: set[str] = set()
    all_ids: dict[str, str] = {}
    last_dir: Path | None = None
    catalogue_solutions: list[Any] = []
    for raw in specs:
        spec = load_spec(raw)
        out = (output / spec.slug if len(specs) > 1 else output) if output else spec.output_dir
        scores, solutions, services = _match_one(spec, catalogue, Path(out), top_n)
        scores_by_commune[spec.name] = scores
        best = scores[scores["rang"] == 1].drop_duplicates("solution_id").assign(commune=spec.name)
        commune_rows += [best, services]
        shareable |= {s.id for s in solutions if s.exigences.site_partageable}
        services_ids |= {s.id for s in solutions if s.exigences.sans_site}
        all_ids.update({s.id: s.nom for s in solutions})
        catalogue_solutions = solutions
        last_dir = Path(out)
    if len(specs) > 1:
        import pandas as pd

        from qmi_geo.matching.communes import rank_communes
        from qmi_geo.matching.report import write_csv

        frames = [f for f in commune_rows if f is not None and len(f)]
        if frames:
            ranking = rank_communes(
                pd.concat(frames, ignore_index=True), solutions=catalogue_solutions
            )
            cols = [
                c
                for c in (
                    "solution_id",
                    "solution",
                    "commune",
                    "rang",
                    "ex_aequo",
                    "total",
                    "ecart",
                    "stabilite_n1",
                    "tau_kendall",
                    "classement",
                    "indiscernable_de",
                    "indiscernable_pourquoi",
                    "statut",
                    "nom_site",
                    "explication",
                    "sources",
                )
                if c in ranking.columns
            ]
            base = output if output else (last_dir.parent if last_dir else Path("maps"))
            path = write_csv(ranking[cols], Path(base) / "classement_communes.csv")
            click.echo(f"Classement des communes par solution : {path}")
    if do_allocate:
        result = allocate(
            scores_by_commune,
            min_per_commune=min_per,
            max_per_commune=max_per,
            min_score=min_score,
            shareable=shareable,
            solution_ids=all_ids,
            services=services_ids,
        )
        base = output if output else (last_dir.parent if last_dir else Path("maps"))
        files = write_allocation(result, Path(base) / "repartition")
        click.echo(result.report())
        click.echo(f"Répartition écrite dans {files[0].parent}")


def _match_one(
    spec: Any, catalogue: Path | None, out: Path, top_n: int
) -> tuple[Any, list[Any], Any]:
    """Match one quarter through the pipeline, print a summary, return its scores."""
    from functools import partial

    from qmi_geo.errors import SolutionError
    from qmi_geo.pipeline import analyse, matching_stage, solution_map_stage, walks_stage

    result = analyse(
        spec,
        output_dir=out,
        stages=[
            walks_stage,
            partial(matching_stage, catalogue=catalogue),
            solution_map_stage(top_n=top_n),
        ],
    )
    matched = result.products.get("matching")
    if matched is None:
        raise SolutionError(
            f"{spec.name} : aucun catalogue de solutions ou appariement désactivé dans la spec "
            "([solutions] enabled = false) ; indiquez --catalogue ou activez-le."
        )
    suit = matched.suitability
    n_excluded = int(suit.exclusion_summary()["nombre_sites"].sum())
    click.echo(
        f"{spec.name} : {len(matched.sites)} sites candidats, {len(matched.solutions)} "
        f"solutions, {len(suit.scores)} couples possibles, {n_excluded} écartés."
    )
    for sol in matched.solutions:
        sub = suit.scores[suit.scores["solution_id"] == sol.id]
        if sol.exigences.sans_site:
            click.echo(f"  • {sol.nom} : service sans site, classé par commune")
        elif len(sub) and sub["total"].notna().iloc[0]:
            best = sub.iloc[0]
            score = f"{best['total']:.2f}".replace(".", ",")
            click.echo(f"  • {sol.nom} : {best['explication']} (score {score})")
        elif len(sub):
            click.echo(f"  • {sol.nom} : besoin non mesuré dans le quartier, sites non classés")
        else:
            click.echo(f"  • {sol.nom} : aucun site compatible dans le quartier")
    click.echo(f"Cartes des porteurs de projet : {out / 'solutions'}")
    click.echo(f"Fichiers écrits : {result.files['appariements']}")
    return suit.scores, matched.solutions, result.products.get("services")
