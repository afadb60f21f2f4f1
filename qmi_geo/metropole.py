"""The metropolitan batch: one diagnostic per commune on ``dask.distributed``.

:func:`run_metropole` submits :func:`diagnose_commune` — one pure function per commune — with
``Client.map`` to a :class:`~dask.distributed.LocalCluster` of local worker processes by
default, or to a running scheduler (``tcp://host:8786``): the same code. A commune that fails
is reported (``echecs.csv``) without stopping the others. Each commune's outputs are those of
``qmi diagnose`` (same layers, walk and indicator stages, so the same values) in
``<sortie>/<commune>/``; the metropolitan outputs are written with
:func:`write_metropole_outputs`:

* ``metropole_indicateurs.csv`` — one row per commune, one column per indicator (Excel: UTF-8
  with BOM, ``;``, decimal comma), with its median and each commune's rank;
* ``metropole.gpkg`` — the same, one polygon per commune, for QGIS;
* ``comparaison_metropole.html`` — a self-contained comparison page (no network);
* ``cartes/<indicateur>.png`` — choropleth maps of the Métropole.
"""

from __future__ import annotations

import base64
import html
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MAP_INDICATORS",
    "MetropoleResult",
    "diagnose_commune",
    "metropolitan_table",
    "reference_table",
    "run_metropole",
    "write_metropole_outputs",
]

log = logging.getLogger(__name__)

#: Indicators drawn as choropleth maps of the Métropole (code -> French title)
MAP_INDICATORS: dict[str, str] = {
    "population": "Population (INSEE)",
    "part_qpv": "Part de la commune en QPV (%)",
    "revenu_median": "Revenu médian (€ par UC)",
    "part_impermeable": "Surface imperméabilisée (MOS, %)",
    "part_nuisances_2plus": "Part cumulant au moins 2 nuisances (%)",
    "chaleur_alean_note": "Aléa chaleur de nuit (ICU)",
    "ips_colleges": "IPS moyen des collèges",
    "nb_gares": "Gares et stations",
}


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def diagnose_commune(insee: str, output_root: str, *, with_map: bool = False) -> dict[str, Any]:
    """Diagnose one commune (the task each dask worker runs); never raises.

    Runs the stages of ``qmi diagnose`` that the figures come from (layers, walks and FUB
    streets, indicators; the web map too with ``with_map``) into ``<output_root>/<slug>/``.
    Returns ``{"insee", "nom", "ok", "erreur", "indicateurs" (records), "secondes",
    "cpu_secondes", "memoire_max_mo" (the worker's peak RSS so far), "processus" (its pid)}``.
    """
    from qmi_geo.errors import QmiGeoError
    from qmi_geo.pipeline import Stage, diagnose, indicators_stage, map_stage, walks_stage
    from qmi_geo.settings import settings
    from qmi_geo.spec import load_spec

    start, cpu = time.perf_counter(), time.process_time()
    out: dict[str, Any] = {"insee": insee, "nom": insee, "ok": False, "erreur": ""}
    try:
        with settings.override(progress=False):
            spec = load_spec(insee)
            out["nom"] = spec.name
            stages: list[Stage] = [walks_stage, indicators_stage]
            if with_map:
                stages.append(map_stage)
            result = diagnose(spec, output_dir=Path(output_root) / spec.slug, stages=stages)
        table = result.products["indicators"]
        out["indicateurs"] = table.to_dict(orient="records")
        out["couverture"] = dict(result.layerset.coverage)
        out["sources"] = {s.name: s.kind for s in result.layerset.sources}
        out["ok"] = True
    except QmiGeoError as exc:
        out["erreur"] = str(exc)
    except Exception as exc:  # a bug in one commune must not stop the 129 others
        out["erreur"] = f"erreur inattendue ({type(exc).__name__}) : {exc}"
    out["secondes"] = time.perf_counter() - start
    out["cpu_secondes"] = time.process_time() - cpu
    out["memoire_max_mo"] = _peak_rss_mb()
    out["processus"] = os.getpid()
    return out


@dataclass
class MetropoleResult:
    """What a metropolitan batch produced."""

    results: list[dict[str, Any]]
    output_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failures(self) -> list[dict[str, Any]]:
        """The communes that failed, with their error."""
        return [r for r in self.results if not r["ok"]]


def _client(scheduler: str | None, n_workers: int | None) -> Any:
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout="20s")
    cluster = LocalCluster(
        n_workers=n_workers or min(2, os.cpu_count() or 1),
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: several clusters may run at once
        silence_logs=logging.ERROR,
    )
    return Client(cluster)


def run_metropole(
    codes: Sequence[str],
    output_dir: Path,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    with_map: bool = False,
    progress: bool | None = None,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> MetropoleResult:
    """Diagnose ``codes`` on a dask cluster and write the metropolitan outputs.

    ``scheduler`` is the address of a running dask scheduler; without it a ``LocalCluster``
    of ``n_workers`` local processes (default 2, one thread each) is started and closed.
    """
    from dask.distributed import as_completed
    from tqdm.auto import tqdm

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    show = sys.stderr.isatty() if progress is None else progress
    results: list[dict[str, Any]] = []
    client = _client(scheduler, n_workers)
    try:
        futures = client.map(
            diagnose_commune,
            list(codes),
            output_root=str(output_dir),
            with_map=with_map,
            pure=False,
            key=[f"commune-{c}" for c in codes],
        )
        code_of = {f.key: c for f, c in zip(futures, codes, strict=True)}
        bar = tqdm(total=len(futures), desc="Communes", unit="commune", disable=not show)
        for future in as_completed(futures):
            try:
                res = future.result()
            except Exception as exc:  # worker lost, task killed...
                code = code_of[future.key]
                res = {"insee": code, "nom": code, "ok": False, "erreur": f"tâche perdue : {exc}"}
            results.append(res)
            state = "ok" if res["ok"] else f"ÉCHEC : {res['erreur']}"
            log.info(
                "commune %s (%s) : %s en %.1f s",
                res["nom"],
                res["insee"],
                state,
                res.get("secondes", 0),
            )
            bar.update(1)
            if on_result is not None:
                on_result(res)
        bar.close()
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None and not scheduler:
            cluster.close()
    order = {c: i for i, c in enumerate(codes)}
    results.sort(key=lambda r: order.get(r["insee"], 0))
    out = MetropoleResult(results, output_dir, seconds=time.perf_counter() - start)
    out.files = write_metropole_outputs(results, output_dir)
    return out


def metropolitan_table(results: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per commune (index INSEE), one column per indicator code (values).

    A value whose status is « non disponible » is NaN.
    """
    rows = {}
    order: dict[str, None] = {}
    for res in results:
        if not res.get("ok"):
            continue
        table = pd.DataFrame(res["indicateurs"])
        vals = table["valeur"].where(table["statut"] != "non disponible")
        rows[res["insee"]] = pd.Series(vals.to_numpy(dtype=float), index=table["code"].to_numpy())
        order.update(dict.fromkeys(table["code"]))
    wide = pd.DataFrame(rows).T.reindex(columns=list(order))
    wide.index.name = "insee"
    return wide


def reference_table(wide: pd.DataFrame) -> pd.DataFrame:
    """Long table ``insee, code, valeur, mediane, rang, n``: each commune's rank per indicator.

    ``rang`` 1 is the highest value among the communes that have one (``n`` of them); ties
    share the best rank. The median is over the same communes.
    """
    ranks = wide.rank(ascending=False, method="min")
    long = wide.stack(future_stack=True).rename("valeur").reset_index()
    long.columns = ["insee", "code", "valeur"]
    long["rang"] = ranks.stack(future_stack=True).to_numpy()
    long["mediane"] = long["code"].map(wide.median(skipna=True))
    long["n"] = long["code"].map(wide.notna().sum())
    # sorted by commune and code: a rebuild of layers/reference_metropole.csv diffs by value
    return long.sort_values(["insee", "code"], kind="stable").reset_index(drop=True)


def _commune_geometries(codes: Sequence[str]) -> Any:
    import geopandas as gpd
    import shapely

    from qmi_geo.layers.extent import _union

    geoms = [_union([c]) for c in codes]
    return gpd.GeoSeries([shapely.Polygon() if g is None else g for g in geoms], crs=2154)


def _choropleth(gdf: Any, column: str, title: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qmi_geo._atomic import atomic_path

    fig, ax = plt.subplots(figsize=(8, 7), dpi=110)
    missing = gdf[gdf[column].isna()]
    if len(missing):
        missing.plot(ax=ax, color="#dddddd", edgecolor="white", linewidth=0.4, hatch="///")
    gdf[gdf[column].notna()].plot(
        ax=ax,
        column=column,
        cmap="YlOrRd",
        scheme=None,
        legend=True,
        edgecolor="white",
        linewidth=0.4,
        legend_kwds={"shrink": 0.6},
    )
    ax.set_title(title + " — Métropole du Grand Paris", fontsize=11)
    ax.set_axis_off()
    note = "Gris hachuré : non disponible. Sources : voir comparaison_metropole.html."
    fig.text(0.02, 0.02, note, fontsize=7)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    plt.close(fig)
    return path


def _fmt(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "non disponible"
    if unit in ("habitants", "nombre", "votes") or abs(value) >= 1000:
        text = f"{value:,.0f}".replace(",", "\u202f")
    else:
        text = f"{value:.1f}".replace(".", ",")
    return f"{text} {unit}".strip()


def _head(code: str, units: dict[str, str]) -> str:
    unit = units.get(code, "")
    return f"{code} ({unit})" if unit else code


def write_metropole_outputs(results: Sequence[dict[str, Any]], output_dir: Path) -> dict[str, Path]:
    """Write the metropolitan table, GeoPackage, comparison page, maps and failures."""
    import geopandas as gpd

    from qmi_geo._atomic import write_csv, write_text
    from qmi_geo.pipeline import write_geopackage

    files: dict[str, Path] = {}
    names = {r["insee"]: r["nom"] for r in results}
    failures = pd.DataFrame(
        [
            {"insee": r["insee"], "commune": r["nom"], "erreur": r["erreur"]}
            for r in results
            if not r["ok"]
        ],
        columns=["insee", "commune", "erreur"],
    )
    files["echecs"] = write_csv(failures, output_dir / "echecs.csv")
    done = [r for r in results if r["ok"]]
    if not done:
        return files
    wide = metropolitan_table(done)
    first = pd.DataFrame(done[0]["indicateurs"]).set_index("code")
    units = first["unite"].to_dict()
    labels = first["libelle"].to_dict()
    ref = reference_table(wide)
    ranks = ref.pivot(index="insee", columns="code", values="rang").reindex(wide.index)
    columns: dict[str, Any] = {
        "insee": list(wide.index),
        "commune": [names[c] for c in wide.index],
    }
    for code in wide.columns:  # built at once: ~200 columns
        columns[_head(code, units)] = wide[code].to_numpy()
        columns[f"rang {code}"] = ranks[code].to_numpy()
    table = pd.DataFrame(columns)
    median = {"insee": "", "commune": "Médiane de la Métropole"}
    for code in wide.columns:
        median[_head(code, units)] = wide[code].median()
    table = pd.concat([table, pd.DataFrame([median])], ignore_index=True)
    files["tableau"] = write_csv(
        table, output_dir / "metropole_indicateurs.csv", decimal=",", float_format="%.6g"
    )
    files["reference"] = write_csv(ref, output_dir / "reference_metropole.csv", decimal=",")
    geoms = _commune_geometries(list(wide.index))
    attrs = {"insee": list(wide.index), "commune": [names[c] for c in wide.index]}
    attrs.update({code: wide[code].to_numpy() for code in wide.columns})
    gdf = gpd.GeoDataFrame(attrs, geometry=geoms.values, crs=2154)
    files["geopackage"] = write_geopackage({"communes": gdf}, output_dir / "metropole.gpkg")
    maps: dict[str, Path] = {}
    for code, title in MAP_INDICATORS.items():
        if code in gdf and gdf[code].notna().any():
            maps[code] = _choropleth(gdf, code, title, output_dir / "cartes" / f"{code}.png")
    files.update({f"carte_{c}": p for c, p in maps.items()})
    files["comparaison"] = write_text(
        output_dir / "comparaison_metropole.html",
        _page(wide, names, units, labels, maps, failures),
    )
    return files


def _page(
    wide: pd.DataFrame,
    names: dict[str, str],
    units: dict[str, str],
    labels: dict[str, str],
    maps: dict[str, Path],
    failures: pd.DataFrame,
) -> str:
    """A self-contained comparison page (maps inlined as data URIs, nothing loaded)."""

    def esc(text: object) -> str:
        return html.escape(str(text))

    codes = [c for c in MAP_INDICATORS if c in wide.columns] + [
        c for c in wide.columns if c not in MAP_INDICATORS
    ]
    head = "".join(
        f"<th>{esc(labels.get(c, c))}<br><small>{esc(units.get(c, ''))}</small></th>" for c in codes
    )
    body = []
    for insee in wide.index:
        cells = "".join(f"<td>{esc(_fmt(wide.at[insee, c], ''))}</td>" for c in codes)
        body.append(f"<tr><th>{esc(names[insee])} <small>{esc(insee)}</small></th>{cells}</tr>")
    med = "".join(f"<td>{esc(_fmt(wide[c].median(), ''))}</td>" for c in codes)
    body.append(f"<tr class='med'><th>Médiane de la Métropole</th>{med}</tr>")
    figures = "".join(
        f"<figure><img alt='{esc(MAP_INDICATORS[c])}' src='data:image/png;base64,"
        f"{base64.b64encode(p.read_bytes()).decode()}'><figcaption>{esc(MAP_INDICATORS[c])}"
        "</figcaption></figure>"
        for c, p in maps.items()
    )
    fails = ""
    if len(failures):
        items = "".join(
            f"<li>{esc(r.commune)} ({esc(r.insee)}) : {esc(r.erreur)}</li>"
            for r in failures.itertuples()
        )
        fails = f"<h2>Communes en échec ({len(failures)})</h2><ul>{items}</ul>"
    return f"""<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8">
<title>Comparaison des communes de la Métropole du Grand Paris</title>
<style>
body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}}
table{{border-collapse:collapse;font-size:.8rem}}
th,td{{border:1px solid #ccc;padding:.2rem .4rem;text-align:right}}
thead th{{position:sticky;top:0;background:#f4f4f4}}
tbody th{{text-align:left;white-space:nowrap}}
tr.med{{font-weight:bold;background:#fff6d5}}
figure{{display:inline-block;margin:.5rem;width:31%;min-width:320px}}
figure img{{width:100%}}
.scroll{{overflow:auto;max-height:80vh}}
</style></head><body>
<h1>Comparaison des {len(wide)} communes diagnostiquées</h1>
<p>Chaque valeur vient d'une source qui couvre la commune ; sinon « non disponible »
(la raison est dans indicateurs.csv de la commune). Rang et médiane : voir
metropole_indicateurs.csv.</p>
{figures}
<div class="scroll"><table><thead><tr><th>Commune</th>{head}</tr></thead>
<tbody>{"".join(body)}</tbody></table></div>
{fails}
</body></html>
"""
