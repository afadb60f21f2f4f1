"""Per-site evidence behind the suitability scores, measured once per site with spatial indexes.

:func:`site_context` measures, for every candidate site, the **evidence** that tells how much a
theme is needed there, each piece with its real source:

================  ===========================  ====================================================
evidence          themes it measures           source (layer kind / field)
================  ===========================  ====================================================
``thermique``     chaleur                      ``iris.thermal_rank`` (Underlaid, d'après CSTB)
``icu``           chaleur (fallback)           ``chaleur`` layer per postal code (IPR ICU /
                                               Cerema LCZ), used where no IRIS rank exists
``impermeable``   manque_vegetation            ``surfaces_minerales.taux_impermeable`` (MOS)
``nuisances``     pollution_air, bruit         ``nuisances.nb_nuisances`` (IPR 500 m grid);
                                               ``iris.pollution_rank`` only without the grid
``fub``           velo                         ``rues_citees.votes`` (baromètre FUB 2017)
``coupure``       coupure                      distance to a break × scarcity of crossings
``lcz_ruissellement`` eau                   Cerema LCZ 2022 impervious share per postal code
``lcz_vegetation`` biodiversite              Cerema LCZ 2022 vegetation share per postal code
``marche:<t>``    theme *t*                    walk annotations and their hot spots (one piece
                                               of evidence per theme: a hot spot is made of the
                                               same annotations); FUB annotations excluded
================  ===========================  ====================================================

Each piece of evidence is counted **once** per solution (a solution addressing air and noise
counts the nuisance grid once; the sealed share is either the ``mineralisation`` criterion or
the lack-of-greenery need, never both — see :mod:`qmi_geo.matching.suitability`). A theme with
no evidence in the quarter is « besoin non mesuré »: nothing else stands in for it.

The social-fragility criterion (``qpv`` weight) is measured apart: distance to a QPV, the IRIS
poverty rate or median income (Filosofi), the IPS of the nearest collège (DEPP). Workshop
challenges (``defis``) are their own criterion.

Every query is an STRtree query over all sites at once; phrases are built later, only for the
pairs that are written (:mod:`qmi_geo.matching._explain`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo.style import BREAK_KINDS, THEMES

__all__ = [
    "CROSSING_KINDS",
    "NEED_RADIUS_M",
    "Evidence",
    "SiteContext",
    "de",
    "site_context",
    "theme_short",
]

#: Radius (m) within which annotations, hot spots and challenges count as a need of a site.
NEED_RADIUS_M = 300.0
#: A collège within this distance (m) gives its IPS to a site.
IPS_RADIUS_M = 1_000.0
#: IPS scale: 1 at or below the low anchor, 0 at or above the high one (national mean ≈ 103).
IPS_LOW, IPS_HIGH = 80.0, 130.0
#: Median income per consumption unit (€): 1 at or below the low anchor, 0 at or above the high.
INCOME_LOW, INCOME_HIGH = 14_000.0, 32_000.0
#: Poverty rate (%) giving 1.
POVERTY_HIGH = 35.0
#: Distance (m) to the next crossing of a break at which a crossing counts as scarce (1).
SCARCE_CROSSING_M = 1_000.0
#: Site kinds that are crossings of a break (bridges and level/unknown-grade crossings).
CROSSING_KINDS = ("pont", "croisement")
QPV_RADIUS_M = 500.0

THEME_CODES: list[str] = list(THEMES)
_T = {code: i for i, code in enumerate(THEME_CODES)}
FUB_WALK_ID = "fub_barometre_2017"


def theme_short(code: str) -> str:
    """Short lowercase French name of a theme: « chaleur », « pollution de l'air »."""
    label = THEMES[code].label.split(",")[0]
    return label[0].lower() + label[1:]


def de(noun: str) -> str:
    """French « de » + noun with the article contracted: « du cours d'eau », « de la voie »."""
    if noun.startswith("le "):
        return "du " + noun[3:]
    if noun.startswith("les "):
        return "des " + noun[4:]
    return "de " + noun


@dataclass
class Evidence:
    """One piece of evidence measured at every site (arrays aligned on the sites)."""

    code: str
    themes: tuple[str, ...]
    score: np.ndarray  # [0, 1]
    value: np.ndarray  # the number the phrase shows
    distance: np.ndarray  # m (0 when the site lies in the measured zone)
    source: np.ndarray  # source name (layer ``source`` column or walk file), '' if none
    extra: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class SiteContext:
    """Everything measured for every site."""

    evidence: list[Evidence]
    taux_impermeable: np.ndarray  # 0-1, NaN if unknown
    taux_source: np.ndarray
    qpv_distance: np.ndarray  # m, inf if no QPV layer
    qpv_nom: np.ndarray
    qpv_source: np.ndarray
    pauvrete: np.ndarray  # % (NaN unknown)
    revenu: np.ndarray  # €/UC (NaN unknown)
    iris_source: np.ndarray
    ips: np.ndarray  # IPS of the nearest collège within IPS_RADIUS_M (NaN none)
    ips_nom: np.ndarray
    ips_distance: np.ndarray
    ips_source: np.ndarray
    social: np.ndarray  # [0, 1], NaN when nothing measures it
    coupure_distance: np.ndarray
    coupure_nom: np.ndarray
    coupure_source: np.ndarray
    gare_distance: np.ndarray
    gare_nom: np.ndarray
    gare_source: np.ndarray
    densite: np.ndarray  # inhabitants per km², NaN if unknown
    densite_source: np.ndarray
    defi: np.ndarray  # (n_sites, n_themes) workshop challenge score in [0, 1]
    defi_priorite: np.ndarray
    defi_distance: np.ndarray
    available: dict[str, bool]
    walks: dict[str, str] = field(default_factory=dict)  # walk id -> French label

    @functools.cached_property
    def scores(self) -> np.ndarray:
        """(n_sites, n_evidence) matrix of evidence scores (built once; evidence is final)."""
        if not self.evidence:
            return np.zeros((len(self.taux_impermeable), 0))
        return np.column_stack([e.score for e in self.evidence])

    def evidence_themes(self) -> np.ndarray:
        """(n_evidence, n_themes) boolean: which themes each piece of evidence measures."""
        out = np.zeros((len(self.evidence), len(THEME_CODES)), dtype=bool)
        for i, e in enumerate(self.evidence):
            out[i, [_T[t] for t in e.themes]] = True
        return out

    def measured_themes(self) -> set[str]:
        """Themes measured by some evidence or some workshop challenge in the quarter."""
        themes = {t for e in self.evidence for t in e.themes}
        themes |= {THEME_CODES[t] for t in np.flatnonzero(self.defi.max(axis=0) > 0)}
        return themes


def _decay(distance: np.ndarray, radius: float) -> np.ndarray:
    return np.clip(1.0 - np.asarray(distance, dtype=float) / radius, 0.0, 1.0)


def _sources(layer: gpd.GeoDataFrame | None, default: str) -> np.ndarray:
    if layer is None:
        return np.array([], dtype=object)
    if "source" in layer.columns:
        return layer["source"].fillna(default).astype(str).to_numpy(dtype=object)
    return np.full(len(layer), default, dtype=object)


def _valid(layer: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if layer is None or len(layer) == 0:
        return None
    ok = ~(layer.geometry.isna() | layer.geometry.is_empty)
    return layer[ok.to_numpy()] if len(layer[ok.to_numpy()]) else None


def _nearest(
    geoms: np.ndarray, layer: gpd.GeoDataFrame | None, label: str | None, default_source: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distance to, label and source of the nearest feature of ``layer``."""
    n = len(geoms)
    dist = np.full(n, np.inf)
    names = np.full(n, None, dtype=object)
    srcs = np.full(n, "", dtype=object)
    layer = _valid(layer)
    if layer is None or n == 0:
        return dist, names, srcs
    (src, tgt), d = layer.sindex.nearest(geoms, return_all=False, return_distance=True)
    dist[src] = d
    if label is not None and label in layer.columns:
        names[src] = layer[label].to_numpy(dtype=object)[tgt]
    srcs[src] = _sources(layer, default_source)[tgt]
    return dist, names, srcs


def _value_at(
    points: np.ndarray, layer: gpd.GeoDataFrame | None, column: str, default_source: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Largest value of ``column`` among the polygons containing each point, its row and source."""
    out = np.full(len(points), np.nan)
    row = np.full(len(points), -1)
    srcs = np.full(len(points), "", dtype=object)
    layer = _valid(layer)
    if layer is None or column not in layer.columns:
        return out, row, srcs
    values = pd.to_numeric(layer[column], errors="coerce").to_numpy(dtype=float)
    src, tgt = layer.sindex.query(points, predicate="intersects")
    keep = ~np.isnan(values[tgt])
    src, tgt = src[keep], tgt[keep]
    if len(src):
        order = np.lexsort((-values[tgt], src))  # per site, largest value first
        src, tgt = src[order], tgt[order]
        first = np.r_[True, src[1:] != src[:-1]]
        out[src[first]] = values[tgt[first]]
        row[src[first]] = tgt[first]
        srcs[src[first]] = _sources(layer, default_source)[tgt[first]]
    return out, row, srcs


#: Source name of the Cerema LCZ table per postal code (``layers/catalogue.toml``).
LCZ_SOURCE = "lcz_cerema_codes_postaux"


def _lcz_evidence(points: np.ndarray, communes: gpd.GeoDataFrame | None) -> list[Evidence]:
    """Stormwater runoff (``eau``) and lack of vegetation for biodiversity, from Cerema's LCZ.

    The Cerema LCZ 2022 table gives, per postal code of Île-de-France, the impervious mineral
    share of the ground (``ror``) and the vegetation share (``ver``); a site takes the mean of
    the postal codes of the commune it lies in. The score is the share of the region's postal
    codes with a lower impervious share (runoff: rain that the ground does not absorb) or a
    higher vegetation share (the less vegetation, the more a biodiversity action is needed).
    Commune-level figures: they tell communes apart, not the sites of one commune.
    """
    layer = _valid(communes)
    if layer is None or "insee" not in layer.columns or not len(points):
        return []
    from qmi_geo.layers.catalogue import load_tables
    from qmi_geo.layers.communes import communes_2026

    tables = load_tables()
    if LCZ_SOURCE not in tables or not tables[LCZ_SOURCE].path.exists():
        return []
    lcz = pd.read_csv(tables[LCZ_SOURCE].path, dtype={"code_postal": str})
    lcz = lcz.set_index("code_postal")[["ror", "ver"]].astype(float).dropna()
    table = communes_2026()
    codes = layer["insee"].astype(str).to_numpy()
    ror = np.full(len(codes), np.nan)
    ver = np.full(len(codes), np.nan)
    for i, insee in enumerate(codes):
        if insee in table.index:
            rows = lcz.reindex(list(table.at[insee, "codes_postaux"])).dropna()
            if len(rows):
                ror[i], ver[i] = rows["ror"].mean(), rows["ver"].mean()
    src, tgt = layer.sindex.query(points, predicate="intersects")
    first = np.r_[True, src[1:] != src[:-1]] if len(src) else np.zeros(0, dtype=bool)
    site_ror = np.full(len(points), np.nan)
    site_ver = np.full(len(points), np.nan)
    site_ror[src[first]] = ror[tgt[first]]
    site_ver[src[first]] = ver[tgt[first]]
    known = np.isfinite(site_ror)
    if not known.any():
        return []
    ref_ror, ref_ver = np.sort(lcz["ror"].to_numpy()), np.sort(lcz["ver"].to_numpy())
    runoff = np.searchsorted(ref_ror, np.nan_to_num(site_ror)) / len(ref_ror)
    lack = 1.0 - np.searchsorted(ref_ver, np.nan_to_num(site_ver), side="right") / len(ref_ver)
    source = np.where(known, LCZ_SOURCE, "").astype(object)
    zeros = np.zeros(len(points))
    return [
        Evidence(
            "lcz_ruissellement",
            ("eau",),
            np.where(known, runoff, 0.0),
            site_ror / 100.0,
            zeros,
            source,
            {"rang": runoff},
        ),
        Evidence(
            "lcz_vegetation",
            ("biodiversite",),
            np.where(known, lack, 0.0),
            site_ver / 100.0,
            zeros,
            source,
            {"rang": lack},
        ),
    ]


def break_names(coupures: gpd.GeoDataFrame) -> np.ndarray:
    """« la voie ferrée RER C », « le cours d'eau la Seine » for each break."""
    article = {"rail": "la voie ferrée", "route": "la voie rapide", "eau": "le cours d'eau"}
    kinds = (
        coupures["type"].astype(str)
        if "type" in coupures.columns
        else pd.Series("", index=coupures.index)
    )
    names = coupures["nom"] if "nom" in coupures.columns else pd.Series(None, index=coupures.index)
    out = []
    for k, n in zip(kinds, names, strict=False):
        base = article.get(k, BREAK_KINDS[k].label.lower() if k in BREAK_KINDS else "la coupure")
        out.append(f"{base} {n}" if isinstance(n, str) and n.strip() else base)
    return np.array(out, dtype=object)


def walk_labels(annotations: gpd.GeoDataFrame) -> dict[str, str]:
    """French label of each walk: its date, or « synthétique » and its file when synthetic."""
    labels: dict[str, str] = {}
    if "marche" not in annotations.columns:
        return {"": "de la marche sensible"}
    files = (
        annotations["source_fichier"].astype(str)
        if "source_fichier" in annotations.columns
        else pd.Series("", index=annotations.index)
    )
    times = (
        pd.to_datetime(annotations["horodatage"], errors="coerce")
        if "horodatage" in annotations.columns
        else pd.Series(pd.NaT, index=annotations.index)
    )
    for walk, idx in annotations.groupby(annotations["marche"].astype(str)).groups.items():
        names = sorted({f for f in files.loc[idx] if f and f != "nan"})
        synthetic = any("synth" in f.lower() for f in names) or "synth" in walk.lower()
        if synthetic:
            labels[walk] = (
                "de la marche sensible synthétique"
                + (f" « {names[0]} »" if names else "")
                + " (données de démonstration)"
            )
            continue
        day = times.loc[idx].dropna()
        labels[walk] = (
            f"de la marche sensible du {day.min():%d/%m/%Y}"
            if len(day)
            else f"de la marche sensible « {names[0] if names else walk} »"
        )
    return labels


def site_context(
    sites: gpd.GeoDataFrame,
    *,
    context: Mapping[str, gpd.GeoDataFrame],
    annotations: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    defis: gpd.GeoDataFrame | None = None,
    need_radius_m: float = NEED_RADIUS_M,
) -> SiteContext:
    """Measure the evidence of every site (see the module docstring)."""
    geoms = sites.geometry.to_numpy()
    points = shapely.point_on_surface(geoms)
    n, k = len(sites), len(THEME_CODES)
    evidence: list[Evidence] = []
    zeros = np.zeros(n)

    mineral = context.get("surfaces_minerales")
    taux, _, taux_src = _value_at(points, mineral, "taux_impermeable", "surfaces_minerales")
    if np.isfinite(taux).any():
        evidence.append(
            Evidence(
                "impermeable",
                ("manque_vegetation",),
                np.nan_to_num(taux),
                taux,
                zeros,
                taux_src,
            )
        )

    iris = context.get("iris")
    rank, rank_row, rank_src = _value_at(points, iris, "thermal_rank", "iris")
    heat_layer = context.get("chaleur")
    icu_col = next(
        (
            c
            for c in ("alea_chaleur", "note_alea", "imu", "chaleur")
            if heat_layer is not None and c in heat_layer.columns
        ),
        None,
    )
    if icu_col is not None and heat_layer is not None:
        icu, _, icu_src = _value_at(points, heat_layer, icu_col, "chaleur")
        vals = pd.to_numeric(heat_layer[icu_col], errors="coerce")
        lo, hi = float(vals.min()), float(vals.max())
        icu_score = np.clip((icu - lo) / (hi - lo), 0, 1) if hi > lo else np.where(icu > 0, 1.0, 0)
    else:
        icu = np.full(n, np.nan)
        icu_src = np.full(n, "", dtype=object)
        icu_score = icu
    has_rank = np.isfinite(rank)
    if has_rank.any():
        nom = (
            iris["nom_iris"].to_numpy(dtype=object)
            if iris is not None and "nom_iris" in iris.columns
            else np.full(len(iris) if iris is not None else 0, None, dtype=object)
        )
        evidence.append(
            Evidence(
                "thermique",
                ("chaleur",),
                np.nan_to_num(rank),
                rank,
                zeros,
                rank_src,
                {"iris": np.where(rank_row >= 0, nom[np.maximum(rank_row, 0)], "")},
            )
        )
    if np.isfinite(icu).any() and not has_rank.all():  # the coarser source fills the gaps only
        use = ~has_rank & np.isfinite(icu)
        evidence.append(
            Evidence(
                "icu",
                ("chaleur",),
                np.where(use, np.nan_to_num(icu_score), 0.0),
                icu,
                zeros,
                np.where(use, icu_src, ""),
            )
        )

    nuis, _, nuis_src = _value_at(points, context.get("nuisances"), "nb_nuisances", "nuisances")
    if np.isfinite(nuis).any():
        evidence.append(
            Evidence(
                "nuisances",
                ("pollution_air", "bruit"),
                np.clip(np.nan_to_num(nuis) / 4.0, 0, 1),
                nuis,
                zeros,
                nuis_src,
            )
        )
    else:
        expo, _, expo_src = _value_at(points, iris, "pollution_rank", "iris")
        if np.isfinite(expo).any():
            evidence.append(
                Evidence(
                    "exposition",
                    ("pollution_air", "bruit"),
                    np.nan_to_num(expo),
                    expo,
                    zeros,
                    expo_src,
                )
            )

    cited = _valid(context.get("rues_citees"))
    if cited is not None and "votes" in cited.columns:
        votes = pd.to_numeric(cited["votes"], errors="coerce").fillna(0).to_numpy()
        src, tgt = cited.sindex.query(geoms, predicate="dwithin", distance=30.0)
        v = np.zeros(n)
        street = np.full(n, None, dtype=object)
        fsrc = np.full(n, "", dtype=object)
        if len(src):
            order = np.lexsort((-votes[tgt], src))
            src, tgt = src[order], tgt[order]
            first = np.r_[True, src[1:] != src[:-1]]
            v[src[first]] = votes[tgt[first]]
            names = (
                cited["nom"].to_numpy(dtype=object)
                if "nom" in cited.columns
                else np.full(len(cited), None)
            )
            street[src[first]] = names[tgt[first]]
            fsrc[src[first]] = _sources(cited, "rues_citees")[tgt[first]]
        evidence.append(
            Evidence("fub", ("velo",), 1 - np.exp(-v / 5.0), v, zeros, fsrc, {"rue": street})
        )

    coupures = _valid(context.get("coupures"))
    cp_d, cp_n, cp_s = _nearest(geoms, coupures, None, "coupures")
    if coupures is not None:
        names = break_names(coupures)
        (src, tgt), _ = coupures.sindex.nearest(geoms, return_all=False, return_distance=True)
        cp_n[src] = names[tgt]
        gap = _next_crossing(sites, geoms)
        scarcity = np.where(np.isfinite(gap), np.clip(gap / SCARCE_CROSSING_M, 0, 1), 1.0)
        evidence.append(
            Evidence(
                "coupure",
                ("coupure",),
                _decay(cp_d, 150.0) * (0.5 + 0.5 * scarcity),
                gap,
                cp_d,
                cp_s,
            )
        )

    evidence += _lcz_evidence(points, context.get("communes"))

    walks: dict[str, str] = {}
    a = None
    if annotations is not None and len(annotations) and "theme" in annotations.columns:
        a = annotations[annotations["theme"].isin(_T)]
        if "marche" in a.columns:
            a = a[a["marche"].astype(str) != FUB_WALK_ID]  # FUB streets are their own evidence
    if (a is not None and len(a)) or (hotspots is not None and len(hotspots)):
        if a is None or not len(a):
            a = gpd.GeoDataFrame({"theme": [], "marche": []}, geometry=[], crs=sites.crs)
        walks = walk_labels(a) if len(a) else {"": "de la marche sensible"}
        evidence += _walk_evidence(a, hotspots, geoms, need_radius_m, walks)

    qpv = context.get("qpv")
    qpv_d, qpv_n, qpv_s = _nearest(geoms, qpv, "lib_qp", "qpv")
    if qpv is not None and "code_qp" in qpv.columns:
        _, codes, _ = _nearest(geoms, qpv, "code_qp", "qpv")
        qpv_n = np.where(pd.isna(qpv_n), codes, qpv_n)
    poverty_col = next(
        (
            c
            for c in ("filo2021_poverty_rate_pct", "taux_pauvrete")
            if iris is not None and c in iris.columns
        ),
        "taux_pauvrete",
    )
    pauvrete, _, pov_src = _value_at(points, iris, poverty_col, "iris")
    revenu, _, rev_src = _value_at(points, iris, "revenu_median", "iris")
    colleges = _colleges(context)
    ips_d, ips_nom, ips_s = _nearest(geoms, colleges, "nom", "sites")
    ips = np.full(n, np.nan)
    if colleges is not None:
        (src, tgt), _ = colleges.sindex.nearest(geoms, return_all=False, return_distance=True)
        ips[src] = colleges["_ips"].to_numpy(dtype=float)[tgt]
    ips = np.where(ips_d <= IPS_RADIUS_M, ips, np.nan)
    parts = []
    if qpv is not None:
        parts.append(_decay(qpv_d, QPV_RADIUS_M))
    if np.isfinite(pauvrete).any():
        parts.append(np.clip(pauvrete / POVERTY_HIGH, 0, 1))
    elif np.isfinite(revenu).any():
        parts.append(np.clip((INCOME_HIGH - revenu) / (INCOME_HIGH - INCOME_LOW), 0, 1))
    if np.isfinite(ips).any():
        parts.append(np.clip((IPS_HIGH - ips) / (IPS_HIGH - IPS_LOW), 0, 1))
    if parts:
        stack = np.vstack(parts)
        ok = np.isfinite(stack)
        social = np.where(
            ok.any(axis=0),
            np.where(ok, stack, 0.0).sum(axis=0) / np.maximum(ok.sum(axis=0), 1),
            np.nan,
        )
    else:
        social = np.full(n, np.nan)
    iris_src = np.where(pov_src != "", pov_src, rev_src)

    gares = context.get("gares")
    ga_d, ga_n, ga_s = _nearest(geoms, gares, "nom", "gares")
    densite = np.full(n, np.nan)
    dens_src = np.full(n, "", dtype=object)
    if iris is not None and "population" in iris.columns and len(iris):
        dens = pd.to_numeric(iris["population"], errors="coerce") / (iris.geometry.area / 1e6)
        densite, _, dens_src = _value_at(points, iris.assign(_dens=dens), "_dens", "iris")

    defi = np.zeros((n, k))
    defi_prio = np.zeros((n, k))
    defi_dist = np.full((n, k), np.inf)
    if defis is not None and len(defis) and "theme" in defis.columns:
        d_all = _valid(defis[defis["theme"].isin(_T)])
        if d_all is not None:
            prio = (
                pd.to_numeric(
                    d_all.get("priorite", pd.Series(1, index=d_all.index)), errors="coerce"
                )
                .fillna(1)
                .clip(lower=1)
                .to_numpy()
            )
            src, tgt = d_all.sindex.query(geoms, predicate="dwithin", distance=need_radius_m)
            dd = shapely.distance(geoms[src], d_all.geometry.to_numpy()[tgt])
            score = _decay(dd, need_radius_m) ** 0.5 / prio[tgt]
            theme_idx = d_all["theme"].map(_T).to_numpy()[tgt]
            frame = (
                pd.DataFrame({"s": src, "t": theme_idx, "score": score, "p": prio[tgt], "d": dd})
                .sort_values("score")
                .drop_duplicates(["s", "t"], keep="last")
            )
            s_i, t_i = frame["s"].to_numpy(), frame["t"].to_numpy(dtype=int)
            defi[s_i, t_i] = frame["score"].to_numpy()
            defi_prio[s_i, t_i] = frame["p"].to_numpy()
            defi_dist[s_i, t_i] = frame["d"].to_numpy()

    return SiteContext(
        evidence=evidence,
        taux_impermeable=taux,
        taux_source=taux_src,
        qpv_distance=qpv_d,
        qpv_nom=qpv_n,
        qpv_source=qpv_s,
        pauvrete=pauvrete if np.isfinite(pauvrete).any() else np.full(n, np.nan),
        revenu=revenu if not np.isfinite(pauvrete).any() else np.full(n, np.nan),
        iris_source=iris_src,
        ips=ips,
        ips_nom=ips_nom,
        ips_distance=ips_d,
        ips_source=ips_s,
        social=social,
        coupure_distance=cp_d,
        coupure_nom=cp_n,
        coupure_source=cp_s,
        gare_distance=ga_d,
        gare_nom=ga_n,
        gare_source=ga_s,
        densite=densite,
        densite_source=dens_src,
        defi=defi,
        defi_priorite=defi_prio,
        defi_distance=defi_dist,
        available={
            "defis": bool(defi.max(initial=0) > 0) or (defis is not None and len(defis) > 0),
            "mineralisation": bool(np.isfinite(taux).any()),
            "qpv": bool(np.isfinite(social).any()),
            "coupures": coupures is not None,
            "transports": gares is not None and len(gares) > 0,
            "densite": bool(np.isfinite(densite).any()),
        },
        walks=walks,
    )


def _colleges(context: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame | None:
    """Collèges with an IPS, from the ``colleges`` layer or the sites layer."""
    for kind in ("colleges", "sites"):
        layer = _valid(context.get(kind))
        if layer is None:
            continue
        col = next((c for c in ("ips_2023", "ips") if c in layer.columns), None)
        if col is None:
            continue
        ips = pd.to_numeric(layer[col], errors="coerce")
        out = layer[ips.notna().to_numpy()]
        if len(out):
            out = out.assign(_ips=ips[ips.notna()].to_numpy())
            if "nom" not in out.columns:
                out = out.assign(nom="collège")
            return out
    return None


def _next_crossing(sites: gpd.GeoDataFrame, geoms: np.ndarray) -> np.ndarray:
    """Distance (m) from each site to the nearest *other* crossing site (inf if none)."""
    n = len(geoms)
    out = np.full(n, np.inf)
    if "type" not in sites.columns:
        return out
    is_cross = sites["type"].isin(CROSSING_KINDS).to_numpy()
    if is_cross.sum() < 2:
        return out
    cross = geoms[is_cross]
    tree = shapely.STRtree(cross)
    # nearest crossing that is not the site itself (exclusive drops equal geometries)
    (src, _), d = tree.query_nearest(geoms, return_distance=True, exclusive=True, all_matches=False)
    out[src] = d
    return out


def _walk_evidence(
    a: gpd.GeoDataFrame,
    hotspots: gpd.GeoDataFrame | None,
    geoms: np.ndarray,
    radius: float,
    walks: dict[str, str],
) -> list[Evidence]:
    """One piece of evidence per theme: walk annotations nearby or their hot spot."""
    n, k = len(geoms), len(THEME_CODES)
    valence = a["valence"].astype(str) if "valence" in a.columns else pd.Series("negatif", a.index)
    w = np.where(valence == "negatif", 1.0, np.where(valence == "neutre", 0.5, 0.0))
    if "intensite" in a.columns:
        inten = pd.to_numeric(a["intensite"], errors="coerce").to_numpy(dtype=float)
        w = w * np.where(np.isnan(inten), 1.0, (1.0 + inten) / 2.5)
    theme_idx = a["theme"].map(_T).to_numpy()
    walk_ids = a["marche"].astype(str).to_numpy() if "marche" in a.columns else np.full(len(a), "")
    walk_codes, walk_idx = np.unique(walk_ids, return_inverse=True)
    if not len(walk_codes):
        walk_codes = np.array([""])
    if len(a):
        src, tgt = a.sindex.query(geoms, predicate="dwithin", distance=radius)
    else:
        src, tgt = np.array([], dtype=int), np.array([], dtype=int)
    weighted = np.zeros((n, k))
    count = np.zeros((n, k))
    np.add.at(weighted, (src, theme_idx[tgt]), w[tgt])
    np.add.at(count, (src, theme_idx[tgt]), (w[tgt] > 0).astype(float))
    per_walk = np.zeros((n, k, len(walk_codes)))
    np.add.at(per_walk, (src, theme_idx[tgt], walk_idx[tgt]), (w[tgt] > 0).astype(float))
    main_walk = walk_codes[per_walk.argmax(axis=2)]  # (n, k)
    annot_score = 1.0 - np.exp(-weighted / 3.0)
    src_file = (
        a["source_fichier"].astype(str).to_numpy(dtype=object)
        if "source_fichier" in a.columns
        else walk_ids.astype(object)
    )
    file_of_walk = {
        wk: (src_file[walk_ids == wk][:1].tolist() or ["marche"])[0] for wk in walk_codes
    }
    spot_score = np.zeros((n, k))
    spot_size = np.zeros((n, k))
    spot_dist = np.full((n, k), np.inf)
    if hotspots is not None and len(hotspots):
        col = "theme" if "theme" in hotspots.columns else "theme_dominant"
        themes = hotspots[col].astype(str)
        if "theme_dominant" in hotspots.columns:
            themes = themes.where(themes.isin(_T), hotspots["theme_dominant"].astype(str))
        sizes = pd.to_numeric(
            hotspots.get("n_annotations", pd.Series(3, index=hotspots.index)), errors="coerce"
        ).fillna(0)
        for theme in sorted(set(themes) & set(_T)):
            mask = (themes == theme).to_numpy()
            sub = hotspots[mask]
            (s2, t2), dd = sub.sindex.nearest(geoms, return_all=False, return_distance=True)
            t = _T[theme]
            spot_dist[s2, t] = dd
            spot_size[s2, t] = sizes[mask].to_numpy()[t2]
            spot_score[:, t] = _decay(spot_dist[:, t], radius) * (1 - np.exp(-spot_size[:, t] / 3))
    out = []
    present = np.union1d(
        np.unique(theme_idx), np.flatnonzero(spot_score.max(axis=0, initial=0) > 0)
    )
    for t in present.astype(int):
        use_spot = spot_score[:, t] > annot_score[:, t]
        score = np.maximum(spot_score[:, t], annot_score[:, t])
        walk = main_walk[:, t]
        source = np.array(
            [file_of_walk[wk] if s > 0 else "" for wk, s in zip(walk, score, strict=True)],
            dtype=object,
        )
        out.append(
            Evidence(
                f"marche:{THEME_CODES[t]}",
                (THEME_CODES[t],),
                score,
                np.where(use_spot, spot_size[:, t], count[:, t]),
                np.where(use_spot, spot_dist[:, t], radius),
                source,
                {"point_chaud": use_spot, "marche": walk},
            )
        )
    return out
