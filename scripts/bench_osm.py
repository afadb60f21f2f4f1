"""Benchmark of the OpenStreetMap layers (issue 2): ``osm_from_xml`` on a commune-sized extract.

No real OSM extract is bundled (and the benchmark never touches the network), so a synthetic
OSM XML file is generated: a street grid (residential streets one way, footways the other),
one building or car park per block, a railway and a primary road crossing the quarter with a
road bridge, a river, parks. With ``--taille 100`` (default) it holds about 10,000 ways and
51,000 nodes, the order of a commune's extract (Meudon: ~13,000 buildings in OSM).

Baseline, measured in the same run: osmnx alone reading the same file, i.e.
``features_from_xml`` + ``graph_from_xml`` (everything ``osm_from_xml`` does on top — the
walk filter, the tag mapping, bridges, the GeoPackage — is the overhead measured).
Time: best of 2. Peak memory: tracemalloc on a separate pass, plus the process's max RSS.

Run: ``.venv/bin/python scripts/bench_osm.py`` (about a minute on 2 cores); writes the
section « OpenStreetMap (issue 2) » of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import machine_line

ROOT = Path(__file__).resolve().parents[1]
HEADER = "## OpenStreetMap (issue 2) — couches OSM depuis un extrait XML"
CX, CY = 641700, 6854100  # Lambert-93, south-west corner, in Meudon
STEP = 40  # block size (m)


def make_extract(path: Path, n: int) -> dict[str, int]:
    """Write a synthetic OSM XML extract of an n x n block grid; return element counts."""
    tr = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)
    nodes: list[str] = []
    ways: list[str] = []
    ids = {"node": 0, "way": 0}

    def node(x: float, y: float) -> int:
        ids["node"] += 1
        lon, lat = tr.transform(CX + x, CY + y)
        nodes.append(f'<node id="{ids["node"]}" lat="{lat:.7f}" lon="{lon:.7f}"/>')
        return ids["node"]

    def way(refs: list[int], tags: dict[str, str]) -> None:
        ids["way"] += 1
        nd = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        ways.append(f'<way id="{ids["way"]}">{nd}{tg}</way>')

    grid = {(i, j): node(i * STEP, j * STEP) for i in range(n + 1) for j in range(n + 1)}
    for i in range(n + 1):
        way([grid[i, j] for j in range(n + 1)], {"highway": "residential", "name": f"Rue {i}"})
        way([grid[j, i] for j in range(n + 1)], {"highway": "footway"})
    for i in range(n):
        for j in range(n):
            x0, y0 = i * STEP + 10, j * STEP + 10
            ring = [node(x0 + dx, y0 + dy) for dx, dy in ((0, 0), (20, 0), (20, 20), (0, 20))]
            if (i + j) % 10 == 0:
                tags = {"amenity": "parking", "parking": "surface"}
            elif (i * j) % 37 == 0:
                tags = {"leisure": "park", "name": f"Square {i}-{j}"}
            else:
                tags = {"building": "yes", "building:levels": "3"}
            way([*ring, ring[0]], tags)
    span = n * STEP
    mid = span / 2 + STEP / 4
    rail = [node(0, mid), node(span / 3, mid), node(2 * span / 3, mid), node(span, mid)]
    for a, b in pairwise(rail):
        way([a, b], {"railway": "rail", "name": "Ligne de Paris-Montparnasse à Brest"})
    road = [node(mid, 0), node(mid, mid - 15), node(mid, mid + 15), node(mid, span)]
    way(road[:2], {"highway": "primary", "name": "Route des Gardes"})
    way(road[1:3], {"highway": "primary", "name": "Route des Gardes", "bridge": "yes"})
    way(road[2:], {"highway": "primary", "name": "Route des Gardes"})
    way([node(0, span + 30), node(span, span + 30)], {"waterway": "river", "name": "La Seine"})
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" '
        'generator="qmi_geo bench (synthetique)">\n' + "\n".join(nodes) + "\n"
        + "\n".join(ways) + "\n</osm>\n",
        encoding="utf-8",
    )  # fmt: skip
    return {"nodes": len(nodes), "ways": len(ways)}


def best_of(k: int, func: Callable[[], Any]) -> float:
    """Best wall time of k runs."""
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_mib(func: Callable[[], Any]) -> float:
    """Peak traced Python memory of one run, MiB."""
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def check(features: Any, result: Any) -> str:
    """Both sides read the same OSM objects; raise SystemExit otherwise."""

    def ids(frame: Any, column: str = "osm_id") -> set[int]:
        return {int(v) for v in frame[column].tolist()}

    osm = features.reset_index()
    buildings = {int(i) for i in osm.loc[osm["building"].notna(), "id"].tolist()}
    ours = ids(result.layers["batiments"])
    if buildings != ours:
        raise SystemExit(
            f"bench_osm: {len(buildings ^ ours)} buildings differ between osmnx and osm_from_xml"
        )
    highways = {int(i) for i in osm.loc[osm["highway"].notna(), "id"].tolist()}
    streets = set()
    for value in result.layers["rues"]["osm_ids"].tolist():
        streets |= {int(v) for v in str(value).replace(",", ";").split(";") if v.strip()}
    stray = streets - highways
    if stray:
        raise SystemExit(f"bench_osm: {len(stray)} street ways unknown to osmnx")
    return (
        f"les {len(ours)} bâtiments sont les mêmes objets OSM des deux côtés ; les "
        f"{len(streets)} chemins des rues sont tous des `highway` lus par osmnx "
        f"({len(highways - streets)} écartés par le filtre piéton ou sans tronçon)."
    )


def main() -> None:
    """Run the benchmark and write its BENCHMARKS.md section."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--taille", type=int, default=100, help="blocks per side")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    import osmnx as ox

    from qmi_geo.layers.osm import osm_from_xml

    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "bench_synthetique.osm"
        sizes = make_extract(xml, args.taille)
        out = Path(tmp) / "bench_synthetique_osm.gpkg"

        def baseline() -> None:
            ox.features_from_xml(xml)
            ox.graph_from_xml(xml)

        def ours() -> None:
            osm_from_xml(xml, out_path=out, progress=False)

        ours()  # warm-up (imports, caches)
        t_base = best_of(2, baseline)
        t_ours = best_of(2, ours)
        m_base = peak_mib(baseline)
        m_ours = peak_mib(ours)
        result = osm_from_xml(xml, out_path=None, progress=False)
        counts = result.counts()
        verdict = check(ox.features_from_xml(xml), result)
        size_mib = xml.stat().st_size / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [
        ("référence : osmnx `features_from_xml` + `graph_from_xml`", t_base, 1.0, m_base),
        ("`osm_from_xml` (filtre piéton, classement, ponts, GeoPackage)", t_ours,
         t_ours / t_base, m_ours),
    ]  # fmt: skip
    text = "\n".join(
        [
            HEADER,
            "",
            f"`scripts/bench_osm.py`. {machine_line()}",
            "",
            f"Extrait OSM XML synthétique de {size_mib:.1f} Mio "
            f"({sizes['nodes']} nœuds, {sizes['ways']} chemins ; grille de {args.taille} × "
            f"{args.taille} îlots de {STEP} m à Meudon). Temps : meilleur de 2 ; mémoire : pic "
            "tracemalloc d'une exécution à part (les allocations C de GEOS/expat ne sont pas "
            "comptées).",
            "",
            "| étape | temps (s) | rapport à la référence | pic mémoire (Mio) |",
            "|---|---:|---:|---:|",
            *(f"| {name} | {t:.2f} | {r:.2f} | {m:.0f} |" for name, t, r, m in rows),
            "",
            f"Vérification d'équivalence : {verdict}",
            "",
            "Couches produites : " + ", ".join(f"{k} {v}" for k, v in counts.items())
            + f". RSS maximale du processus : {rss:.0f} Mio.",
            "",
        ]
    )  # fmt: skip
    print(text)
    if not args.no_write:
        write_section(ROOT / "BENCHMARKS.md", text)


def write_section(path: Path, text: str) -> None:
    """Replace (or append) this benchmark's section of BENCHMARKS.md."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if HEADER in old:
        start = old.index(HEADER)
        nxt = old.find("\n## ", start + len(HEADER))
        old = old[:start] + (old[nxt + 1 :] if nxt >= 0 else "")
    path.write_text(old.rstrip("\n") + "\n\n" + text, encoding="utf-8")


if __name__ == "__main__":
    main()
