"""Benchmark: the metropolitan batch (``qmi metropole``) against a plain loop of ``qmi diagnose``.

Measured in the same run, on the real layers, in the batch's order of the communes
(``metropole_communes()``, sorted INSEE codes: Paris first):

* baseline — what a competent user writes without the batch: ONE sequential loop of
  ``qmi diagnose <commune> --no-map --no-report`` processes over the largest size; its
  elapsed time is read at each size (prefix timings: the first 10, 40, 130 communes). Each
  call also runs the matching (``qmi diagnose`` has no option to skip it) and pays the
  interpreter start, the imports and the first reads of the region-wide layers;
* ``qmi metropole`` batches (dask.distributed ``LocalCluster``, one task per commune, the
  layers cached in each worker) of 10, 40 and 130 communes, with 1 and 2 worker processes,
  each its own cluster (start-up included).

Both sides compute the same thing: for every commune computed by both, the loop's
``indicateurs.csv`` and the batch's are compared (every indicator's value, within 2e-5
relative — the CSV keeps 6 significant digits — and its status). Time per commune at each
size shows whether the cost grows linearly; peak memory per worker is the maximum RSS of each
worker process (per pid, reported by the tasks); the loop's is the largest ``qmi diagnose``
process (``RUSAGE_CHILDREN``). CPU time (user+sys) is given beside wall-clock time: the
machine may be shared.

Writes its own section of BENCHMARKS.md (replacing the previous one) and exits with status 1
only when the two sides disagree.

Usage::

    .venv/bin/python scripts/bench_metropole.py                 # full run (≈ 30 min, 2 cores)
    .venv/bin/python scripts/bench_metropole.py --sizes 2,4     # a quick check of the script
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _bench import cpu_model

from qmi_geo.layers.communes import communes_2026, metropole_communes
from qmi_geo.metropole import run_metropole
from qmi_geo.spec import load_spec

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Lot métropolitain (issue 10) — qmi metropole contre une boucle de qmi diagnose"
QMI = str(Path(sys.executable).with_name("qmi"))
REL_TOL = 2e-5


def _children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def loop(codes: list[str], sizes: list[int], out: Path) -> dict[str, Any]:
    """ONE sequential loop of ``qmi diagnose`` processes; elapsed and CPU time at each size."""
    marks: dict[int, tuple[float, float]] = {}
    cpu0 = _children_cpu()
    start = time.perf_counter()
    for i, code in enumerate(codes, start=1):
        print(f"  boucle {i}/{len(codes)} : {code}", flush=True)
        subprocess.run(
            [QMI, "-q", "diagnose", code, "--no-map", "--no-report", "--output", str(out / code)],
            check=True,
            capture_output=True,
        )
        if i in sizes:
            marks[i] = (time.perf_counter() - start, _children_cpu() - cpu0)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return {"marks": marks, "peak_mb": peak}


def read_table(path: Path) -> pd.DataFrame:
    """An ``indicateurs.csv``: value (float) and status, by indicator code."""
    df = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")
    return df[["Code", "Valeur", "Statut"]].set_index("Code")


def same_table(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same indicators, same statuses, same values (within the CSV's 6 digits)."""
    if list(a.index) != list(b.index) or not a["Statut"].equals(b["Statut"]):
        return False
    x = pd.to_numeric(a["Valeur"], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(b["Valeur"], errors="coerce").to_numpy(dtype=float)
    both_nan = np.isnan(x) & np.isnan(y)
    close = np.isclose(x, y, rtol=REL_TOL, atol=1e-9)
    return bool((both_nan | close).all())


def batch(codes: list[str], workers: int, out: Path) -> dict[str, Any]:
    """One ``qmi metropole`` batch (its own LocalCluster); time, CPU of the tasks, memory."""
    res = run_metropole(codes, out, n_workers=workers, progress=False)
    peaks: dict[int, float] = {}
    for r in res.results:
        pid = int(r.get("processus", 0))
        peaks[pid] = max(peaks.get(pid, 0.0), float(r.get("memoire_max_mo", 0.0)))
    return {
        "seconds": res.seconds,
        "cpu": sum(float(r.get("cpu_secondes", 0.0)) for r in res.results),
        "peaks": sorted(peaks.values(), reverse=True),
        "failures": [r["insee"] for r in res.failures],
    }


def _fr(x: float, digits: int = 1) -> str:
    """A French decimal (comma), no thousands separator in tables."""
    return f"{x:.{digits}f}".replace(".", ",")


def write_section(text: str) -> None:
    """Replace (or append) this benchmark's section of BENCHMARKS.md."""
    bench = REPO / "BENCHMARKS.md"
    old = bench.read_text(encoding="utf-8") if bench.exists() else "# Benchmarks\n\n"
    pattern = re.compile(re.escape(SECTION) + r".*?(?=\n## |\Z)", re.S)
    new = (
        pattern.sub(lambda _: text.rstrip("\n") + "\n", old)
        if pattern.search(old)
        else (old.rstrip("\n") + "\n\n" + text)
    )
    tmp = bench.with_suffix(".md.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, bench)


def main() -> int:
    """Run both sides, check they agree, write the BENCHMARKS.md section."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", "--tailles", default="10,40,130", help="ex. 2,4")
    parser.add_argument("--workers", default="1,2", help="worker processes of the batches")
    args = parser.parse_args()
    all_codes = metropole_communes()
    sizes = sorted({min(int(s), len(all_codes)) for s in args.sizes.split(",")})
    workers = [int(w) for w in args.workers.split(",")]
    codes = all_codes[: sizes[-1]]
    tmp = Path(tempfile.mkdtemp(prefix="bench_metropole_"))
    print(f"Boucle de qmi diagnose sur {len(codes)} communes…", flush=True)
    base = loop(codes, sizes, tmp / "boucle")
    rows = []
    compared: set[str] = set()
    differ: list[str] = []
    for w in workers:
        for size in sizes:
            print(f"qmi metropole : {size} communes, {w} processus…", flush=True)
            out = tmp / f"lot_{w}_{size}"
            run = batch(codes[:size], w, out)
            rows.append((w, size, run))
            for code in codes[:size]:
                if code in run["failures"]:
                    continue
                mine = read_table(out / load_spec(code).slug / "indicateurs.csv")
                theirs = read_table(tmp / "boucle" / code / "indicateurs.csv")
                compared.add(code)
                if not same_table(mine, theirs):
                    differ.append(f"{code} ({w} processus, lot de {size})")
    agree = not differ and not any(r[2]["failures"] for r in rows)
    names = communes_2026()["nom"]
    first = ", ".join(names[c] for c in codes[:3])
    lines = [
        SECTION,
        "",
        f"Mesuré le {time.strftime('%d/%m/%Y à %H:%M')} par `scripts/bench_metropole.py` "
        f"(tailles {', '.join(map(str, sizes))}) ; machine : {os.cpu_count()} cœurs "
        f"({cpu_model()}), Python {platform.python_version()}, {platform.system()}. Les durées "
        "sont des temps écoulés (la machine peut être partagée) ; le temps CPU (user+sys) est "
        "donné à côté. Communes dans l'ordre du lot (codes INSEE triés, donc Paris en "
        f"premier : {first}…).",
        "",
        "**Même calcul des deux côtés** : pour chacune des "
        f"{len(compared)} communes calculées des deux côtés, les `indicateurs.csv` de la boucle "
        "et du lot sont comparés indicateur par indicateur (valeur à 2e-5 près — le CSV garde "
        "6 chiffres significatifs — et statut) : "
        + (
            "**identiques** pour toutes."
            if agree
            else "**différences** : "
            + ", ".join(differ + [f for r in rows for f in r[2]["failures"]])
            + "."
        ),
        "",
        "Référence : une boucle séquentielle de `qmi diagnose <commune> --no-map --no-report` "
        "(un processus par commune, appariement des solutions compris : `qmi diagnose` ne "
        "permet pas de l'omettre), temps relevés après "
        f"{', '.join(map(str, sizes))} communes de la même boucle ; mémoire maximale du plus "
        f"gros processus : {_fr(base['peak_mb'], 0)} Mo.",
        "",
        "| côté | communes | durée (s) | s par commune | CPU (s) | rapport à la boucle "
        "| mémoire max par processus (Mo) | échecs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        secs, cpu = base["marks"][size]
        lines.append(
            f"| boucle de `qmi diagnose` | {size} | {_fr(secs)} | {_fr(secs / size, 2)} | "
            f"{_fr(cpu)} | 1 | {_fr(base['peak_mb'], 0)} | 0 |"
        )
    for w, size, run in rows:
        secs = run["seconds"]
        ratio = base["marks"][size][0] / secs
        mem = " / ".join(_fr(m, 0) for m in run["peaks"])
        lines.append(
            f"| `qmi metropole`, {w} processus | {size} | {_fr(secs)} | {_fr(secs / size, 2)} | "
            f"{_fr(run['cpu'])} (tâches) | {_fr(ratio, 2)}× | {mem} | {len(run['failures'])} |"
        )
    per = {
        label: [v / s for s, v in pairs]
        for label, pairs in [
            ("boucle", [(s, base["marks"][s][0]) for s in sizes]),
            *[
                (f"{w} processus", [(s, r["seconds"]) for ww, s, r in rows if ww == w])
                for w in workers
            ],
        ]
    }
    trend = " ; ".join(
        f"{label} : " + " → ".join(_fr(v, 2) for v in vals) + " s par commune"
        for label, vals in per.items()
    )
    lines += [
        "",
        f"Coût par commune selon la taille ({' → '.join(map(str, sizes))} communes) : {trend}. "
        "Un coût par commune stable d'une taille à l'autre veut dire une croissance linéaire ; "
        "les premières communes (Paris en tête, la plus lourde) pèsent plus dans les petits "
        "lots, et chaque lot paie le démarrage de sa grappe dask.",
        "",
        "Le CPU du lot est celui des tâches (hors démarrage de la grappe) ; celui de la boucle "
        "compte tout (interpréteur, imports, lecture des couches, appariement).",
        "",
    ]
    text = "\n".join(lines)
    write_section(text)
    print(text)
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
