"""Communes as they are in 2026: names, mergers, outside Île-de-France, Saint-Denis."""

from __future__ import annotations

import pytest

from qmi_geo.errors import UnknownCommuneError
from qmi_geo.pipeline import perimeter_for
from qmi_geo.spec import load_spec, resolve_commune


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("Montreuil-sous-Bois", "93048"),
        ("montreuil", "93048"),
        ("SAINT DENIS", "93066"),
        ("St-Denis", "93066"),
        ("Ile Saint Denis", "93039"),
        ("Le Kremlin Bicetre", "94043"),
        ("93066", "93066"),
    ],
)
def test_common_forms_of_names(given: str, code: str) -> None:
    assert resolve_commune(given) == code


@pytest.mark.parametrize("given", ["Lyon", "69123", "Marseille"])
def test_a_commune_outside_ile_de_france_is_told_so(given: str) -> None:
    with pytest.raises(UnknownCommuneError, match="n'est pas en Île-de-France") as err:
        resolve_commune(given)
    assert "Vouliez-vous dire" not in str(err.value)


@pytest.mark.parametrize("given", ["Pierrefitte-sur-Seine", "93059"])
def test_pierrefitte_is_part_of_saint_denis(given: str) -> None:
    with pytest.raises(UnknownCommuneError, match=r"Saint-Denis \(93066\)"):
        resolve_commune(given)


def test_saint_denis_perimeter_is_the_union_of_its_parts() -> None:
    whole = perimeter_for(load_spec("Saint-Denis"))
    # ADMIN EXPRESS 2018: Saint-Denis 12.4 km² + Pierrefitte-sur-Seine 3.4 km²
    assert whole.area.iloc[0] / 1e6 == pytest.approx(15.84, abs=0.05)
