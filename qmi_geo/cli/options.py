"""Options and helpers shared by the ``qmi`` subcommands."""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from qmi_geo.errors import QmiGeoError, QmiGeoWarning

__all__ = [
    "UserError",
    "echo_warning",
    "friendly_errors",
    "output_option",
    "resolve_output",
    "spec_argument",
    "spec_option",
]

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """A French one-line error for the user, printed as « Erreur : ... » (exit status 1)."""

    def show(self, file: Any = None) -> None:
        """Print the message on stderr."""
        click.secho(f"Erreur : {self.format_message()}", fg="red", err=True)


def friendly_errors(func: F) -> F:
    """Turn qmi_geo errors into one French line on stderr and exit status 1.

    User input never ends in a bare traceback: a :class:`~qmi_geo.errors.QmiGeoError`
    carries a message that says what is wrong and how to fix it; other ``OSError``s (disk
    full, permission denied) are reported the same way. qmi_geo warnings are shown as
    « Attention : ... » lines instead of Python's warning format; other libraries' warnings
    (English, for developers) only in the debug log (``-vv``).
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("always", QmiGeoWarning)
            old = warnings.showwarning
            warnings.showwarning = _show_warning
            try:
                return func(*args, **kwargs)
            except QmiGeoError as exc:
                raise UserError(str(exc)) from None
            except OSError as exc:
                raise UserError(f"entrée/sortie impossible : {exc}") from None
            finally:
                warnings.showwarning = old

    return wrapper  # type: ignore[return-value]


def _show_warning(
    message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any
) -> None:
    if issubclass(category, QmiGeoWarning):
        echo_warning(str(message))
    else:  # library warnings (pandas, GDAL...) are for developers: shown with -vv only
        logging.getLogger("qmi_geo").debug("%s: %s", category.__name__, message)


def echo_warning(message: str) -> None:
    """Print a French warning line on stderr."""
    click.secho(f"Attention : {message}", fg="yellow", err=True)


def spec_argument(func: F) -> F:
    """The ``SPEC`` argument: a spec file or a commune name/INSEE code."""
    return click.argument("spec", metavar="SPEC")(func)


def spec_option(func: F) -> F:
    """The ``--spec`` option: a spec file or a commune name/INSEE code."""
    return click.option(
        "--spec",
        "spec",
        required=True,
        metavar="SPEC",
        help="Fichier diagnostics/<commune>.toml, ou nom / code INSEE d'une commune.",
    )(func)


def output_option(func: F) -> F:
    """The ``--output``/``-o`` option (French alias ``--sortie``): where outputs go.

    Every command writing a commune's files takes it, and resolves the folder the same way
    (:func:`resolve_output`): the given folder, else the spec's ``[output] dir``, else
    ``maps/<commune>/`` of the workspace.
    """
    return click.option(
        "--output",
        "-o",
        "--sortie",
        "output",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Dossier de sortie (par défaut : maps/<commune>/ à côté du dossier diagnostics/).",
    )(func)


def resolve_output(spec: Any, output: Path | None) -> Path:
    """The commune's output folder: ``output`` if given, else the spec's (``maps/<commune>/``).

    ``qmi diagnose``, ``qmi map`` and ``qmi atelier import`` all go through this, so défis
    imported into a folder are found by a diagnostic written to the same folder.
    """
    return Path(output) if output is not None else Path(spec.output_dir)
