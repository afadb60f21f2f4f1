"""``qmi walks``: import the marche sensible files of a commune and summarise them."""

from __future__ import annotations

import json
from pathlib import Path

import click

from qmi_geo.cli.options import friendly_errors, output_option, spec_option

__all__ = ["walks"]


@click.group()
def walks() -> None:
    """Importe et résume les annotations des marches sensibles."""


@walks.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@spec_option
@click.option("--json", "as_json", is_flag=True, help="Affiche le bilan en JSON (scripts).")
@click.option(
    "--walk",
    "--marche",
    "walk_id",
    default=None,
    help="Identifiant de la marche (sinon : colonne « marche » du fichier, ou nom du fichier).",
)
@output_option
@friendly_errors
def import_cmd(
    files: tuple[Path, ...], spec: str, as_json: bool, walk_id: str | None, output: Path | None
) -> None:
    """Importe les fichiers FILES (CSV, XLSX, GeoJSON uMap, KML/KMZ, GPX, GeoPackage...).

    Chaque ligne finit soit dans les annotations de la commune (annotations.gpkg), soit dans
    rejets.csv avec sa raison. Réimporter un fichier ne crée pas de doublon.
    """
    from qmi_geo.pipeline import perimeter_for
    from qmi_geo.spec import load_spec
    from qmi_geo.walks import import_walks, load_annotations, save_annotations, write_rejects
    from qmi_geo.walks._store import store_lock

    spec_obj = load_spec(spec)
    out = Path(output or spec_obj.output_dir)
    store = out / "annotations.gpkg"
    perimeter = perimeter_for(spec_obj)
    # one import at a time into a commune's store: another one waits for the lock
    with store_lock(store):
        result = import_walks(
            list(files),
            perimeter=perimeter,
            existing=load_annotations(store),
            walk_id=walk_id,
            progress=not as_json,
        )
        save_annotations(result, store)
        rejects = write_rejects(
            result.rejects,
            out / "rejets.csv",
            imported_files=[s.fichier for s in result.summary],
        )
    if as_json:
        data = result.to_json_dict()
        data["annotations"] = str(store)
        data["rejets"] = str(rejects)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.secho(f"Import des marches — {spec_obj.name}", bold=True)
        click.echo(result.describe())
        click.echo(f"Annotations : {store} ({len(load_annotations(store))} au total)")
        click.echo(f"Rejets : {rejects}")
    if any(s.erreur for s in result.summary):
        raise SystemExit(1)


@walks.command("summary")
@spec_option
@click.option(
    "--radius",
    "--rayon",
    "radius_m",
    type=float,
    default=None,
    help="Rayon des points chauds en mètres (par défaut : celui de la spec).",
)
@click.option(
    "--min-size",
    "--taille-min",
    "min_size",
    type=int,
    default=None,
    help="Nombre minimal d'annotations d'un point chaud (par défaut : spec).",
)
@click.option("--json", "as_json", is_flag=True, help="Affiche le résumé en JSON.")
@output_option
@friendly_errors
def summary_cmd(
    spec: str, radius_m: float | None, min_size: int | None, as_json: bool, output: Path | None
) -> None:
    """Résume les annotations : nombre par thème, ressentis, intensité, points chauds."""
    from qmi_geo.spec import load_spec
    from qmi_geo.walks import load_annotations
    from qmi_geo.walks.analysis import hotspots, theme_counts

    spec_obj = load_spec(spec)
    store = Path(output or spec_obj.output_dir) / "annotations.gpkg"
    ann = load_annotations(store)
    if ann.empty:
        raise click.ClickException(
            f"Aucune annotation pour {spec_obj.name} ({store}). Lancez d'abord "
            "« qmi walks import FICHIERS --spec ... »."
        )
    counts = theme_counts(ann)
    spots = hotspots(
        ann,
        radius_m=radius_m or spec_obj.hotspot_radius_m,
        min_size=min_size or int(spec_obj.hotspot_min_size),
    )
    centres = spots.geometry.centroid
    if as_json:
        data = {
            "commune": spec_obj.name,
            "annotations": len(ann),
            "themes": [
                {"theme": t, **{k: (None if v != v else v) for k, v in row.items()}}
                for t, row in counts.astype(object).iterrows()
            ],
            "points_chauds": [
                {
                    "theme": r.theme,
                    "n_annotations": int(r.n_annotations),
                    "theme_dominant": r.theme_dominant,
                    "part_negative": r.part_negative,
                    "x_l93": round(c.x),
                    "y_l93": round(c.y),
                }
                for r, c in zip(spots.itertuples(), centres, strict=True)
            ],
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=float))
        return
    click.secho(f"Marches sensibles — {spec_obj.name} : {len(ann)} annotation(s)", bold=True)
    click.echo(
        f"{'Thème':<36} {'nb':>4} {'négatif':>8} {'neutre':>7} {'positif':>8} {'intensité':>9}"
    )
    for _, row in counts.iterrows():
        mean = (
            "—"
            if row["intensite_moyenne"] != row["intensite_moyenne"]
            else f"{row['intensite_moyenne']:.1f}".replace(".", ",")
        )
        click.echo(
            f"{row['libelle'][:36]:<36} {row['n_annotations']:>4} {row['negatif']:>8} "
            f"{row['neutre']:>7} {row['positif']:>8} {mean:>9}"
        )
    click.echo("")
    if spots.empty:
        click.echo("Aucun point chaud (pas assez d'annotations proches).")
        return
    click.secho(f"Points chauds ({len(spots)}) :", bold=True)
    from qmi_geo.style import THEMES

    for r, c in zip(spots.itertuples(), centres, strict=True):
        label = THEMES[r.theme].label if r.theme in THEMES else "tous thèmes"
        click.echo(
            f"  {label} : {r.n_annotations} annotation(s), "
            f"{r.part_negative:.0%} négatives, centre X={c.x:.0f} Y={c.y:.0f} (Lambert-93)"
        )
