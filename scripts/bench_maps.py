"""Benchmark of the carte sensible's annotation layer (issue 5).

For 1,000 / 10,000 / 50,000 synthetic annotations over Aulnay-sous-Bois, compares:

* baseline — the plain folium approach: one ``folium.Marker`` with a ``folium.Popup`` per
  annotation (assets inlined the same way so the page also opens offline);
* shipped — :func:`qmi_geo.maps.build_web_map`: one JSON table, markers built in the
  browser in a MarkerCluster group with chunked loading, popups built on opening.

Measures map build time, HTML size, peak Python memory (tracemalloc) and the browser load
time (headless Chromium, network disabled: ``loadEventEnd - navigationStart``), and writes
its section of BENCHMARKS.md. Run: ``.venv/bin/python scripts/bench_maps.py``.
"""

from __future__ import annotations

import html
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import folium
import geopandas as gpd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "maps"))

from conftest import make_annotations  # noqa: E402

from qmi_geo.maps import build_web_map  # noqa: E402
from qmi_geo.maps._assets import inline_assets  # noqa: E402
from qmi_geo.maps.web import OfflineMap  # noqa: E402

SIZES = (1_000, 10_000, 50_000)
BROWSER_TIMEOUT_S = 180
SECTION = "## Cartes (issue 5) — carte sensible augmentée : couche des annotations"


def baseline_map(ann: gpd.GeoDataFrame, perimeter: gpd.GeoDataFrame, out: Path) -> Path:
    wgs = ann.to_crs(4326)
    w, s, e, n = perimeter.to_crs(4326).total_bounds
    m = OfflineMap(location=[(s + n) / 2, (w + e) / 2], zoom_start=13, tiles=None, maxZoom=20)
    for geom, theme, comment in zip(wgs.geometry, wgs["theme"], wgs["commentaire"], strict=True):
        folium.Marker(
            [geom.y, geom.x],
            tooltip=html.escape(theme),
            popup=folium.Popup(html.escape(comment), max_width=300),
            icon=folium.DivIcon(html="●"),
        ).add_to(m)
    out.write_text(inline_assets(m.get_root().render()), encoding="utf-8")
    return out


def shipped_map(ann: gpd.GeoDataFrame, perimeter: gpd.GeoDataFrame, out: Path) -> Path:
    return build_web_map(
        {}, perimeter=perimeter, title="bench", out_path=out, annotations=ann, drawing=False
    )


def measure_build(fn, ann, perimeter, out):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    t = time.perf_counter()
    path = fn(ann, perimeter, out)
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return path, elapsed, peak


def driver():  # type: ignore[no-untyped-def]
    from qmi_geo._browser import offline_chromium

    drv = offline_chromium(tempfile.mkdtemp())
    drv.set_page_load_timeout(BROWSER_TIMEOUT_S)
    return drv


def browser_load(drv, path: Path) -> float | None:  # type: ignore[no-untyped-def]
    try:
        drv.get(path.as_uri())
    except Exception:  # selenium TimeoutException: too slow to measure
        return None
    for _ in range(600):
        t = drv.execute_script(
            "var t = performance.timing; return t.loadEventEnd > 0 ? "
            "t.loadEventEnd - t.navigationStart : null;"
        )
        if t:
            return float(t) / 1000
        time.sleep(0.1)
    return None


def main() -> None:
    from conftest import LAYERS

    com = gpd.read_file(
        LAYERS / "admin_express_2018_gregoiredavid/communes_qmi.gpkg", layer="communes_qmi"
    )
    perimeter = com[com["code"] == "93005"]
    tmp = Path(tempfile.mkdtemp(prefix="bench_maps_"))
    drv = driver()
    rows = []
    try:
        for n in SIZES:
            ann = make_annotations(perimeter, n, seed=n)
            res = {}
            for label, fn in (
                ("folium, un marqueur par annotation", baseline_map),
                ("qmi_geo (livré)", shipped_map),
            ):
                path, build_s, peak = measure_build(
                    fn, ann, perimeter, tmp / f"{label[:6]}_{n}.html"
                )
                load_s = browser_load(drv, path)
                res[label] = (build_s, path.stat().st_size, peak, load_s)
                print(
                    n,
                    label,
                    f"{build_s:.2f}s",
                    f"{path.stat().st_size / 1e6:.1f}MB",
                    f"{peak / 1e6:.0f}MB",
                    load_s,
                    flush=True,
                )
            rows.append((n, res))
    finally:
        drv.quit()
    write_section(rows)


def _fmt_s(v: float | None) -> str:
    return f"> {BROWSER_TIMEOUT_S} s" if v is None else f"{v:.2f} s"


def _n(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"× {a / b:.1f}"


def write_section(rows) -> None:  # type: ignore[no-untyped-def]
    lines = [
        SECTION,
        "",
        f"Mesuré le {time.strftime('%Y-%m-%d')} par `scripts/bench_maps.py` (2 cœurs, "
        "Chromium headless sans réseau). Base de comparaison mesurée dans la même "
        "exécution : folium « simple », un `folium.Marker` + `folium.Popup` par "
        "annotation (ressources intégrées pour s'ouvrir hors ligne). Livré : "
        "`build_web_map` (table JSON unique, marqueurs créés dans le navigateur, "
        "regroupement MarkerCluster, popups construites à l'ouverture). Chargement = "
        "`loadEventEnd − navigationStart`. Mémoire = pic Python (tracemalloc) pendant "
        "la construction. Ratio = base ÷ livré (plus grand = mieux).",
        "",
        "| annotations | approche | construction | taille HTML | pic mémoire | "
        "chargement navigateur |",
        "|---|---|---|---|---|---|",
    ]
    for n, res in rows:
        for label, (b, size, peak, load) in res.items():
            lines.append(
                f"| {n:,} | {label} | {b:.2f} s | {size / 1e6:.1f} Mo | "
                f"{peak / 1e6:.0f} Mo | {_fmt_s(load)} |".replace(",", " ")
            )
        base, ours = res["folium, un marqueur par annotation"], res["qmi_geo (livré)"]
        lines.append(
            f"| {n:,} | **ratio base ÷ livré** | {_ratio(base[0], ours[0])} | "
            f"{_ratio(base[1], ours[1])} | {_ratio(base[2], ours[2])} | "
            f"{_ratio(base[3], ours[3])} |".replace(",", " ")
        )
    text = "\n".join(lines) + "\n"
    bench = REPO / "BENCHMARKS.md"
    old = bench.read_text(encoding="utf-8") if bench.exists() else "# Benchmarks\n"
    if SECTION in old:
        start = old.index(SECTION)
        nxt = old.find("\n## ", start + len(SECTION))
        old = old[:start] + text + (old[nxt + 1 :] if nxt != -1 else "")
        new = old
    else:
        new = old.rstrip("\n") + "\n\n" + text
    bench.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
