"""French for click's own messages (usage line, section titles, standard errors).

click marks its strings for translation with :mod:`gettext` but ships no French catalogue.
Rather than require a compiled ``.mo`` file and a French locale on the user's machine, the
``_`` used by click's modules is replaced, once, by a lookup in the small table below; any
string not in it is left in English.
"""

from __future__ import annotations

import importlib

__all__ = ["install"]

FRENCH = {
    "Usage:": "Utilisation :",
    "Options": "Options",
    "Commands": "Commandes",
    "Show this message and exit.": "Affiche cette aide et quitte.",
    "Show the version and exit.": "Affiche la version et quitte.",
    "Error: {message}": "Erreur : {message}",
    "Aborted!": "Interrompu.",
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing command.": "Commande manquante.",
    "No such command {name!r}.": "Commande inconnue : {name!r}.",
    "No such option {name!r}.": "Option inconnue : {name!r}.",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "Try '{command} {option}' for help.": "Essayez « {command} {option} » pour l'aide.",
    "default: {default}": "par défaut : {default}",
    "Could not open file {filename!r}: {message}": "Impossible d'ouvrir {filename!r} : {message}",
}

_installed = False


def _french(message: str) -> str:
    return FRENCH.get(message, message)


def install() -> None:
    """Make click print its own messages in French (idempotent)."""
    global _installed
    if _installed:
        return
    for name in ("core", "formatting", "exceptions", "decorators", "types"):
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = _french  # type: ignore[attr-defined]
    _installed = True
