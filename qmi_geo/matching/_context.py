"""Per-site context of the suitability scores, computed once per site with spatial indexes.

:func:`site_context` measures, for every candidate site, what the criteria of
:mod:`qmi_geo.matching.suitability` need: sealed share, distance to the nearest QPV, break and
station, population density, and a *need* matrix (site × perception theme) with, for each cell,
the component that explains it (walk annotations, hot spots, workshop challenges, or a proxy from
the analytic layers when no walk data exist) and a French phrase.

Every query is an STRtree query over all sites at once (``sindex.query`` / ``sindex.nearest``);
the only Python loops run over themes or over the cells that end up in an explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo.style import BREAK_KINDS, THEMES

__all__ = ["DEFI", "NEED_RADIUS_M", "SiteContext", "de", "site_context", "theme_short"]

#: Radius (m) within which annotations, hot spots and challenges count as a need of a site.
NEED_RADIUS_M = 300.0

THEME_CODES: list[str] = list(THEMES)
_T = {code: i for i, code in enumerate(THEME_CODES)}

# need components
NONE, ANNOT, HOTSPOT, DEFI, HEAT, MINERAL, EXPOSURE, NUISANCE, FUB, BREAK = range(10)


def theme_short(code: str) -> str:
    """Short lowercase French name of a theme: « chaleur », « pollution de l'air »."""
    label = THEMES[code].label.split(",")[0]
    return label[0].lower() + label[1:]


@dataclass
class SiteContext:
    """Context measured for every site (arrays aligned on the sites)."""

    taux_impermeable: np.ndarray  # 0-1, NaN if unknown
    qpv_distance: np.ndarray  # m, inf if no QPV layer
    qpv_nom: np.ndarray
    coupure_distance: np.ndarray
    coupure_nom: np.ndarray
    gare_distance: np.ndarray
    gare_nom: np.ndarray
    densite: np.ndarray  # inhabitants per km², NaN if unknown
    need: np.ndarray  # (n_sites, n_themes) in [0, 1]
    need_component: np.ndarray  # (n_sites, n_themes) int code of the best component
    need_value: np.ndarray  # (n_sites, n_themes) number shown in the phrase (count, rank…)
    need_distance: np.ndarray  # (n_sites, n_themes) m
    defi: np.ndarray  # (n_sites, n_themes) workshop challenge score in [0, 1]
    defi_priorite: np.ndarray  # (n_sites, n_themes) priority of the best challenge
    defi_distance: np.ndarray  # (n_sites, n_themes) m
    available: dict[str, bool]  # which context layers were given

    def need_phrase(self, site: int, theme: int, component: int | None = None) -> str:
        """French phrase explaining the need of ``site`` for ``theme`` ('' if none).

        ``component=DEFI`` gives the phrase of the workshop challenge instead.
        """
        comp = int(self.need_component[site, theme]) if component is None else component
        value = self.need_value[site, theme]
        dist = self.need_distance[site, theme]
        name = theme_short(THEME_CODES[theme])
        where = "dans" if dist <= 1 or not np.isfinite(dist) else f"à {_m(dist)} d'"
        if comp == ANNOT:
            n = round(value)
            return (
                f"{n} annotation{'s' if n > 1 else ''} « {name} » de la marche à moins de "
                f"{_m(NEED_RADIUS_M)}"
            )
        if comp == HOTSPOT:
            n = round(value)
            return f"{where}{'' if dist > 1 else ' '}un point chaud « {name} » de {n} annotations"
        if comp == DEFI:
            p = round(self.defi_priorite[site, theme])
            dist = self.defi_distance[site, theme]
            return (
                f"dans la zone du défi « {name} » de l'atelier (priorité {p})"
                if dist <= 1
                else f"à {_m(dist)} d'un défi « {name} » de l'atelier (priorité {p})"
            )
        if comp == HEAT:
            return (
                f"IRIS plus exposé à la chaleur que {round(value * 100):.0f} % des IRIS de "
                "la Métropole"
            )
        if comp == MINERAL:
            return f"secteur imperméabilisé à {round(value * 100):.0f} %, exposé à la chaleur"
        if comp == EXPOSURE:
            return (
                f"IRIS plus exposé au bruit et à la pollution de l'air que "
                f"{round(value * 100):.0f} % des IRIS de la Métropole"
            )
        if comp == NUISANCE:
            n = round(value)
            return f"maille cumulant {n} nuisances environnementales (bruit, air)"
        if comp == FUB:
            n = round(value)
            return (
                f"à moins de 30 m d'une rue citée par {n} cycliste{'s' if n > 1 else ''} "
                "(baromètre FUB 2017)"
            )
        if comp == BREAK:
            return (
                f"à {_m(dist)} {de(str(self.coupure_nom[site]))}"
                if dist > 5
                else "coupure urbaine à franchir"
            )
        return ""


def de(noun: str) -> str:
    """French « de » + noun with the article contracted: « du cours d'eau », « de la voie »."""
    if noun.startswith("le "):
        return "du " + noun[3:]
    if noun.startswith("les "):
        return "des " + noun[4:]
    return "de " + noun


def _m(distance: float) -> str:
    """Format a distance in metres, rounded to 10 m (French thousands separator)."""
    value = int(round(float(distance) / 10.0) * 10) if distance >= 20 else round(distance)
    return f"{value:,} m".replace(",", "\u202f")


def _decay(distance: np.ndarray, radius: float) -> np.ndarray:
    return np.clip(1.0 - np.asarray(distance, dtype=float) / radius, 0.0, 1.0)


def _nearest(
    geoms: np.ndarray, layer: gpd.GeoDataFrame | None, label: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Distance to and label of the nearest feature of ``layer`` for every geometry."""
    n = len(geoms)
    dist = np.full(n, np.inf)
    names = np.full(n, None, dtype=object)
    if layer is None or len(layer) == 0 or n == 0:
        return dist, names
    valid = layer[~(layer.geometry.isna() | layer.geometry.is_empty)]
    if len(valid) == 0:
        return dist, names
    (src, tgt), d = valid.sindex.nearest(geoms, return_all=False, return_distance=True)
    dist[src] = d
    if label is not None:
        names[src] = np.asarray(label, dtype=object)[
            ~(layer.geometry.isna() | layer.geometry.is_empty).to_numpy()
        ][tgt]
    return dist, names


def _value_at(points: np.ndarray, layer: gpd.GeoDataFrame | None, column: str) -> np.ndarray:
    """Largest value of ``column`` among the polygons of ``layer`` containing each point."""
    out = np.full(len(points), np.nan)
    if layer is None or column not in layer.columns or len(layer) == 0:
        return out
    values = pd.to_numeric(layer[column], errors="coerce").to_numpy(dtype=float)
    src, tgt = layer.sindex.query(points, predicate="intersects")
    if len(src):
        s = pd.Series(values[tgt]).groupby(src).max()
        out[s.index.to_numpy()] = s.to_numpy()
    return out


def _break_names(coupures: gpd.GeoDataFrame) -> np.ndarray:
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


def site_context(
    sites: gpd.GeoDataFrame,
    *,
    context: Mapping[str, gpd.GeoDataFrame],
    annotations: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    defis: gpd.GeoDataFrame | None = None,
    need_radius_m: float = NEED_RADIUS_M,
) -> SiteContext:
    """Measure the context of every site (see the module docstring)."""
    geoms = sites.geometry.to_numpy()
    points = shapely.point_on_surface(geoms)
    n, k = len(sites), len(THEME_CODES)
    mineral_layer = context.get("surfaces_minerales")
    taux = _value_at(points, mineral_layer, "taux_impermeable")
    qpv = context.get("qpv")
    qpv_d, qpv_n = _nearest(
        geoms,
        qpv,
        qpv["lib_qp"].fillna(qpv["code_qp"]).to_numpy()
        if qpv is not None and "lib_qp" in qpv.columns
        else (qpv["code_qp"].to_numpy() if qpv is not None and "code_qp" in qpv.columns else None),
    )
    coupures = context.get("coupures")
    cp_d, cp_n = _nearest(geoms, coupures, _break_names(coupures) if coupures is not None else None)
    gares = context.get("gares")
    ga_d, ga_n = _nearest(
        geoms,
        gares,
        gares["nom"].to_numpy() if gares is not None and "nom" in gares.columns else None,
    )
    iris = context.get("iris")
    densite = np.full(n, np.nan)
    if iris is not None and "population" in iris.columns and len(iris):
        dens = pd.to_numeric(iris["population"], errors="coerce") / (iris.geometry.area / 1e6)
        densite = _value_at(points, iris.assign(_dens=dens), "_dens")

    need = np.zeros((n, k))
    defi = np.zeros((n, k))
    defi_prio = np.zeros((n, k))
    defi_dist = np.full((n, k), np.inf)
    comp = np.zeros((n, k), dtype=np.int8)
    value = np.zeros((n, k))
    dist = np.full((n, k), np.inf)

    def offer(
        theme: str, score: np.ndarray, code: int, val: np.ndarray | float, d: np.ndarray | float
    ) -> None:
        if theme not in _T:
            return
        t = _T[theme]
        better = score > need[:, t] + 1e-12
        need[better, t] = score[better]
        comp[better, t] = code
        value[better, t] = np.broadcast_to(val, (n,))[better]
        dist[better, t] = np.broadcast_to(d, (n,))[better]

    # proxies from the analytic layers (used when no walk data say more)
    heat_rank = _value_at(points, iris, "thermal_rank")
    ok = ~np.isnan(heat_rank)
    offer("chaleur", np.where(ok, 0.8 * np.nan_to_num(heat_rank), 0.0), HEAT, heat_rank, 0.0)
    ok = ~np.isnan(taux)
    for theme in ("chaleur", "manque_vegetation"):
        offer(theme, np.where(ok, 0.6 * np.nan_to_num(taux), 0.0), MINERAL, taux, 0.0)
    expo = _value_at(points, iris, "pollution_rank")
    for theme in ("pollution_air", "bruit"):
        offer(theme, 0.8 * np.nan_to_num(expo), EXPOSURE, expo, 0.0)
    nuis = _value_at(points, context.get("nuisances"), "nb_nuisances")
    for theme in ("pollution_air", "bruit"):
        offer(theme, np.clip(np.nan_to_num(nuis) / 4.0, 0, 1) * 0.8, NUISANCE, nuis, 0.0)
    cited = context.get("rues_citees")
    if cited is not None and len(cited) and "votes" in cited.columns:
        votes = pd.to_numeric(cited["votes"], errors="coerce").fillna(0).to_numpy()
        src, tgt = cited.sindex.query(geoms, predicate="dwithin", distance=30.0)
        v = np.zeros(n)
        if len(src):
            s = pd.Series(votes[tgt]).groupby(src).max()
            v[s.index.to_numpy()] = s.to_numpy()
        for theme in ("velo", "circulation"):
            offer(theme, 0.8 * (1 - np.exp(-v / 5.0)), FUB, v, 0.0)
    if coupures is not None and len(coupures):
        offer("coupure", 0.8 * _decay(cp_d, 150.0), BREAK, 0.0, cp_d)

    # walk annotations: weighted count of negative (and half of neutral) felt impressions
    if annotations is not None and len(annotations) and "theme" in annotations.columns:
        a = annotations[annotations["theme"].isin(_T)]
        if len(a):
            valence = (
                a["valence"].astype(str)
                if "valence" in a.columns
                else pd.Series("negatif", index=a.index)
            )
            w = np.where(valence == "negatif", 1.0, np.where(valence == "neutre", 0.5, 0.0))
            if "poids" in a.columns:
                w = w * pd.to_numeric(a["poids"], errors="coerce").fillna(1.0).to_numpy()
            if "intensite" in a.columns:
                inten = pd.to_numeric(a["intensite"], errors="coerce").to_numpy(dtype=float)
                w = w * np.where(np.isnan(inten), 1.0, (1.0 + inten) / 2.5)
            theme_idx = a["theme"].map(_T).to_numpy()
            src, tgt = a.sindex.query(geoms, predicate="dwithin", distance=need_radius_m)
            weighted = np.zeros((n, k))
            count = np.zeros((n, k))
            np.add.at(weighted, (src, theme_idx[tgt]), w[tgt])
            np.add.at(count, (src, theme_idx[tgt]), (w[tgt] > 0).astype(float))
            score = 1.0 - np.exp(-weighted / 3.0)
            for t in np.flatnonzero(count.sum(axis=0)):
                offer(THEME_CODES[t], score[:, t], ANNOT, count[:, t], need_radius_m)

    # hot spots: distance decay times size
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
            (src, tgt), dd = sub.sindex.nearest(geoms, return_all=False, return_distance=True)
            d = np.full(n, np.inf)
            d[src] = dd
            size = np.zeros(n)
            size[src] = sizes[mask].to_numpy()[tgt]
            offer(theme, _decay(d, need_radius_m) * (1 - np.exp(-size / 3.0)), HOTSPOT, size, d)

    # workshop challenges: distance decay over priority (1 = top priority)
    if defis is not None and len(defis) and "theme" in defis.columns:
        d_all = defis[defis["theme"].isin(_T)]
        if len(d_all):
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
        taux_impermeable=taux,
        qpv_distance=qpv_d,
        qpv_nom=qpv_n,
        coupure_distance=cp_d,
        coupure_nom=cp_n,
        gare_distance=ga_d,
        gare_nom=ga_n,
        densite=densite,
        need=need,
        need_component=comp,
        need_value=value,
        need_distance=dist,
        defi=defi,
        defi_priorite=defi_prio,
        defi_distance=defi_dist,
        available={
            "defis": defis is not None and len(defis) > 0,
            "mineralisation": mineral_layer is not None and len(mineral_layer) > 0,
            "qpv": qpv is not None,
            "coupures": coupures is not None and len(coupures) > 0,
            "transports": gares is not None and len(gares) > 0,
            "densite": bool(np.isfinite(densite).any()),
        },
    )
