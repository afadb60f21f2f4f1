"""The layer stage of the pipeline on the bundled real data of the four pilot communes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pyogrio
import pytest

from qmi_geo.pipeline import WIDE_BUFFER_M, WIDE_KINDS, diagnose, load_layers
from qmi_geo.spec import load_spec


@pytest.fixture(scope="module")
def layersets(pilot_specs: dict[str, Path]) -> dict:
    return {slug: load_layers(load_spec(path)) for slug, path in pilot_specs.items()}


def test_real_layers_of_the_pilots(layersets: dict) -> None:
    qpv = {slug: len(ls.layers.get("qpv", ())) for slug, ls in layersets.items()}
    assert qpv["meudon"] == 0
    assert qpv["aulnay-sous-bois"] >= 4 and qpv["noisy-le-grand"] >= 3 and qpv["sceaux"] >= 1
    for slug, ls in layersets.items():
        rail = ls.layers["coupures"].query("type == 'rail'")
        assert len(rail) > 0, slug
        assert ls.layers["coupures"].crs.to_epsg() == 2154
        assert not ls.report.has_errors, ls.report.to_text()
    codes = set(layersets["aulnay-sous-bois"].layers["qpv"]["code_qp"])
    assert {"QN09349M", "QN09353M", "QN09354M", "QN09355M"} <= codes
    assert "QN09219N" in set(layersets["sceaux"].layers["qpv"]["code_qp"])


def test_layers_are_clipped_to_quarter_plus_buffer(layersets: dict) -> None:
    ls = layersets["sceaux"]
    area = ls.clip_area
    for kind, gdf in ls.layers.items():
        if kind in WIDE_KINDS:  # stations are read 5 km around: the nearest may be outside
            assert gdf.distance(area).max() <= WIDE_BUFFER_M, kind
            continue
        assert gdf.intersects(area).all(), kind
    lines = ls.layers["coupures"]
    assert lines.within(area.buffer(0.01)).all()


def test_meudon_has_streets_and_a_road_break(layersets: dict) -> None:
    ls = layersets["meudon"]
    assert len(ls.layers["rues"]) > 500
    assert set(ls.layers["coupures"]["type"]) >= {"rail", "route", "eau"}
    assert "© les contributeurs d'OpenStreetMap (ODbL)" in ls.attributions()


def test_diagnose_writes_a_geopackage_gdal_reads(tmp_path: Path) -> None:
    result = diagnose(load_spec("93051"), output_dir=tmp_path, stages=[])
    gpkg = result.files["diagnostic"]
    layers = dict(pyogrio.list_layers(gpkg))
    assert {"quartier", "qpv", "coupures", "gares", "iris", "sites"} <= set(layers)
    assert pyogrio.read_info(gpkg, layer="qpv")["features"] == 4
    text = (tmp_path / "rapport_validation.txt").read_text(encoding="utf-8")
    assert "Noisy-le-Grand (93051)" in text and "ANCT" in text
    ogrinfo = shutil.which("ogrinfo")
    assert ogrinfo, "ogrinfo is required (Debian package gdal-bin, installed by .ci/run)"
    # the file opens in GDAL's own command-line tool, as in QGIS
    out = subprocess.run(
        [ogrinfo, "-so", str(gpkg), "qpv"], capture_output=True, text=True, check=True
    ).stdout
    assert "Feature Count: 4" in out


def test_fub_streets_are_real_perception_annotations(tmp_path: Path) -> None:
    from qmi_geo.pipeline import default_stages

    result = diagnose(
        load_spec("92071"),
        output_dir=tmp_path,
        stages=default_stages(with_map=False, with_report=False),
    )
    ann = result.extra_layers["annotations"]
    fub = ann[ann["marche"] == "fub_barometre_2017"]
    rues = result.layerset.layers["rues_citees"]
    assert len(fub) == len(rues) > 0
    assert set(fub["theme"]) == {"velo"} and set(fub["valence"]) == {"negatif"}
    assert fub["poids"].sum() == rues["votes"].sum()
    table = result.products["indicators"].set_index("code")
    # no walk file for Sceaux: the walk counts say so instead of counting FUB streets twice
    assert table.loc["annotations", "statut"] == "non disponible"
    assert table.loc["rues_citees", "valeur"] == len(rues)


def test_fub_annotations_can_be_switched_off(tmp_path: Path) -> None:
    from qmi_geo.pipeline import default_stages

    spec = tmp_path / "sceaux.toml"
    spec.write_text('insee = "92071"\n[walks]\nfub = false\n', encoding="utf-8")
    result = diagnose(
        load_spec(spec),
        output_dir=tmp_path,
        stages=default_stages(with_map=False, with_report=False),
    )
    assert "annotations" not in result.extra_layers


def test_diagnose_uses_annotations_imported_earlier(tmp_path: Path, repo: Path) -> None:
    from click.testing import CliRunner

    from qmi_geo.cli.main import cli
    from qmi_geo.pipeline import default_stages

    walk = repo / "layers" / "marches" / "aulnay-sous-bois_kobo_synthetique.csv"
    out = CliRunner().invoke(
        cli, ["walks", "import", str(walk), "--spec", "93005", "--sortie", str(tmp_path)]
    )
    assert out.exit_code == 0, out.output
    spec = tmp_path / "aulnay.toml"  # a spec listing no walk file
    spec.write_text('insee = "93005"\n[walks]\nfub = false\n', encoding="utf-8")
    result = diagnose(
        load_spec(spec),
        output_dir=tmp_path,
        stages=default_stages(with_map=False, with_report=False),
    )
    stored = result.extra_layers["annotations"]
    assert len(stored) > 0 and set(stored["source_fichier"]) == {walk.name}
    assert result.products["indicators"].set_index("code").loc["annotations", "valeur"] > 0
