r"""Outputs of the matching stage: ``appariements.csv``, the GeoPackage layer, the allocation.

CSV files are for Excel in French: UTF-8 with BOM, ``;`` separator, decimal comma, French
headers. Participant text never reaches these files (explanations are built from layer data and
counts only).

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> scores = pd.DataFrame(
...     {
...         "solution_id": ["purple"],
...         "solution": ["Purple"],
...         "site_id": ["parking-1"],
...         "type_site": ["parking"],
...         "nom_site": ["Parking A"],
...         "surface_m2": [2400.0],
...         "total": [0.8],
...         "rang": [1],
...         "explication": ["Parking…"],
...     }
... )
>>> out = write_matches(scores, pathlib.Path(tempfile.mkdtemp()))
>>> out[0].name, out[0].read_bytes()[:3] == b"\xef\xbb\xbf"
('appariements.csv', True)
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from qmi_geo import _atomic
from qmi_geo.matching.allocation import Allocation
from qmi_geo.matching.suitability import CRITERIA
from qmi_geo.style import SITE_KINDS

__all__ = [
    "CSV_HEADERS",
    "matches_for_map",
    "matches_layer",
    "write_allocation",
    "write_csv",
    "write_matches",
]

#: French CSV headers of the score columns.
CSV_HEADERS: dict[str, str] = {
    "commune": "commune",
    "solution_id": "id_solution",
    "solution": "solution",
    "rang": "rang",
    "site_id": "id_site",
    "type_site": "type_site",
    "nom_site": "site",
    "surface_m2": "surface_m2",
    **{k: f"score_{k}" for k in CRITERIA},
    "total": "score_total",
    "ex_aequo": "ex_aequo",
    "statut": "statut",
    "theme_principal": "theme_principal",
    "explication": "explication",
    "sources": "sources",
    "a_verifier": "a_verifier",
    "motif": "motif_exclusion",
    "stabilite_n1": "stabilite_n1",
    "tau_kendall": "tau_kendall",
    "classement": "classement",
}


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write a CSV for Excel in French (UTF-8 BOM, ``;``, decimal comma), atomically."""
    return _atomic.write_csv(frame, path, decimal=",")


def written_pairs(scores: pd.DataFrame) -> pd.DataFrame:
    """The pairs that are written: those explained (each solution's best sites)."""
    if "explication" not in scores.columns:
        return scores
    return scores[scores["explication"].notna()]


def exclusions_summary(excluded: pd.DataFrame, sites: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """One row per (solution, reason): how many sites, and the first ones by name."""
    if not len(excluded):
        return pd.DataFrame(columns=["solution_id", "motif", "nombre_sites", "sites"])
    ex = excluded
    if sites is not None:
        ex = ex.merge(sites[["site_id", "nom"]], on="site_id", how="left")
    else:
        ex = ex.assign(nom=ex["site_id"])
    grouped = ex.groupby(["solution_id", "motif"], sort=True)["nom"]
    out = grouped.agg(
        nombre_sites="size",
        sites=lambda names: (
            ", ".join(map(str, list(names)[:10]))
            + (f", … ({len(names) - 10} autres)" if len(names) > 10 else "")
        ),
    ).reset_index()
    return out


def _french(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "type_site" in out.columns:
        out["type_site"] = out["type_site"].map(
            lambda k: SITE_KINDS[k].label if k in SITE_KINDS else k
        )
    return out.rename(columns=CSV_HEADERS)


def write_matches(
    scores: pd.DataFrame,
    output_dir: Path,
    *,
    excluded: pd.DataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    summary_frame: pd.DataFrame | None = None,
    exclusions: pd.DataFrame | None = None,
) -> list[Path]:
    """Write ``appariements.csv``, ``appariements_exclus.csv`` and ``appariements_solutions.csv``.

    ``appariements.csv`` holds each solution's explained best sites (ties included, same rank
    as everywhere else); ``appariements_exclus.csv`` one line per (solution, reason) with the
    number of sites and the first of them; ``appariements_solutions.csv`` one line per solution
    (status, unmeasured needs, best score, gap to the second site, stability).

    Parameters
    ----------
    scores : DataFrame
        From :func:`qmi_geo.matching.score_sites`.
    output_dir : Path
        Usually ``maps/<commune>/``.
    excluded : DataFrame, optional
        ``assess_sites(...).excluded``; site names are added when ``sites`` is given.
    sites : GeoDataFrame, optional
        The candidate sites, to name the excluded sites.
    summary_frame : DataFrame, optional
        ``assess_sites(...).summary``.
    exclusions : DataFrame, optional
        ``assess_sites(...).exclusion_summary()`` (used instead of ``excluded``).

    Returns
    -------
    list of Path
        The files written.
    """
    output_dir = Path(output_dir)
    written = [write_csv(_french(written_pairs(scores)), output_dir / "appariements.csv")]
    if excluded is not None or exclusions is not None:
        summary = exclusions if exclusions is not None else exclusions_summary(excluded, sites)
        written.append(write_csv(_french(summary), output_dir / "appariements_exclus.csv"))
    if summary_frame is not None:
        written.append(
            write_csv(
                summary_frame.rename(columns=CSV_HEADERS), output_dir / "appariements_solutions.csv"
            )
        )
    return written


def matches_layer(
    scores: pd.DataFrame, sites: gpd.GeoDataFrame, *, top_n: int | None = 5
) -> gpd.GeoDataFrame:
    """The ``appariements`` layer of the diagnostic GeoPackage (EPSG:2154).

    One feature per (solution, site) pair among each solution's ``top_n`` best sites, with the
    site's geometry and French field names.
    """
    scores = written_pairs(scores)
    best = scores if top_n is None else scores[scores["rang"] <= top_n]
    geo = sites[["site_id", "geometry"]].merge(best, on="site_id", how="inner")
    geo = gpd.GeoDataFrame(
        _french(geo.drop(columns="geometry")), geometry=geo.geometry.values, crs=sites.crs
    )
    return geo.sort_values(["id_solution", "rang"]).reset_index(drop=True)


def write_allocation(allocation: Allocation, output_dir: Path) -> list[Path]:
    """Write the allocation: three CSV files and the French text report ``repartition.txt``.

    The CSV files are ``repartition.csv``, ``repartition_communes.csv`` and
    ``solutions_non_attribuees.csv``.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    report = output_dir / "repartition.txt"
    _atomic.write_text(report, allocation.report())
    return [
        write_csv(_french(allocation.assignments), output_dir / "repartition.csv"),
        write_csv(
            allocation.by_commune.rename(
                columns={"nb_solutions": "nombre_solutions", "manque": "manque_pour_minimum"}
            ),
            output_dir / "repartition_communes.csv",
        ),
        write_csv(
            allocation.unassigned.rename(columns={"solution_id": "id_solution"}),
            output_dir / "solutions_non_attribuees.csv",
        ),
        report,
    ]


def matches_for_map(
    scores: pd.DataFrame, sites: gpd.GeoDataFrame, *, top_n: int | None = 3
) -> gpd.GeoDataFrame:
    """Each solution's ``top_n`` best pairs in the fields the web maps read.

    Fields: ``solution``, ``solution_nom``, ``site_nom``, ``type_site``, ``rang``, ``score``,
    ``raisons``; geometry of the site, EPSG:2154.
    """
    scores = written_pairs(scores)
    scores = scores[scores["rang"].notna()]  # a map numbers ranked sites only
    best = scores if top_n is None else scores[scores["rang"] <= top_n]
    geo = sites[["site_id", "geometry"]].merge(best, on="site_id", how="inner")
    out = pd.DataFrame(
        {
            "solution": geo["solution_id"],
            "solution_nom": geo["solution"],
            "site_nom": geo["nom_site"],
            "type_site": geo["type_site"],
            "rang": geo["rang"],
            "score": geo["total"].round(2),
            "raisons": geo["explication"],
            "ex_aequo": geo["ex_aequo"] if "ex_aequo" in geo.columns else False,
            "classement": geo["robustesse"] if "robustesse" in geo.columns else "",
        }
    )
    return gpd.GeoDataFrame(out, geometry=geo.geometry.values, crs=sites.crs)
