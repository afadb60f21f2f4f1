"""Pseudonym salt: argument, then setting, then environment variable, read at call time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from qmi_geo.errors import SettingsError
from qmi_geo.settings import settings
from qmi_geo.walks import import_walks, pseudonym, pseudonymise
from qmi_geo.walks._privacy import SALT_VARIABLE


def test_setting_changes_pseudonyms_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SALT_VARIABLE, raising=False)
    default = pseudonym("Jeanne Dupont")
    with settings.override(pseudonym_salt="secret-equipe"):
        salted = pseudonym("Jeanne Dupont")
        assert salted == pseudonym("jeanne  DUPONT")  # still stable for one person
        assert pseudonymise(pd.Series(["Jeanne Dupont"])).iloc[0] == salted
        # an explicit salt argument wins over the setting
        assert pseudonym("Jeanne Dupont", salt="autre") != salted
    assert salted != default
    assert pseudonym("Jeanne Dupont") == default  # back to the default after the block


def test_environment_variable_is_used_when_setting_is_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(SALT_VARIABLE, raising=False)
    default = pseudonym("Karim B.")
    monkeypatch.setenv(SALT_VARIABLE, "sel-de-l-environnement")
    from_env = pseudonym("Karim B.")
    assert from_env != default
    assert from_env == pseudonym("Karim B.", salt="sel-de-l-environnement")
    with settings.override(pseudonym_salt="sel-du-reglage"):
        assert pseudonym("Karim B.") == pseudonym("Karim B.", salt="sel-du-reglage")


@pytest.mark.parametrize("bad", ["", "   ", 42])
def test_setting_is_validated(bad: object) -> None:
    with pytest.raises(SettingsError, match="pseudonym_salt"):
        settings.pseudonym_salt = bad
    assert settings.pseudonym_salt is None


def test_import_uses_the_setting(
    tmp_path: Path, places: dict[str, tuple[float, float]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SALT_VARIABLE, raising=False)
    la, lo = places["Gare Aulnay-sous-Bois"]
    path = tmp_path / "marche_sel_synthetique.csv"
    path.write_text(f"lat;lon;theme;nom\n{la};{lo};bruit;Léa\n", encoding="utf-8")
    plain = import_walks(path).annotations["auteur"].iloc[0]
    with settings.override(pseudonym_salt="secret-equipe"):
        salted = import_walks(path).annotations["auteur"].iloc[0]
    assert salted == pseudonym("Léa", salt="secret-equipe") != plain
