"""The livrable's figures are drawn together, in two processes where it can: same livrable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from qmi_geo import _overlap
from qmi_geo.pipeline import load_layers
from qmi_geo.report import build
from qmi_geo.spec import load_spec

KEYS = ("situation", "qpv", "coupures", "sites")


@pytest.fixture(scope="module")
def meudon() -> Any:
    return load_layers(load_spec("92048"))


def _page(meudon: Any) -> tuple[build._Figures, str]:
    """A page of four real maps of Meudon and a quote that looks like a placeholder."""
    batch = build._Figures()
    imgs = [batch("quarter_map", key, meudon.layers, meudon.perimeter) for key in KEYS]
    quote = "<q>qmi-figure-0123456789abcdef-0 : « ici » &amp; là</q>"
    return batch, quote + "".join(f'<img src="{src}">' for src in imgs)


def test_every_placeholder_becomes_its_own_figure(
    meudon: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(_overlap.ENV, "0")
    batch, html = _page(meudon)
    calls: list[int] = []
    filled = batch.fill(html, before=lambda: calls.append(os.getpid()))
    assert calls == [os.getpid()]
    assert "qmi-figure-0123456789abcdef-0 : « ici »" in filled  # the quote is untouched
    assert filled.count('src="data:image/png;base64,') == len(KEYS)
    assert batch._token(0) not in filled
    uris = [part.split('"')[0] for part in filled.split('<img src="')[1:]]
    assert len(set(uris)) == len(KEYS)  # four different maps, each in its own place
    assert uris[0] == build._figure("quarter_map", KEYS[0], meudon.layers, meudon.perimeter)


#: run in a fresh Python: the test process may hold threads (a browser driver's, a dask
#: cluster's) that keep the overlap off, as :func:`qmi_geo._overlap.available` requires
_TWO_PROCESSES = """
import json, os, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import test_figure_batch as t
from qmi_geo import _overlap
from qmi_geo.pipeline import load_layers
from qmi_geo.report import build
from qmi_geo.spec import load_spec

log = Path(sys.argv[2])
t._note_drawer(build, log)
meudon = load_layers(load_spec("92048"))
batch, html = t._page(meudon)
os.environ[_overlap.ENV] = "0"
alone = batch.fill(html)
alone_pids = {line.split()[1] for line in log.read_text().splitlines()}
log.unlink()
os.environ[_overlap.ENV] = "1"
available = _overlap.available()
calls = []
together = batch.fill(html, before=lambda: calls.append(os.getpid()))
drawn = dict(line.split() for line in log.read_text().splitlines())
failing = build._Figures()
page = failing("quarter_map", "situation", meudon.layers, meudon.perimeter)
page += failing("carte_inconnue")  # the last figures are drawn by the child
try:
    failing.fill(page)
    error = ""
except AttributeError as exc:
    error = str(exc)
print(json.dumps({
    "available": available, "pid": str(os.getpid()), "alone_pids": sorted(alone_pids),
    "drawn": drawn, "calls": [str(c) for c in calls], "same": together == alone,
    "error": error,
}))
"""


def _note_drawer(build_module: Any, log: Path) -> None:
    """Note which process draws each figure (the forked child appends to the same file)."""
    draw = build_module._figure

    def noted(name: str, *args: Any, **kwargs: Any) -> str:
        with log.open("a", encoding="utf-8") as f:
            f.write(f"{args[0] if args else name} {os.getpid()}\n")
        return draw(name, *args, **kwargs)

    build_module._figure = noted


@pytest.mark.skipif(not _overlap.available(), reason="needs Linux, fork and two cores")
def test_figures_drawn_in_two_processes_are_the_figures_drawn_in_one(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _TWO_PROCESSES, str(Path(__file__).parent), str(tmp_path / "log")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, _overlap.ENV: "1"},
    )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["available"], "the fresh Python should allow the overlap"
    assert got["alone_pids"] == [got["pid"]]  # QMI_GEO_PARALLEL=0: all drawn here
    assert sorted(got["drawn"]) == sorted(KEYS)
    assert set(got["drawn"].values()) - {got["pid"]}, "no figure was drawn by a child"
    assert got["pid"] in got["drawn"].values()  # and some here, while WeasyPrint loads
    assert got["calls"] == [got["pid"]]  # before() runs here, once
    assert got["same"]  # the same page, byte for byte
    assert "carte_inconnue" in got["error"]  # a figure failing in the child fails the page
