"""The validated settings object."""

from __future__ import annotations

import pytest

from qmi_geo.errors import SettingsError
from qmi_geo.settings import settings


def test_unknown_setting_is_rejected() -> None:
    with pytest.raises(SettingsError, match="buffer_m"):
        settings.bufer_m = 10
    with pytest.raises(SettingsError):
        _ = settings.nope


def test_values_are_validated_and_restored() -> None:
    with pytest.raises(SettingsError, match="positive"):
        settings.buffer_m = -1
    with pytest.raises(SettingsError, match="entier"):
        settings.web_decimals = 12
    with settings.override(buffer_m="250"):
        assert settings.buffer_m == 250.0
    assert settings.buffer_m == 500.0
