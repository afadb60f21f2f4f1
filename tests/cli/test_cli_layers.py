"""The ``qmi`` command line, driven with click's CliRunner."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from qmi_geo.cli.main import cli


def test_help_lists_commands_in_french() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "Commandes" in result.output and "diagnose" in result.output


def test_layers_check_reports_real_counts(pilot_specs: dict[str, Path]) -> None:
    result = CliRunner().invoke(cli, ["layers", "check", str(pilot_specs["aulnay-sous-bois"])])
    assert result.exit_code == 0, result.output
    assert "Aulnay-sous-Bois (93005)" in result.output
    line = next(x for x in result.output.splitlines() if x.strip().startswith("Quartiers prio"))
    assert "qpv2024 (" in line and " 0 entité" not in line


def test_wrong_path_and_unknown_commune_give_one_french_line() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["layers", "check", "diagnostics/nulle-part.toml"])
    assert result.exit_code == 1
    assert result.output.startswith("Erreur : Fichier de diagnostic introuvable")
    assert "Traceback" not in result.output
    result = runner.invoke(cli, ["diagnose", "Atlantide"])
    assert result.exit_code == 1 and "Commune ou fichier inconnu" in result.output


def test_layers_list() -> None:
    result = CliRunner().invoke(cli, ["layers", "list"])
    assert result.exit_code == 0 and "qpv2024" in result.output


def test_diagnose_command_prints_where_outputs_are(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["diagnose", "92071", "--sortie", str(tmp_path), "--sans-carte"]
    )
    assert result.exit_code == 0, result.output
    assert f"Résultats dans {tmp_path}" in result.output
    assert (tmp_path / "diagnostic.gpkg").exists()


def test_every_subcommand_has_a_french_help() -> None:
    from qmi_geo.cli.main import SUBCOMMANDS

    runner = CliRunner()
    for name in SUBCOMMANDS:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Utilisation :" in result.output and "Affiche cette aide" in result.output
        # the command's own description is French (accents, French words)
        assert any(w in result.output for w in (" de ", " la ", " les ", " des ")), name
