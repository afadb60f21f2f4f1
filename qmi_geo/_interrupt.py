"""Ctrl-C in the ``qmi`` command: one French line and exit status 130, never a traceback.

Installed by the package as soon as it is imported by the ``qmi`` console script or by
``python -m qmi_geo`` (so that an interrupt while the command's modules are still being
imported is caught too), and never when qmi_geo is imported as a library. Python's own
start-up (before any qmi_geo code runs, a few hundredths of a second) is outside its reach.

Only the standard library is imported here: this runs before anything else.
"""

from __future__ import annotations

import contextlib
import os
import sys
from types import TracebackType

__all__ = ["EXIT_INTERRUPTED", "install", "interrupted_message", "is_command_line"]

#: Exit status of an interrupted command (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130


def is_command_line() -> bool:
    """True when this process is the ``qmi`` command (console script or ``-m qmi_geo``)."""
    if sys.argv and os.path.basename(sys.argv[0]) in ("qmi", "qmi.exe"):
        return True
    orig = list(getattr(sys, "orig_argv", []))
    return "-m" in orig and orig[orig.index("-m") + 1 : orig.index("-m") + 2] == ["qmi_geo"]


def interrupted_message() -> str:
    """« Interrompu : rien n'a été modifié. » or which files were completed before Ctrl-C."""
    written: list[str] = []
    atomic = sys.modules.get("qmi_geo._atomic")
    if atomic is not None:
        written = [p.name for p in atomic.completed_outputs()]
    if not written:
        return "Interrompu : rien n'a été modifié."
    shown = ", ".join(written[:8]) + (f"… (+{len(written) - 8})" if len(written) > 8 else "")
    return (
        f"Interrompu : {len(written)} fichier(s) écrit(s) en entier avant l'interruption "
        f"({shown}) ; rien d'autre n'a été modifié."
    )


def report_and_exit() -> None:
    """Print the French line on stderr and end the process with status 130."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    try:
        sys.stderr.write(interrupted_message() + "\n")
        sys.stderr.flush()
    finally:
        os._exit(EXIT_INTERRUPTED)


def _hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        report_and_exit()
    _previous(kind, value, tb)


_previous = sys.excepthook


def install() -> None:
    """Route an uncaught ``KeyboardInterrupt`` to :func:`report_and_exit`."""
    global _previous
    if sys.excepthook is not _hook:
        _previous = sys.excepthook
        sys.excepthook = _hook
