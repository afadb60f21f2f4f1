"""Say what is wrong instead of computing on it: specs, missing walk files, failed layers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner

from qmi_geo.cli.main import cli
from qmi_geo.diagnostics import compute_indicators
from qmi_geo.errors import SpecError, WalkFileMissingWarning
from qmi_geo.pipeline import load_layers
from qmi_geo.spec import load_spec

from .conftest import DEMO_WALKS, REPO, write_spec

QPV = REPO / "layers" / "anct_qpv2024_contours" / "qpv2024_idf.gpkg"


def test_insee_and_name_that_disagree_name_both_communes(tmp_path: Path) -> None:
    spec = tmp_path / "faux.toml"
    spec.write_text('insee = "93005"\nname = "Sceaux"\n', encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    assert str(err.value) == (
        "faux.toml : le code INSEE 93005 est celui de Aulnay-sous-Bois, pas de Sceaux (code "
        "INSEE 92071). Corrigez « insee » ou « name » pour qu'ils désignent la même commune."
    )
    # spelling variants of the same name are fine
    spec.write_text('insee = "93005"\nname = "Aulnay sous Bois"\n', encoding="utf-8")
    assert load_spec(spec).insee == "93005"


def test_missing_walk_file_is_an_error_naming_it(tmp_path: Path) -> None:
    absent = tmp_path / "marche_absente.csv"
    spec = write_spec(tmp_path, [DEMO_WALKS / "aulnay-sous-bois_marche_synthetique.csv", absent])
    res = CliRunner().invoke(cli, ["diagnose", str(spec), "--sans-carte"])
    assert res.exit_code == 1
    assert (
        f"Erreur : Fichier(s) de marche introuvable(s) : {absent} (listé(s) dans "
        "aulnay-sous-bois.toml, [walks] files). Corrigez le chemin, ou ajoutez "
        "« allow_missing = true » dans [walks] pour continuer sans ce(s) fichier(s)."
    ) in res.output
    assert "Traceback" not in res.output


def test_missing_walk_file_allowed_is_a_warning_in_the_report(tmp_path: Path) -> None:
    from qmi_geo.pipeline import default_stages, diagnose

    absent = tmp_path / "marche_absente.csv"
    spec = write_spec(
        tmp_path,
        [DEMO_WALKS / "aulnay-sous-bois_marche_synthetique.csv", absent],
        extra="allow_missing = true\nfub = false",
    )
    spec_obj = load_spec(spec)
    with pytest.warns(WalkFileMissingWarning, match="marche_absente.csv"):
        result = diagnose(spec_obj, stages=default_stages(with_map=False)[:1], progress=False)
    report = (result.output_dir / "rapport_validation.txt").read_text(encoding="utf-8")
    assert (
        "[avertissement] fichier(s) de marche introuvable(s), ignoré(s) (allow_missing = "
        f"true) : {absent}"
    ) in report
    assert any("marche_absente.csv" in n for n in result.notes)


def _qpv_variant(tmp_path: Path, case: str) -> Path:
    qpv = gpd.read_file(QPV)
    if case == "vide":
        gdf = qpv.iloc[0:0]
    elif case == "hors_quartier":  # Argenteuil's QPV given for Aulnay-sous-Bois
        gdf = qpv[qpv["insee_com"].astype(str).str.contains("95018")]
    else:  # WGS84 degrees declared as Lambert-93
        aulnay = qpv[qpv["insee_com"].astype(str).str.contains("93005")]
        gdf = aulnay.to_crs(4326).set_crs(2154, allow_override=True)
    path = tmp_path / f"qpv_{case}_synthetique.gpkg"
    gdf.to_file(path, layer="qpv", driver="GPKG")
    return path


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        (
            "vide",
            "source « qpv_1 » : couche vide : aucune entité dans qpv_vide_synthetique.gpkg, "
            "couche « qpv » (EPSG:2154). Vérifiez le fichier.",
        ),
        (
            "hors_quartier",
            "source « qpv_1 » : couche « qpv » entièrement hors du quartier et de son tampon : "
            "qpv_hors_quartier_synthetique.gpkg, couche « qpv » (EPSG:2154) ne couvre pas ce "
            "quartier. Donnez une source qui le couvre.",
        ),
        (
            "mauvais_crs",
            "source « qpv_1 » : qpv_mauvais_crs_synthetique.gpkg, couche « qpv » : coordonnées "
            "(x de 2.4",
        ),
    ],
)
def test_failed_qpv_layer_makes_qpv_indicators_unavailable(
    tmp_path: Path, case: str, reason: str
) -> None:
    path = _qpv_variant(tmp_path, case)
    spec = write_spec(
        tmp_path,
        [],
        extra=f'fub = false\n[layers]\nqpv = [{{ path = "{path.as_posix()}", layer = "qpv" }}]',
    )
    layerset = load_layers(load_spec(spec), progress=False)
    assert layerset.layer_errors["qpv"].startswith(reason)
    if case == "mauvais_crs":
        assert "RGF93 v1 / Lambert-93 (EPSG:2154)" in layerset.layer_errors["qpv"]
    assert any(reason in str(i) for i in layerset.report.issues)
    table = compute_indicators(
        layerset.layers,
        perimeter=layerset.perimeter,
        sources=layerset.sources,
        layer_errors=layerset.layer_errors,
    ).set_index("code")
    for code in ("part_qpv", "nb_qpv", "population_qpv"):
        assert table.loc[code, "statut"] == "non disponible", code
        assert table.loc[code, "note"].startswith(layerset.layer_errors["qpv"])
        assert table.loc[code, "valeur"] != table.loc[code, "valeur"]  # NaN, never 0


def test_a_commune_with_no_qpv_still_gets_a_true_zero(tmp_path: Path) -> None:
    spec = tmp_path / "sceaux.toml"
    spec.write_text('insee = "92071"\nname = "Sceaux"\n[walks]\nfub = false\n', encoding="utf-8")
    layerset = load_layers(load_spec(spec), progress=False)
    assert "qpv" not in layerset.layer_errors
