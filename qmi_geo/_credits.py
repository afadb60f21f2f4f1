"""Credits of the data sources: one attribution string may hold several credits.

Attributions separate credits with `` ; ``; a credit's own details in parentheses may hold
`` ; `` too (« INSEE (RP 2021, BPE ; Source : Insee) »), so the split ignores them. Used by
the maps' source lists and the comparison page's footnotes.
"""

from __future__ import annotations

__all__ = ["split_credits"]


def split_credits(text: str) -> list[str]:
    """Split an attribution on `` ; `` outside parentheses (a credit's own details stay whole).

    Examples
    --------
    >>> split_credits("A (RP 2021, BPE ; Source : Insee), CSTB ; Airparif")
    ['A (RP 2021, BPE ; Source : Insee), CSTB', 'Airparif']
    """
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(" ; ", i):
            parts.append(text[start:i])
            start = i + 3
            i += 3
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]
