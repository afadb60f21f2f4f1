"""Benchmark of the carte sensible's annotation layer against folium's own clustering (issue 13).

For 1,000 and 50,000 synthetic annotations over Aulnay-sous-Bois, in the same run:

* **FastMarkerCluster** — ``folium.plugins.FastMarkerCluster``: the strongest plain folium
  approach (one data array, markers created in the browser by a callback), each marker with
  a popup holding the same information as ours (theme, ressenti, intensité, comment, date;
  text HTML-escaped in Python);
* **MarkerCluster** — ``folium.plugins.MarkerCluster`` with one ``folium.Marker`` and one
  ``folium.Popup`` per annotation (the usual folium tutorial);
* **shipped** — :func:`qmi_geo.maps.build_web_map` with the annotations only.

Both baselines are ``folium.Map`` pages with every asset inlined (jQuery included, which
``folium.Popup`` needs), so all three open offline. Each page is opened in a fresh headless
Chromium with the network blocked. Measured:

* build: Python time to write the page (best of 3);
* every marker on the map: a probe script added to each page polls (every 10 ms) for a
  MarkerClusterGroup on the map holding all N markers, then records ``performance.now()``
  once the next frame has been drawn (so the clusters are on screen; not ``loadEventEnd``,
  which comes before chunked clustering ends);
* page size, and peak memory of the page's renderer process (``VmHWM``).

Equivalence, failing loudly: in each page, every marker's position (6 decimals) and its
popup's text (popups built by calling their content function where lazy) are read back;
each must match an input annotation's position, theme label and comment, one to one.

Run: ``.venv/bin/python scripts/bench_maps.py`` (a few minutes); writes the section
« Cartes » of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
from _bench import ROOT, fmt_ratio, machine_line, write_section
from folium.plugins import FastMarkerCluster, MarkerCluster

sys.path.insert(0, str(ROOT / "tests" / "maps"))

from conftest import LAYERS, make_annotations

from qmi_geo.maps import build_web_map
from qmi_geo.maps._assets import inline_assets
from qmi_geo.maps._render import render_page
from qmi_geo.style import THEMES, VALENCES

HEADER = "## Cartes (issue 13) — carte sensible : couche des annotations"
OLD_HEADERS = ("## Cartes (issue 5) — carte sensible augmentée : couche des annotations",)
SIZES = (1_000, 50_000)
TIMEOUT_S = 240
OPENINGS = 3  # fresh browser openings per page: best time, largest peak memory

PROBE = """<script>
(function () {
  var N = %d;
  function clusters() {
    var out = [];
    for (var k in window) {
      var v; try { v = window[k]; } catch (e) { continue; }
      if (!v || typeof v !== "object") { continue; }
      if (v.qmiCluster) { v = v.qmiCluster; }
      if (window.L && L.MarkerClusterGroup && v instanceof L.MarkerClusterGroup) { out.push(v); }
    }
    return out;
  }
  function check() {
    var c = clusters();
    for (var i = 0; i < c.length; i++) {
      if (c[i]._map && c[i].getLayers().length >= N) {
        // every marker is in the group on the map: the moment is the end of the first frame
        // drawn after that (a task queued from the next animation frame runs after it)
        window.__cluster = c[i];
        requestAnimationFrame(function () {
          setTimeout(function () { window.__allMarkers = performance.now(); }, 0);
        });
        return;
      }
    }
    setTimeout(check, 10);
  }
  check();
})();
</script>"""

READ_BACK = """
var ms = window.__cluster.getLayers(), out = new Array(ms.length);
for (var i = 0; i < ms.length; i++) {
  var m = ms[i], ll = m.getLatLng(), p = m.getPopup();
  var c = p ? p.getContent() : "";
  if (typeof c === "function") { c = c(m); }
  var text = (c && c.nodeType) ? c.textContent : String(c || "");
  if (!c.nodeType) {
    var d = document.createElement("div"); d.innerHTML = text; text = d.textContent;
  }
  out[i] = [ll.lat.toFixed(6), ll.lng.toFixed(6), text];
}
return out;
"""


def _popup_html(theme: str, valence: str, intensite: Any, comment: str, date: str) -> str:
    label = THEMES[theme].label if theme in THEMES else theme
    parts = [f"<h3>{html.escape(label)}</h3>", f"Ressenti : {html.escape(VALENCES[valence].label)}"]
    if intensite is not None and intensite == intensite:
        parts.append(f"Intensité : {int(intensite)} / 3")
    parts += [f"Commentaire : {html.escape(comment)}", f"Date : {html.escape(date)}"]
    return "<br>".join(parts)


def _rows(ann: gpd.GeoDataFrame) -> list[list[Any]]:
    wgs = ann.to_crs(4326)
    dates = wgs["horodatage"].dt.strftime("%Y-%m-%d %H:%M")
    return [
        [round(g.y, 6), round(g.x, 6), _popup_html(t, v, i, c, d)]
        for g, t, v, i, c, d in zip(
            wgs.geometry,
            wgs["theme"],
            wgs["valence"],
            wgs["intensite"].astype(object),
            wgs["commentaire"],
            dates,
            strict=True,
        )
    ]


def _page(m: folium.Map, out: Path) -> Path:
    out.write_text(inline_assets(render_page(m.get_root())), encoding="utf-8")
    return out


def _base_map(perimeter: gpd.GeoDataFrame) -> folium.Map:
    w, s, e, n = perimeter.to_crs(4326).total_bounds
    return folium.Map(location=[(s + n) / 2, (w + e) / 2], zoom_start=13, tiles=None, maxZoom=20)


def fast_marker_cluster(ann: gpd.GeoDataFrame, perimeter: gpd.GeoDataFrame, out: Path) -> Path:
    m = _base_map(perimeter)
    callback = (
        "function (row) { var marker = L.marker(new L.LatLng(row[0], row[1]));"
        " marker.bindPopup(row[2], {maxWidth: 300}); return marker; }"
    )
    FastMarkerCluster(_rows(ann), callback=callback).add_to(m)
    return _page(m, out)


def marker_cluster(ann: gpd.GeoDataFrame, perimeter: gpd.GeoDataFrame, out: Path) -> Path:
    m = _base_map(perimeter)
    cluster = MarkerCluster().add_to(m)
    for lat, lon, popup in _rows(ann):
        folium.Marker([lat, lon], popup=folium.Popup(popup, max_width=300)).add_to(cluster)
    return _page(m, out)


def shipped(ann: gpd.GeoDataFrame, perimeter: gpd.GeoDataFrame, out: Path) -> Path:
    return build_web_map(
        {}, perimeter=perimeter, title="bench", out_path=out, annotations=ann, drawing=False
    )


METHODS: dict[str, Callable[[gpd.GeoDataFrame, gpd.GeoDataFrame, Path], Path]] = {
    "FastMarkerCluster (folium)": fast_marker_cluster,
    "MarkerCluster + Marker + Popup (folium)": marker_cluster,
    "qmi_geo `build_web_map` (shipped)": shipped,
}


def _renderer_peak_mib(driver: Any) -> float:
    """Largest VmHWM among the Chromium renderer processes started by this driver."""
    root = driver.service.process.pid
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue

    def descends(pid: int) -> bool:
        while pid in parents and pid > 1:
            if parents[pid] == root:
                return True
            pid = parents[pid]
        return False

    peak = 0.0
    for pid in parents:
        if not descends(pid):
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if b"--type=renderer" not in cmd:
            continue
        found = re.search(r"VmHWM:\s+(\d+) kB", status)
        if found:
            peak = max(peak, int(found.group(1)) / 1024)
    return peak


def open_page(
    path: Path, n: int, *, read_back: bool = True
) -> tuple[float, float, list[list[str]]]:
    """(seconds to every marker on the map, renderer peak MiB, markers read back or [])."""
    from qmi_geo._browser import offline_chromium

    probed = path.with_name(path.stem + "_probe.html")
    text = path.read_text(encoding="utf-8")
    probed.write_text(text.replace("</body>", PROBE % n + "</body>", 1), encoding="utf-8")
    driver = offline_chromium(tempfile.mkdtemp(prefix="bench_maps_profile_"))
    try:
        driver.set_page_load_timeout(TIMEOUT_S)
        driver.set_script_timeout(TIMEOUT_S)
        driver.get(probed.as_uri())
        deadline = time.monotonic() + TIMEOUT_S
        shown = None
        while time.monotonic() < deadline:
            shown = driver.execute_script("return window.__allMarkers || null;")
            if shown:
                break
            time.sleep(0.05)
        if not shown:
            raise SystemExit(f"{path.name}: not every marker reached the map in {TIMEOUT_S} s")
        peak = _renderer_peak_mib(driver)
        markers = driver.execute_script(READ_BACK) if read_back else []
        return float(shown) / 1000, peak, markers
    finally:
        driver.quit()


def check_equivalent(label: str, markers: list[list[str]], ann: gpd.GeoDataFrame) -> None:
    """Every marker is one input annotation, at its place, with its theme and comment."""
    wgs = ann.to_crs(4326)
    expected: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for g, t, c in zip(wgs.geometry, wgs["theme"], wgs["commentaire"], strict=True):
        expected.setdefault((f"{g.y:.6f}", f"{g.x:.6f}"), []).append((THEMES[t].label, c))
    if len(markers) != len(ann):
        raise SystemExit(f"{label}: {len(markers)} markers for {len(ann)} annotations")
    for lat, lon, text in markers:
        here = expected.get((lat, lon), [])
        match = next((e for e in here if e[0] in text and e[1] in text), None)
        if match is None:
            raise SystemExit(f"{label}: marker at {(lat, lon)} matches no annotation: {text!r}")
        here.remove(match)  # one to one
    left = sum(len(v) for v in expected.values())
    if left:
        raise SystemExit(f"{label}: {left} annotations have no marker")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=list(SIZES))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    machine = machine_line()
    com = gpd.read_file(
        LAYERS / "admin_express_2018_gregoiredavid/communes_qmi.gpkg", layer="communes_qmi"
    )
    perimeter = com[com["code"] == "93005"]
    tmp = Path(tempfile.mkdtemp(prefix="bench_maps_"))
    results: dict[int, dict[str, tuple[float, int, float, float]]] = {}
    for n in args.sizes:
        ann = make_annotations(perimeter, n, seed=n)
        ann["commentaire"] = [f"commentaire synthétique n° {i} : trottoir étroit" for i in range(n)]
        results[n] = {}
        # builds and openings interleaved (each round does every approach once), so that
        # load from other jobs drifting over the run weighs on every side alike
        paths = {label: tmp / f"{fn.__name__}_{n}.html" for label, fn in METHODS.items()}
        builds = dict.fromkeys(METHODS, float("inf"))
        for _ in range(3):
            for label, fn in METHODS.items():
                t = time.perf_counter()
                fn(ann, perimeter, paths[label])
                builds[label] = min(builds[label], time.perf_counter() - t)
        shown = dict.fromkeys(METHODS, float("inf"))
        peaks = dict.fromkeys(METHODS, 0.0)
        for round_ in range(OPENINGS):
            for label in METHODS:
                secs, peak, markers = open_page(paths[label], n, read_back=round_ == 0)
                if round_ == 0:
                    check_equivalent(label, markers, ann)
                shown[label], peaks[label] = min(shown[label], secs), max(peaks[label], peak)
        for label in METHODS:
            size = paths[label].stat().st_size
            results[n][label] = (builds[label], size, shown[label], peaks[label])
            print(n, label, f"build {builds[label]:.2f}s", f"{size / 1e6:.2f}MB",
                  f"shown {shown[label]:.2f}s", f"peak {peaks[label]:.0f}MiB", "equivalent",
                  flush=True)  # fmt: skip
    text = section(results, machine)
    print(text)
    if not args.no_write:
        from _bench import BENCHMARKS

        old = BENCHMARKS.read_text(encoding="utf-8")
        for header in OLD_HEADERS:  # the superseded, unfair comparison
            if header in old:
                start = old.index(header)
                nxt = old.find("\n## ", start + len(header))
                old = old[:start] + (old[nxt + 1 :] if nxt >= 0 else "")
        BENCHMARKS.write_text(old, encoding="utf-8")
        print(write_section(HEADER, text))


def section(results: dict[int, dict[str, tuple[float, int, float, float]]], machine: str) -> str:
    fast, ours = "FastMarkerCluster (folium)", "qmi_geo `build_web_map` (shipped)"
    lines = [
        HEADER,
        "",
        "`scripts/bench_maps.py`. " + machine,
        "",
        "Synthetic annotations over Aulnay-sous-Bois; each page opened in a fresh headless "
        "Chromium with the network blocked. Baselines: `folium.Map` pages with every asset "
        "inlined (jQuery included, so `folium.Popup` works offline), popups holding the same "
        "information as ours. « Every marker shown »: a probe polls (10 ms) for a "
        "MarkerClusterGroup on the map holding all N markers, then takes `performance.now()` "
        "after the next frame is drawn (clusters on screen; not `loadEventEnd`); best of "
        f"{OPENINGS} openings, each in a fresh browser, the approaches taking turns (builds "
        "too). Memory: largest peak resident memory "
        "(VmHWM) of the page's renderer over those openings. Build: best of 3. Equivalence: "
        "every marker's position and popup text read back from each "
        "page match one input annotation (position, theme, comment), one to one — checked "
        "for every page below.",
        "",
        "| annotations | approach | build | every marker shown | HTML size | renderer peak |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    verdicts = []
    for n, res in results.items():
        for label, (build, size, shown, peak) in res.items():
            lines.append(
                f"| {n:,} | {label} | {build:.2f} s | {shown:.2f} s | {size / 1e6:.2f} MB | "
                f"{peak:.0f} MiB |".replace(",", " ")
            )
        f, o = res[fast], res[ours]
        lines.append(
            f"| {n:,} | **FastMarkerCluster ÷ shipped** | {fmt_ratio(f[0] / o[0])} | "
            f"{fmt_ratio(f[2] / o[2])} | {fmt_ratio(f[1] / o[1])} | "
            f"{fmt_ratio(f[3] / o[3])} |".replace(",", " ")
        )
        if n == max(results):
            verdicts = [
                ("faster to build", o[0] < f[0], f"{o[0]:.2f} s vs {f[0]:.2f} s"),
                ("faster to show every marker", o[2] < f[2], f"{o[2]:.2f} s vs {f[2]:.2f} s"),
                ("no larger", o[1] <= f[1], f"{o[1] / 1e6:.2f} MB vs {f[1] / 1e6:.2f} MB"),
            ]
    lines += ["", f"Target at {max(results):,} annotations, shipped vs FastMarkerCluster:"]
    lines += [
        f"- {what}: {'met' if ok else '**not met**'} ({detail})" for what, ok, detail in verdicts
    ]
    lines.append("")
    return "\n".join(lines).replace("50,000", "50 000")


if __name__ == "__main__":
    main()
