"""``qmi layers``: check and list the layers of a diagnostic."""

from __future__ import annotations

import click

from qmi_geo.cli.options import friendly_errors, spec_argument

__all__ = ["layers"]


@click.group()
def layers() -> None:
    """Vérifie et liste les couches d'un diagnostic."""


@layers.command("check")
@spec_argument
@click.option(
    "--buffer",
    "--tampon",
    "buffer_m",
    type=float,
    default=None,
    help="Tampon autour du quartier en mètres (remplace celui de la spec).",
)
@friendly_errors
def check(spec: str, buffer_m: float | None) -> None:
    """Valide chaque couche du diagnostic SPEC et affiche un rapport en français.

    SPEC est un fichier diagnostics/<commune>.toml, un code INSEE ou un nom de commune.
    Le code de sortie est 1 si une source est en erreur.
    """
    from qmi_geo.layers import KINDS
    from qmi_geo.pipeline import coverage_text, load_layers
    from qmi_geo.spec import load_spec

    spec_obj = load_spec(spec)
    if buffer_m is not None:
        spec_obj.buffer_m = buffer_m
    layerset = load_layers(spec_obj)
    per = layerset.perimeter
    click.secho(f"Couches du diagnostic — {spec_obj.name} ({spec_obj.insee})", bold=True)
    click.echo(
        f"Périmètre : {per['nom'].iloc[0]}, "
        + f"{per.area.iloc[0] / 1e6:.2f} km², ".replace(".", ",")
        + f"tampon {spec_obj.buffer_m:.0f} m"
    )
    click.echo("")
    width = max(len(KINDS[k].label) for k in KINDS)
    for kind in KINDS:
        if kind in ("quartier", "defis"):
            continue
        srcs = [s for s in layerset.sources if s.kind == kind]
        n = len(layerset.layers.get(kind, ()))
        names = ", ".join(f"{s.name} ({layerset.counts.get(s.name, 0)})" for s in srcs)
        colour = "green" if n else "yellow"
        status = f"{n:>5} entité(s)" if srcs else "  pas de source"
        click.echo(
            f"  {KINDS[kind].label:<{width}} "
            + click.style(status, fg=colour)
            + (f"  ← {names}" if names else "")
        )
    click.echo("")
    click.secho("Couverture du quartier par chaque source :", bold=True)
    for src in layerset.sources:
        click.echo(f"  {src.name:<30} {coverage_text(layerset, src)}")
    for kind, reason in layerset.layer_errors.items():
        click.secho(f"  couche « {kind} » inutilisable : {reason}", fg="red")
    issues = [i for i in layerset.report.issues if i.level != "info"]
    click.echo("")
    if issues:
        click.secho(f"Constats ({len(issues)}) :", bold=True)
        for issue in issues:
            colour = {"erreur": "red", "avertissement": "yellow"}.get(issue.level, "cyan")
            click.secho(f"  {issue}", fg=colour)
    else:
        click.secho("Aucun problème détecté.", fg="green")
    rejects = layerset.report.rejects_frame()
    if len(rejects):
        click.echo(
            f"{len(rejects)} entité(s) rejetée(s) ; « qmi diagnose » les écrit dans "
            "rejets_couches.csv."
        )
    if layerset.report.has_errors:
        raise SystemExit(1)


@layers.command("list")
@friendly_errors
def list_sources() -> None:
    """Liste les sources du catalogue (layers/catalogue.toml) et les diagnostics existants."""
    from qmi_geo.layers import load_catalogue
    from qmi_geo.spec import find_specs

    click.secho("Sources du catalogue :", bold=True)
    for name, src in load_catalogue().items():
        real = "réelle" if src.real else "synthétique"
        click.echo(f"  {name:<28} {src.kind:<19} {real:<11} {src.licence}")
    click.secho("\nDiagnostics :", bold=True)
    for path in find_specs():
        click.echo(f"  {path}")
