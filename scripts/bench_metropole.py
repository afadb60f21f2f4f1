"""Benchmark: the metropolitan batch (``qmi metropole``) against a plain loop of ``qmi diagnose``.

Measured in the same run, on the real layers:

* baseline: what a competent user writes without the batch — a shell-style sequential loop
  of ``qmi diagnose <commune> --no-map --no-report`` processes (they also run the
  matching; each commune pays the interpreter start, the imports and the first reads of the
  region-wide layers);
* ``qmi metropole`` with 1 and 2 local worker processes (dask.distributed ``LocalCluster``,
  one task per commune: the layers stay cached in each worker).

Both sides compute the same thing: the indicator tables of each commune are compared (values
and statuses). Time per commune is given for the first 10, 40 and 130 communes of the
Métropole (cost should grow linearly); peak memory per worker is the max RSS reported by the
tasks. The machine has 2 cores shared with other sessions: times are indicative.

Usage: .venv/bin/python scripts/bench_metropole.py [--tailles 10,40,130] [--boucle 10]
(``--boucle`` limits the number of communes of the slow baseline loop; its time per commune
is then extrapolated to the others, and said so.)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from qmi_geo.layers.communes import metropole_communes
from qmi_geo.metropole import run_metropole

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Lot métropolitain (issue 10) — qmi metropole contre une boucle de qmi diagnose"
QMI = str(Path(sys.executable).with_name("qmi"))


def baseline(codes: list[str], out: Path) -> float:
    """A sequential loop of ``qmi diagnose`` processes; returns seconds."""
    start = time.perf_counter()
    for code in codes:
        subprocess.run(
            [QMI, "-q", "diagnose", code, "--no-map", "--no-report", "--output", str(out / code)],
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - start


def read_table(path: Path) -> pd.DataFrame:
    """An ``indicateurs.csv``: code, value and status."""
    df = pd.read_csv(path, sep=";", decimal=",", encoding="utf-8-sig")
    return df[["Code", "Valeur", "Statut"]].set_index("Code")


def main() -> None:
    """Run both sides, check they agree, write the BENCHMARKS.md section."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--tailles", default="10,40,130")
    parser.add_argument("--boucle", type=int, default=10)
    args = parser.parse_args()
    sizes = [int(s) for s in args.tailles.split(",")]
    codes = metropole_communes()
    tmp = Path(tempfile.mkdtemp(prefix="bench_metropole_"))
    loop_codes = codes[: args.boucle]
    t_loop = baseline(loop_codes, tmp / "boucle")
    per_loop = t_loop / len(loop_codes)
    rows = []
    agree = True
    for workers in (1, 2):
        for size in sizes:
            out = tmp / f"lot_{workers}_{size}"
            res = run_metropole(codes[:size], out, n_workers=workers, progress=False)
            mem = max(r.get("memoire_max_mo", 0.0) for r in res.results)
            rows.append((workers, size, res.seconds, res.seconds / size, mem, len(res.failures)))
            for code in loop_codes[: min(size, len(loop_codes))]:
                slug = next(r for r in res.results if r["insee"] == code)
                mine = pd.DataFrame(slug["indicateurs"]).set_index("code")
                theirs = read_table(tmp / "boucle" / code / "indicateurs.csv")
                same = mine["statut"].reindex(theirs.index).eq(theirs["Statut"]).all()
                vals = pd.to_numeric(mine["valeur"].reindex(theirs.index), errors="coerce")
                same &= bool(
                    (
                        (vals - theirs["Valeur"]).abs().fillna(0)
                        <= 1e-4 * vals.abs().fillna(1) + 1e-3
                    ).all()
                )
                agree &= bool(same)
    lines = [
        SECTION,
        "",
        f"Mesuré le {time.strftime('%d/%m/%Y')} sur 2 cœurs partagés avec d'autres sessions "
        "(temps indicatifs). Même calcul des deux côtés : tables d'indicateurs comparées "
        f"(valeurs et statuts) pour {len(loop_codes)} communes : "
        + ("identiques." if agree else "**différences trouvées**."),
        "",
        "Référence : boucle séquentielle de `qmi diagnose <commune> --no-map --no-report` "
        f"(appariement compris) sur "
        f"{len(loop_codes)} communes : {t_loop:.1f} s, soit {per_loop:.2f} s par commune "
        f"(extrapolé à 130 : {per_loop * 130 / 60:.1f} min).",
        "",
        "| processus | communes | durée (s) | s par commune | rapport à la boucle "
        "| mémoire max par processus (Mo) | échecs |",
        "|---|---|---|---|---|---|---|",
    ]
    for workers, size, secs, per, mem, fails in rows:
        lines.append(
            f"| {workers} | {size} | {secs:.1f} | {per:.2f} | {per_loop / per:.2f}× | "
            f"{mem:.0f} | {fails} |"
        )
    lines.append("")
    text = "\n".join(lines)
    bench = REPO / "BENCHMARKS.md"
    old = bench.read_text(encoding="utf-8") if bench.exists() else "# Benchmarks\n\n"
    pattern = re.compile(re.escape(SECTION) + r".*?(?=\n## |\Z)", re.S)
    new = (
        pattern.sub(lambda _: text.rstrip("\n") + "\n", old)
        if pattern.search(old)
        else (old.rstrip("\n") + "\n\n" + text)
    )
    bench.write_text(new, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
