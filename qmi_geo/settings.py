"""Validated settings, read at call time.

A single :data:`settings` object holds the options that change how qmi_geo works (default
buffer around a quarter, where the workspace is, output decimals...). Setting an unknown key
raises :class:`~qmi_geo.errors.SettingsError` instead of silently creating a new setting
(the trap of module-level globals), and every value is validated when it is set.

Examples
--------
>>> from qmi_geo.settings import settings
>>> settings.buffer_m
500.0
>>> with settings.override(buffer_m=250):
...     settings.buffer_m
250.0
>>> settings.buffr_m = 3
Traceback (most recent call last):
...
qmi_geo.errors.SettingsError: Réglage inconnu « buffr_m ». Réglages possibles : ...
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qmi_geo.errors import SettingsError

__all__ = ["Option", "Settings", "settings"]


@dataclass(frozen=True)
class Option:
    """One setting: its default, a validator/converter and its documentation."""

    key: str
    default: Any
    doc: str
    validator: Callable[[Any], Any]


def _positive_float(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise SettingsError(f"valeur numérique attendue, reçu {value!r}") from None
    if out < 0:
        raise SettingsError(f"valeur positive attendue, reçu {value!r}")
    return out


def _int_range(lo: int, hi: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise SettingsError(f"entier entre {lo} et {hi} attendu, reçu {value!r}")
        return value

    return check


def _optional_path(value: Any) -> Path | None:
    if value is None or value == "":
        return None
    return Path(value).expanduser()


def _optional_secret(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"texte non vide attendu, reçu {value!r}")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"vrai ou faux attendu, reçu {value!r}")
    return value


_OPTIONS = {
    o.key: o
    for o in (
        Option(
            "buffer_m",
            500.0,
            "Tampon (m) autour du quartier pour le découpage des couches.",
            _positive_float,
        ),
        Option(
            "workspace",
            None,
            "Dossier de travail (layers/, diagnostics/, maps/). Par défaut : variable "
            "QMI_WORKSPACE, sinon le dossier qui contient diagnostics/ au-dessus du dossier "
            "courant.",
            _optional_path,
        ),
        Option(
            "web_decimals",
            6,
            "Décimales des coordonnées WGS84 dans les sorties web.",
            _int_range(4, 8),
        ),
        Option("progress", True, "Afficher les barres de progression.", _bool),
        Option(
            "pseudonym_salt",
            None,
            "Sel secret des pseudonymes des participants aux marches. Par défaut : variable "
            "QMI_GEO_SEL_PSEUDONYMES, sinon un sel fixe (public).",
            _optional_secret,
        ),
    )
}


#: Options whose value is never printed.
_SECRET = frozenset({"pseudonym_salt"})


class Settings:
    """Container of validated options; attribute access, unknown keys rejected."""

    def __init__(self) -> None:
        object.__setattr__(self, "_values", {k: o.default for k, o in _OPTIONS.items()})

    def __getattr__(self, key: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if key in values:
            return values[key]
        raise SettingsError(_unknown(key))

    def __setattr__(self, key: str, value: Any) -> None:
        if key not in _OPTIONS:
            raise SettingsError(_unknown(key))
        try:
            self._values[key] = _OPTIONS[key].validator(value)
        except SettingsError as exc:
            raise SettingsError(f"Réglage « {key} » : {exc}") from None

    def __dir__(self) -> list[str]:
        return sorted(_OPTIONS)

    def __repr__(self) -> str:
        shown = {
            k: ("***" if k in _SECRET and v is not None else v) for k, v in self._values.items()
        }
        body = "\n".join(f"  {k} = {v!r}  # {_OPTIONS[k].doc}" for k, v in shown.items())
        return f"Settings(\n{body}\n)"

    def reset(self) -> None:
        """Restore every option to its default."""
        for key, option in _OPTIONS.items():
            self._values[key] = option.default

    @contextmanager
    def override(self, **values: Any) -> Iterator[Settings]:
        """Temporarily set options inside a ``with`` block."""
        old = dict(self._values)
        try:
            for key, value in values.items():
                setattr(self, key, value)
            yield self
        finally:
            self._values.clear()
            self._values.update(old)

    def resolved_workspace(self, start: Path | None = None) -> Path:
        """Return the workspace folder (see the ``workspace`` option)."""
        if self.workspace is not None:
            return Path(self.workspace)
        env = os.environ.get("QMI_WORKSPACE")
        if env:
            return Path(env).expanduser()
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "diagnostics").is_dir() and (folder / "layers").is_dir():
                return folder
        return here


def _unknown(key: str) -> str:
    return f"Réglage inconnu « {key} ». Réglages possibles : {', '.join(sorted(_OPTIONS))}."


settings = Settings()
