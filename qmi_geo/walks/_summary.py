"""What an import did, per file, in French: counts, fixes, what needs a human look."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["FileSummary", "format_lines", "format_summary"]


@dataclass
class FileSummary:
    """Counts and messages for one imported file.

    ``lus == acceptes + rejetes`` always holds. ``corriges`` counts accepted rows fixed
    automatically (swapped coordinates); ``signales`` counts accepted rows with at least one
    flag that needs a human look (outside the quarter, duplicate, unknown theme...).
    """

    fichier: str
    format: str
    lus: int = 0
    acceptes: int = 0
    rejetes: int = 0
    corriges: int = 0
    signales: int = 0
    messages: list[str] = field(default_factory=list)
    erreur: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for ``--json``)."""
        return asdict(self)


def format_lines(lines: np.ndarray | list[int], unit: str = "ligne", limit: int = 12) -> str:
    """« lignes 3, 5 et 9 » — at most ``limit`` numbers, then « … (+N) ».

    Examples
    --------
    >>> format_lines([4])
    'ligne 4'
    >>> format_lines([3, 5, 9])
    'lignes 3, 5, 9'
    >>> format_lines(list(range(2, 20)), limit=3)
    'lignes 2, 3, 4… (+15)'
    """
    count = len(lines)  # a million flagged lines: only the first ``limit`` become text
    if not count:
        return ""
    plural = "s" if count > 1 else ""
    shown = ", ".join(str(int(v)) for v in lines[:limit])
    more = f"… (+{count - limit})" if count > limit else ""
    return f"{unit}{plural} {shown}{more}"


def format_summary(summaries: list[FileSummary]) -> str:
    """The French summary printed by ``qmi walks import``."""
    out: list[str] = []
    totals = dict.fromkeys(("lus", "acceptes", "rejetes", "corriges", "signales"), 0)
    for s in summaries:
        out.append(f"• {s.fichier} ({s.format})")
        if s.erreur:
            out.append(f"    ILLISIBLE : {s.erreur}")
            continue
        out.append(
            f"    {s.lus} lu(s) : {s.acceptes} accepté(s), {s.rejetes} rejeté(s) ; "
            f"{s.corriges} corrigé(s), {s.signales} à vérifier"
        )
        out.extend(f"    - {m}" for m in s.messages)
        for key in totals:
            totals[key] += getattr(s, key)
    if len(summaries) > 1:
        out.append(
            f"Total : {totals['lus']} lu(s), {totals['acceptes']} accepté(s), "
            f"{totals['rejetes']} rejeté(s), {totals['corriges']} corrigé(s), "
            f"{totals['signales']} à vérifier"
        )
    return "\n".join(out)
