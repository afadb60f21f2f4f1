from __future__ import annotations

import pytest

from qmi_geo.errors import SolutionError
from qmi_geo.matching import load_solutions, solutions_frame
from qmi_geo.style import SITE_KINDS, THEMES


def test_bundled_catalogue_has_the_named_first_cohort_solutions():
    solutions = load_solutions()
    # the brochure announces 30 selected projects but names 28; all 28 are here
    assert len(solutions) == 28
    assert len({s.id for s in solutions}) == 28
    for s in solutions:
        assert s.exigences.types_sites, s.id
        assert set(s.exigences.types_sites) <= set(SITE_KINDS)
        assert s.themes and set(s.themes) <= set(THEMES), s.id
        assert s.description and s.justification and s.cohorte == 1
    per_commune = solutions_frame(solutions).groupby("commune").size().to_dict()
    assert per_commune == {"Aulnay-sous-Bois": 7, "Meudon": 7, "Noisy-le-Grand": 8, "Sceaux": 6}


def test_evaluations_come_only_from_the_brochure():
    by_id = {s.id: s for s in load_solutions()}
    assert by_id["purple"].evaluation.experimentation_deployee == 3
    assert by_id["source-urbaine"].evaluation.experimentation_deployee == 2
    assert by_id["soy-pv"].evaluation.scores() == dict.fromkeys(by_id["soy-pv"].evaluation.scores())
    assert by_id["purple"].evaluation.total is None  # incomplete: never summed
    assert "non évalué" in by_id["purple"].evaluation.describe()


def test_only_keeps_requested_ids_and_rejects_unknown(tmp_path):
    assert [s.id for s in load_solutions(only=["pelican", "purple"])] == ["pelican", "purple"]
    with pytest.raises(SolutionError, match="inconnue.*pelikan"):
        load_solutions(only=["pelikan"])


ENTRY = """
[[solution]]
id = "banc-frais"
nom = "Banc frais"
thematique = "Espace public"
description = "Un banc ombragé."
themes = ["chaleur"]
[solution.exigences]
types_sites = ["place"]
"""


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('types_sites = ["place"]', 'types_sites = ["plage"]', "types_sites"),
        ('themes = ["chaleur"]', 'themes = ["canicule"]', "themes"),
        (
            'types_sites = ["place"]',
            'types_sites = ["place"]\nsurface_min_m2 = -3',
            "surface_min_m2",
        ),
        ('types_sites = ["place"]', 'types_sites = ["place"]\nqpv = "oui"', "qpv"),
        ('nom = "Banc frais"', "", "nom"),
        ('id = "banc-frais"', 'id = "Banc Frais"', "id"),
        ('types_sites = ["place"]', 'types_sites = ["place"]\nsurfce = 3', "surfce"),
    ],
)
def test_bad_entry_names_the_field(tmp_path, old, new, field):
    path = tmp_path / "mes_solutions.toml"
    path.write_text(ENTRY.replace(old, new), encoding="utf-8")
    with pytest.raises(SolutionError) as err:
        load_solutions(path)
    message = str(err.value)
    assert f"« {field} »" in message and "mes_solutions.toml" in message


def test_user_catalogue_and_bad_toml(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text(ENTRY, encoding="utf-8")
    (sol,) = load_solutions(path)
    assert sol.exigences.coupures == "indifferent" and sol.evaluation.total is None
    bad = tmp_path / "bad.toml"
    bad.write_text("[[solution]\nid=", encoding="utf-8")
    with pytest.raises(SolutionError, match="TOML valide"):
        load_solutions(bad)
    with pytest.raises(SolutionError, match="introuvable"):
        load_solutions(tmp_path / "absent.toml")
    dup = tmp_path / "dup.toml"
    dup.write_text(ENTRY + ENTRY, encoding="utf-8")
    with pytest.raises(SolutionError, match="déjà utilisé"):
        load_solutions(dup)
