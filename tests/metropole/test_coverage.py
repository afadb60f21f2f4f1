"""Coverage is a first-class fact: no figure from slivers, failed layers never read as zeros."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from qmi_geo.diagnostics.coverage import COVERAGE_THRESHOLD
from qmi_geo.layers.catalogue import load_catalogue, load_tables
from qmi_geo.layers.communes import communes_2026, metropole_communes
from qmi_geo.layers.extent import extent_geometry, quarter_share
from qmi_geo.pipeline import analyse, indicators_stage, load_layers
from qmi_geo.spec import load_spec


def _indicators(spec_path: Path, tmp_path: Path) -> pd.DataFrame:
    result = analyse(load_spec(spec_path), output_dir=tmp_path / "out", stages=[indicators_stage])
    return result.products["indicators"].set_index("code")


def _spec_with_qpv(
    tmp_path: Path, qpv: gpd.GeoDataFrame, *, crs_override: str | None = None
) -> Path:
    path = tmp_path / "qpv_test_synthetique.gpkg"
    qpv.to_file(path, layer="qpv", driver="GPKG")
    if crs_override:  # rewrite the file with coordinates kept but the CRS label changed
        wrong = qpv.set_crs(crs_override, allow_override=True)
        wrong.to_file(path, layer="qpv", driver="GPKG")
    spec = tmp_path / "sceaux.toml"
    spec.write_text(
        'insee = "92071"\nname = "Sceaux"\n[solutions]\nenabled = false\n'
        f'[layers]\nqpv = [{{ path = "{path.name}", layer = "qpv" }}]\n',
        encoding="utf-8",
    )
    return spec


QPV_ROWS = ("part_qpv", "nb_qpv", "population_qpv")


def _assert_unavailable(table: pd.DataFrame, words: tuple[str, ...]) -> None:
    for code in QPV_ROWS:
        row = table.loc[code]
        assert row["statut"] == "non disponible", (code, row.to_dict())
        assert pd.isna(row["valeur"]), code
        assert any(w in row["note"] for w in words), (code, row["note"])


def test_empty_qpv_layer_is_not_zero(tmp_path: Path) -> None:
    empty = gpd.GeoDataFrame({"code_qp": pd.Series([], dtype=str)}, geometry=[], crs=2154)
    table = _indicators(_spec_with_qpv(tmp_path, empty), tmp_path)
    _assert_unavailable(table, ("vide",))


def test_qpv_layer_outside_the_quarter_is_not_zero(tmp_path: Path) -> None:
    far = gpd.GeoDataFrame(  # a square near Lyon, in Lambert-93
        {"code_qp": ["QN06901M"], "lib_qp": ["Ailleurs"]},
        geometry=[box(842_000, 6_518_000, 843_000, 6_519_000)],
        crs=2154,
    )
    table = _indicators(_spec_with_qpv(tmp_path, far), tmp_path)
    _assert_unavailable(table, ("hors du quartier",))


def test_qpv_layer_in_a_wrong_crs_is_not_zero(tmp_path: Path) -> None:
    sceaux = box(647_000, 6_850_000, 648_000, 6_851_000)
    qpv = gpd.GeoDataFrame({"code_qp": ["QN09219N"]}, geometry=[sceaux], crs=2154)
    # Lambert-93 metres labelled as Web Mercator: the polygon lands in the Gulf of Guinea
    table = _indicators(_spec_with_qpv(tmp_path, qpv, crs_override="EPSG:3857"), tmp_path)
    _assert_unavailable(table, ("hors du quartier", "système de coordonnées", "CRS"))


def test_every_catalogue_source_declares_its_extent() -> None:
    sources = {**load_catalogue(), **load_tables()}
    assert all(s.extent is not None for s in sources.values()), [
        n for n, s in sources.items() if s.extent is None
    ]
    for src in load_catalogue().values():
        geom = extent_geometry(src)
        assert geom is not None and not geom.is_empty and geom.area > 0, src.name


def test_sealed_share_outside_paris_and_petite_couronne_is_unavailable(tmp_path: Path) -> None:
    spec = tmp_path / "argenteuil.toml"  # Val-d'Oise: the MOS share covers 0 % of it
    spec.write_text('insee = "95018"\n[solutions]\nenabled = false\n', encoding="utf-8")
    table = _indicators(spec, tmp_path)
    row = table.loc["part_impermeable"]
    assert row["statut"] == "non disponible" and pd.isna(row["valeur"])
    assert "ne couvre que 0 % du quartier" in row["note"]
    assert "Paris + 92/93/94" in row["note"]
    # the INSEE population is still the commune's
    assert table.loc["population", "valeur"] == communes_2026().loc["95018", "population"]


def test_a_one_km_source_is_not_used_on_a_commune_it_barely_touches() -> None:
    ls = load_layers(load_spec("93066"))
    assert ls.coverage["cours_eau_ddt95"] < COVERAGE_THRESHOLD
    assert ls.coverage["qpv2024"] == pytest.approx(1.0)
    assert ls.coverage["artificialisation_mos_iris_idf"] == pytest.approx(1.0)
    cat = load_catalogue()
    assert quarter_share(cat["iris_indicateurs"], ls.perimeter.geometry.iloc[0]) == 0.0


def test_summed_iris_population_matches_insee_for_the_130_communes(layers_dir: Path) -> None:
    iris = gpd.read_parquet(layers_dir / "regional_idf/iris_idf.parquet")
    total = iris.groupby("insee_com")["population_estimee"].sum()
    insee = communes_2026()["population"]
    codes = metropole_communes()
    assert len(codes) == 130 and "93059" not in codes and "93066" in codes
    gap = (total.reindex(codes) - insee.reindex(codes)).abs() / insee.reindex(codes)
    assert gap.max() <= 0.02, gap.sort_values().tail()
    assert str(iris["population_estimee"].dtype) == "Int64"  # whole people
