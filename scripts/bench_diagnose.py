"""Benchmark of ``qmi diagnose``: a cold process against reading its inputs (issue 13).

For each pilot commune, in the same run:

* **floor** — a fresh Python process that imports geopandas and reads every input the
  diagnostic reads: each vector source of the spec (file, layer and ``where`` filter, with
  ``geopandas.read_file``; the commune layer for the perimeter; the OSM cache when present),
  each walk file (every layer of a GPX/GeoPackage, the CSV/Excel table otherwise), the
  raster headers and the solution catalogue. That is what any script working on these inputs
  pays before computing anything;
* **qmi diagnose** — the command itself, cold (``python -m qmi_geo diagnose``), into
  an empty folder: its default stages (layers, walks, indicators, matching, web map and the
  livrable, a WeasyPrint PDF with its maps), and the same with ``--sans-rapport``.

Check: both sides see the same inputs (the floor's list is derived from the spec with the
same catalogue), and the diagnostic wrote every file it announces (else the run fails).
Time: best of ``--repeat`` (default 2) of each, wall clock and CPU (user + sys of the
process, which a machine shared with other jobs inflates less); target ratio ≤ 3 (wall).

Run: ``.venv/bin/python scripts/bench_diagnose.py`` (about a minute); writes the section
« qmi diagnose (issue 13) » of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _bench import ROOT, fmt_ratio, machine_line, run_cold, write_section

HEADER = "## qmi diagnose (issue 13) — processus à froid contre lecture des entrées"
PILOTS = ("meudon", "aulnay-sous-bois", "sceaux", "noisy-le-grand")
TARGET = 3.0
#: the default command, and the same without the livrable (PDF report, issue 12)
VARIANTS = (("default", ()), ("`--sans-rapport`", ("--sans-rapport",)))

FLOOR = """
import json, sys, tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

inputs = json.loads(Path(sys.argv[1]).read_text())
n = 0
for item in inputs:
    path = Path(item["path"])
    kind = item["kind"]
    if kind == "vector":
        n += len(gpd.read_file(path, layer=item["layer"], where=item["where"]))
    elif kind == "walk":
        suffix = path.suffix.lower()
        if suffix in {".csv", ".txt"}:
            n += len(pd.read_csv(path, sep=None, engine="python", encoding="latin-1"))
        elif suffix in {".xlsx", ".xls"}:
            n += len(pd.read_excel(path))
        else:
            for layer in pyogrio.list_layers(path)[:, 0]:
                n += len(gpd.read_file(path, layer=layer))
    elif kind == "raster":
        import rasterio
        with rasterio.open(path) as src:
            n += src.count
    elif kind == "toml":
        n += len(tomllib.loads(path.read_text(encoding="utf-8")))
print(n)
"""


def inputs_of(spec_name: str) -> list[dict[str, object]]:
    """Every file ``qmi diagnose`` reads for this spec, as the floor process reads it."""
    from qmi_geo.layers.catalogue import load_catalogue
    from qmi_geo.pipeline import RASTER_SUFFIXES, _osm_sources
    from qmi_geo.spec import load_spec

    spec = load_spec(ROOT / "diagnostics" / f"{spec_name}.toml")
    sources = [s for group in spec.layers.values() for s in group] + _osm_sources(spec)
    if spec.perimeter_source == "commune":
        sources.insert(0, load_catalogue()["communes_idf"])
    out: list[dict[str, object]] = []
    seen: set[tuple[str, str | None, str | None]] = set()
    for s in sources:
        key = (str(s.path), s.layer, s.where)
        if key in seen:  # the pipeline caches a file read twice (communes, perimeter)
            continue
        seen.add(key)
        raster = Path(s.path).suffix.lower() in RASTER_SUFFIXES
        out.append(
            {"kind": "raster" if raster else "vector", "path": str(s.path), "layer": s.layer}
            | {"where": s.where}
        )
    out += [{"kind": "walk", "path": str(p)} for p in spec.walk_files]
    if spec.solutions_enabled and spec.solution_catalogue is not None:
        out.append({"kind": "toml", "path": str(spec.solution_catalogue)})
    missing = [i["path"] for i in out if not Path(str(i["path"])).exists()]
    if missing:
        raise SystemExit(f"{spec_name}: inputs missing: {missing}")
    return out


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(
    pilot: str, listing: Path, floor_py: Path, work: Path, extra: tuple[str, ...], repeat: int
) -> tuple[float, float, list[float], int, tuple[float, float]]:
    """Best-of-``repeat`` cold times of the floor and of ``qmi diagnose``, interleaved.

    Returns the best wall times, the peak RSS of each side, the number of outputs and the
    best CPU times (user + sys) of each side.
    """
    floor: list[float] = []
    cmd: list[float] = []
    cpu: tuple[list[float], list[float]] = ([], [])
    rss = [0.0, 0.0]
    files: list[str] = []
    for _ in range(repeat):  # interleaved: the same load on both sides
        c0 = _cpu_children()
        t, r, _out = run_cold([str(floor_py), str(listing)])
        cpu[0].append(_cpu_children() - c0)
        floor.append(t)
        rss[0] = max(rss[0], r)
        out_dir = work / f"out-{pilot}"
        shutil.rmtree(out_dir, ignore_errors=True)
        spec = f"diagnostics/{pilot}.toml"
        c0 = _cpu_children()
        t, r, stdout = run_cold(["qmi_geo", "diagnose", spec, "--sortie", str(out_dir), *extra])
        cpu[1].append(_cpu_children() - c0)
        cmd.append(t)
        rss[1] = max(rss[1], r)
        files = [line.split()[-1] for line in stdout.splitlines() if line.startswith("  ")]
        absent = [f for f in files if not Path(f).exists()]
        if not files or absent:
            raise SystemExit(f"{pilot}: announced outputs missing: {absent or 'none'}")
    return min(floor), min(cmd), rss, len(files), (min(cpu[0]), min(cpu[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--pilots", nargs="*", default=list(PILOTS))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    machine = machine_line()
    # Python writes qmi_geo's bytecode (__pycache__) at its first import, unless
    # PYTHONDONTWRITEBYTECODE is set (as in these sessions' environment): then every cold
    # run would compile ≈ 0.2 s of qmi_geo's source again, while the libraries of both
    # sides were compiled by pip at install. Compiled once here, as any user's first run does.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "qmi_geo")], check=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="qmi-bench-diagnose-") as tmp:
        work = Path(tmp)
        floor_py = work / "floor.py"
        floor_py.write_text(FLOOR, encoding="utf-8")
        for pilot in args.pilots:
            listing = work / f"{pilot}.json"
            inputs = inputs_of(pilot)
            listing.write_text(json.dumps(inputs), encoding="utf-8")
            for variant, extra in VARIANTS:
                floor, cmd, rss, n_out, cpu = measure(
                    pilot, listing, floor_py, work, extra, args.repeat
                )
                rows.append((pilot, variant, len(inputs), floor, cmd, rss, n_out, cpu))
                print(
                    pilot,
                    variant,
                    f"floor {floor:.2f}s diagnose {cmd:.2f}s (CPU {cpu[0]:.2f}s / {cpu[1]:.2f}s)",
                    flush=True,
                )
    lines = [
        HEADER,
        "",
        "`scripts/bench_diagnose.py`. " + machine,
        "",
        "Floor: a fresh Python process importing geopandas and reading every input of the "
        "diagnostic (each vector source with `geopandas.read_file` and its `where` filter, "
        "the commune layer for the perimeter, every layer of each walk file, raster headers, "
        "the solution catalogue). Measured side: `python -m qmi_geo diagnose "
        "<pilot> --sortie <empty folder>`: the default stages (layers, walks, indicators, "
        "matching, web map, livrable) and the same with `--sans-rapport` (no livrable). "
        f"Both cold, interleaved, best of {args.repeat}; wall clock (the target) and CPU "
        "time (user + sys). Check: every announced output exists after each run; both sides "
        "read the same list of inputs (derived from the spec and the catalogue). The first "
        "run of a machine also compiles the jinja2 templates into the user cache "
        "(`qmi_geo/_templates.py`, like Python's `__pycache__`): best-of-N times are the "
        "warm ones, on both sides. qmi_geo's own bytecode is compiled before measuring "
        "(`python -m compileall`, what Python's first import does unless "
        "`PYTHONDONTWRITEBYTECODE` is set; the libraries' was compiled by pip). On Linux "
        "with two cores, `qmi diagnose` computes the indicators in a forked child while it "
        "matches the solutions, and builds the web map in a child while it writes "
        "`diagnostic.gpkg` (`qmi_geo/_overlap.py`; `QMI_GEO_PARALLEL=0` turns it off): the "
        "CPU time counts both processes, the max RSS is the main process's.",
        "",
        "| pilot | stages | inputs | read inputs (floor) | `qmi diagnose` | ratio | target ≤ 3 | "
        "CPU floor / diagnose (ratio) | max RSS floor / diagnose | outputs |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for pilot, variant, n_in, f, c, rss, n_out, cpu in rows:
        met = "met" if c / f <= TARGET else f"**missed by {c / f - TARGET:.2f}**"
        lines.append(
            f"| {pilot} | {variant} | {n_in} | {f:.2f} s | {c:.2f} s | {fmt_ratio(c / f)} | "
            f"{met} | {cpu[0]:.2f} / {cpu[1]:.2f} s ({fmt_ratio(cpu[1] / cpu[0])}) | "
            f"{rss[0]:.0f} / {rss[1]:.0f} MiB | {n_out} |"
        )
    lines.append("")
    light = [r for r in rows if r[1] != "default"]
    full = [r for r in rows if r[1] == "default"]
    if any(c / f > TARGET for _p, _v, _n, f, c, _r, _o, _c in light):
        lines += [
            "Why `--sans-rapport` misses the target (profiled on Meudon, 2026-12-02, on the "
            "shared machine; seconds of the main process's CPU): Python with geopandas "
            "(≈ 0.55 s, as on the floor side), the perimeter (0.10 s), then the layers: a "
            "forked child reads, validates and normalises the 17 other sources while the main "
            "process computes the coverage and imports what the walk stage needs (scipy's "
            "k-d tree, sparse graphs and filters, rasterio), ≈ 0.6 s on each side; the walk "
            "stage (0.27 s), the matching (0.46 s) while a child computes the quarter's "
            "indicator table, the per-IRIS table (0.41 s) and the GeoPackage (0.34 s) while "
            "a child builds the web map. Both cores are busy for most of the run: what is "
            "left is ≈ 4 s of CPU work in all (layers ≈ 1.1 s beyond the imports, walk 0.3, "
            "indicators ≈ 0.9, matching ≈ 0.5, web map ≈ 0.6, GeoPackage ≈ 0.35) for ≈ 1 s of "
            "reading, and two cores can only halve it. Removed in this issue: scikit-learn "
            "(1.2–1.9 s), matplotlib and the print map for the web map, offlinefolium's "
            "forked classes and the second jinja2 pass; then the coverage of named extents "
            "(1.4 s → 0.15 s), SQLite's fsyncs inside the GeoPackages' temporary files, the "
            "compilation of folium's 93 templates at each start (now cached per machine), a "
            "second open of each layer file to list its layers, the pyproj transformer built "
            "per layer; networkx for one street graph (scipy's compiled Dijkstra, "
            "bit-identical ratios), the layer catalogue parsed a dozen times per run, and "
            "the sequential order of independent stages (`qmi_geo/_overlap.py`).",
            "",
        ]
    if any(c / f > TARGET for _p, _v, _n, f, c, _r, _o, _c in full):
        bound = "; ".join(
            f"{p} {cpu[1]:.1f} s of CPU, {cpu[1] / 2:.1f} s on two cores at best, "
            f"{fmt_ratio(cpu[1] / 2 / f)} the floor"
            for p, _v, _n, f, _c, _r, _o, cpu in full
        )
        lines += [
            "Why the default run misses it: it also builds the livrable (issue 12, "
            "added to `qmi diagnose` after this target was set), ≈ 6.4 s CPU on Meudon — "
            "WeasyPrint ≈ 3.9 s (its import, the layout of 24 A4 pages holding 20 tables, "
            "the PDF) and the 8 matplotlib figures ≈ 2.6 s (4.7 s before this pass: "
            "geopandas asked for a full redraw after each layer, so each map was painted "
            "5–8 times; it is now painted once, with identical PNGs; since 2026-12-02 a "
            "forked child draws half of them while the process imports WeasyPrint and "
            "draws the other half). Where the walk is "
            "tested (Aulnay-sous-Bois), the Gi* test adds ≈ 1.6 s (esda and libpysal "
            "imported, 9,999 permutations kept). The CPU time measured in this run bounds "
            f"what any overlap could reach: {bound}. With the livrable on, the ≤ 3 target "
            "is therefore out of reach on this machine however the work is spread; it is "
            "measured on the `--sans-rapport` row.",
            "",
        ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        print(write_section(HEADER, text))


if __name__ == "__main__":
    main()
