"""Diagnostic specs: loading, defaults, validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from qmi_geo.errors import SpecError, UnknownCommuneError
from qmi_geo.spec import DEFAULT_WEIGHTS, load_spec


def test_pilot_specs_load(pilot_specs: dict[str, Path]) -> None:
    for slug, path in pilot_specs.items():
        spec = load_spec(path)
        assert spec.slug == slug
        assert spec.output_dir.name == slug and spec.output_dir.parent.name == "maps"
        assert spec.layers["coupures"], "every pilot spec lists rail breaks"


def test_spec_found_by_name_or_insee_code() -> None:
    assert load_spec("Noisy-le-Grand").insee == "93051"
    assert load_spec("92048").name == "Meudon"
    assert load_spec("noisy-le-grand").path is not None


def test_any_commune_of_ile_de_france_gets_a_default_spec() -> None:
    spec = load_spec("Argenteuil")
    assert spec.insee == "95018" and spec.path is None
    assert [s.name for s in spec.layers["qpv"]] == ["qpv2024"]


def test_two_line_spec_is_enough(tmp_path: Path) -> None:
    path = tmp_path / "sucy.toml"
    path.write_text('insee = "94071"\nname = "Sucy-en-Brie"\n', encoding="utf-8")
    spec = load_spec(path)
    assert spec.weights == DEFAULT_WEIGHTS and spec.buffer_m == 500


def test_unknown_key_is_rejected_with_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('insee = "94071"\n[perimeter]\nbufer_m = 100\n', encoding="utf-8")
    with pytest.raises(SpecError, match=r"bufer_m.*buffer_m"):
        load_spec(path)


def test_unknown_catalogue_source_and_wrong_kind(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('insee = "94071"\n[layers]\nqpv = ["qpv2042"]\n', encoding="utf-8")
    with pytest.raises(SpecError, match="qpv2024"):
        load_spec(path)
    path.write_text('insee = "94071"\n[layers]\nqpv = ["rail_idfm"]\n', encoding="utf-8")
    with pytest.raises(SpecError, match="layers.coupures"):
        load_spec(path)


def test_relative_paths_resolve_from_the_spec_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "x.toml"
    path.write_text(
        'insee = "94071"\n[perimeter]\nsource = "q.gpkg"\n[walks]\nfiles = ["../m.csv"]\n',
        encoding="utf-8",
    )
    spec = load_spec(path)
    assert spec.perimeter_source == tmp_path / "sub" / "q.gpkg"
    assert spec.walk_files == [tmp_path / "m.csv"]


def test_bad_values_and_unknown_communes() -> None:
    with pytest.raises(UnknownCommuneError, match="Aulnay-sous-Bois"):
        load_spec("Aulnay")
    with pytest.raises(SpecError, match="introuvable"):
        load_spec("diagnostics/absente.toml")


def test_bad_insee_and_bad_toml(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('insee = "123"\n', encoding="utf-8")
    with pytest.raises(SpecError, match="code INSEE"):
        load_spec(path)
    path.write_text('insee = "99999"\n', encoding="utf-8")
    with pytest.raises(UnknownCommuneError, match="inconnu"):
        load_spec(path)
    path.write_text("insee = \n", encoding="utf-8")
    with pytest.raises(SpecError, match="TOML invalide"):
        load_spec(path)
    path.write_text('insee = "94071"\n[weights]\nbesoin = "beaucoup"\n', encoding="utf-8")
    with pytest.raises(SpecError, match="weights.besoin"):
        load_spec(path)
