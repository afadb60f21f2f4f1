"""Shared fixtures: the bundled real layers, specs, and a quiet, deterministic setup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from qmi_geo.settings import settings

REPO = Path(__file__).resolve().parents[1]
PILOTS = {
    "aulnay-sous-bois": "93005",
    "meudon": "92048",
    "noisy-le-grand": "93051",
    "sceaux": "92071",
}


@pytest.fixture(autouse=True)
def _quiet_settings() -> Iterator[None]:
    """No progress bars in tests; settings restored after each test."""
    with settings.override(progress=False):
        yield


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root (the programme's workspace)."""
    return REPO


@pytest.fixture(scope="session")
def layers_dir() -> Path:
    """The bundled real layers."""
    return REPO / "layers"


@pytest.fixture(scope="session")
def pilot_specs() -> dict[str, Path]:
    """The four pilot specs, by slug."""
    return {slug: REPO / "diagnostics" / f"{slug}.toml" for slug in PILOTS}


@pytest.fixture(autouse=True)
def _doctest_cwd(doctest_namespace: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Doctests run from the repository root (so bundled data resolve)."""
    monkeypatch.chdir(REPO)
