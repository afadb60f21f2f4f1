"""Coverage rules: a figure is computed only on sources that cover the quarter.

Each source declares its extent (``layers/catalogue.toml``, see :mod:`qmi_geo.layers.extent`);
the layers stage measures the share of the quarter inside it (``LayerSet.coverage``) and
records layers that failed, are empty or lie outside the quarter (``LayerSet.layer_errors``).
Here, before the indicators are computed:

* a source covering less than :data:`COVERAGE_THRESHOLD` of the quarter gives no feature to
  the indicators (its slivers would make a figure look computed when it is not);
* a kind left with no covering source, or with a layer error, makes every indicator fed by
  it « non disponible » with the reason — « la source … ne couvre que 34 % du quartier » —
  never a number and never a zero;
* when another source of the same kind does cover the quarter, the figures are computed on
  it and the note names the source left out.

Examples
--------
>>> from types import SimpleNamespace as S
>>> src = [S(name="mos", kind="surfaces_minerales", title="MOS", extent="paris-92-93-94")]
>>> plan = coverage_plan(src, {"mos": 0.34}, {})
>>> plan.reasons["surfaces_minerales"]
'la source « MOS » ne couvre que 34 % du quartier (couverture : Paris + 92/93/94)'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from qmi_geo.diagnostics._rows import UNAVAILABLE

__all__ = ["COVERAGE_THRESHOLD", "CoveragePlan", "apply_plan", "coverage_plan", "format_share"]

#: Minimum share of the quarter a source must cover for its figures to be computed. 95 %
#: leaves room for the simplified commune outlines (ADMIN EXPRESS 2018, ≈ 1 m rounding) and
#: the IRIS contours not tiling them exactly, not for a missing neighbourhood.
COVERAGE_THRESHOLD = 0.95


def format_share(share: float) -> str:
    """« 34 % » (French spacing; never « 100 % » for a share just under 1)."""
    pct = 100.0 * share
    if pct >= 99.5 and share < 1.0:
        return "99 %"
    return f"{pct:.0f} %"


def _label(src: Any) -> str:
    from qmi_geo.layers.extent import NAMED_EXTENTS

    extent = getattr(src, "extent", None)
    if extent is None:
        return "étendue non déclarée"
    try:
        from qmi_geo.layers.extent import extent_label

        return extent_label(src)
    except (KeyError, TypeError):  # duck-typed sources in doctests
        names = (extent,) if isinstance(extent, str) else tuple(extent)
        return " ∩ ".join(NAMED_EXTENTS.get(n, n) for n in names)


@dataclass
class CoveragePlan:
    """What the coverage rules decide for one quarter."""

    #: kind -> reason for every indicator fed by it (status « non disponible », note = reason)
    reasons: dict[str, str] = field(default_factory=dict)
    #: kind -> names of sources left out because they do not cover the quarter
    dropped: dict[str, list[str]] = field(default_factory=dict)
    #: kind -> note added to its indicators when some of its sources were left out
    notes: dict[str, str] = field(default_factory=dict)


def coverage_plan(
    sources: Iterable[Any] | None,
    coverage: Mapping[str, float] | None,
    layer_errors: Mapping[str, str] | None,
    *,
    threshold: float = COVERAGE_THRESHOLD,
) -> CoveragePlan:
    """Decide, per layer kind, which sources feed the indicators and which kinds are missing."""
    plan = CoveragePlan()
    coverage = coverage or {}
    by_kind: dict[str, list[Any]] = {}
    for src in sources or ():
        by_kind.setdefault(getattr(src, "kind", ""), []).append(src)
    for kind, group in by_kind.items():
        short = [s for s in group if coverage.get(getattr(s, "name", ""), 1.0) < threshold]
        if not short:
            continue
        texts = [
            f"la source « {getattr(s, 'title', '') or s.name} » ne couvre que "
            f"{format_share(coverage[s.name])} du quartier (couverture : {_label(s)})"
            for s in short
        ]
        plan.dropped[kind] = [s.name for s in short]
        if len(short) == len(group):
            plan.reasons[kind] = " ; ".join(texts)
        else:
            plan.notes[kind] = " ; ".join(
                f"sans « {getattr(s, 'title', '') or s.name} » : "
                + t.replace(f"la source « {getattr(s, 'title', '') or s.name} » ", "")
                for s, t in zip(short, texts, strict=True)
            )
    for kind, reason in (layer_errors or {}).items():
        plan.reasons[kind] = reason
    return plan


def drop_uncovered(
    layers: Mapping[str, gpd.GeoDataFrame], plan: CoveragePlan
) -> dict[str, gpd.GeoDataFrame]:
    """The layers without the features of sources that do not cover the quarter."""
    out = dict(layers)
    for kind, names in plan.dropped.items():
        gdf = out.get(kind)
        if gdf is not None and "source" in gdf:
            out[kind] = gdf[~gdf["source"].isin(names)]
    for kind in plan.reasons:
        out.pop(kind, None)
    return out


def apply_plan(long: pd.DataFrame, plan: CoveragePlan) -> pd.DataFrame:
    """Make rows fed by a missing kind « non disponible » with the reason; add partial notes.

    ``long`` is the indicator table before sources are attached (its ``couches`` column lists
    the kinds each row comes from).
    """
    if not plan.reasons and not plan.notes:
        return long
    out = long.copy()
    kinds = out["couches"].fillna("").str.split(",")
    for kind, reason in plan.reasons.items():
        hit = kinds.map(lambda ks, k=kind: k in ks).to_numpy(dtype=bool)
        if hit.any():
            out.loc[hit, "valeur"] = np.nan
            out.loc[hit, "statut"] = UNAVAILABLE
            out.loc[hit, "note"] = reason
    for kind, note in plan.notes.items():
        hit = kinds.map(lambda ks, k=kind: k in ks).to_numpy(dtype=bool)
        if hit.any():
            old = out.loc[hit, "note"].fillna("").astype(str)
            out.loc[hit, "note"] = (old + " ; " + note).str.lstrip(" ;")
    return out
