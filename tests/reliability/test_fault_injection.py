"""Fault injection: real ``qmi`` subprocesses interrupted with SIGINT (Ctrl-C) at many points.

After every interruption: exit status 130 with one French line and no traceback (or 0 if
the run had finished), every record stored before is still in the commune's store, no
output file is partial (every GeoPackage opens with the complete run's layers, every CSV
parses with the complete run's columns, the raster opens, the HTML page is whole) and no
temporary file is left. Two imports into one store at once lose and duplicate nothing.

The points are spread over the duration of a complete run measured first on this machine
(so they land in every phase: start-up and imports, reading, computing, writing). The
default test run interrupts a few points; ``make test-long`` (CI) runs all of them: 16 in
``qmi walks import`` and 16 in ``qmi diagnose``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import rasterio

from .conftest import DEMO_WALKS, write_spec

GARE = (48.931977, 2.495768)
TMP_PREFIX = ".qmi-tmp-"


def _qmi() -> list[str]:
    script = Path(sys.executable).with_name("qmi")
    return [str(script)] if script.exists() else [sys.executable, "-m", "qmi_geo"]


def _walk_file(folder: Path, i: int, rows: int = 3) -> Path:
    """A small walk file whose annotations are its own (comments carry its number)."""
    path = folder / f"marche_{i:02d}_synthetique.csv"
    lines = ["latitude;longitude;theme;commentaire"]
    for k in range(rows):
        lines.append(f"{GARE[0] + 0.0004 * k:.6f};{GARE[1] + 0.0003 * i:.6f};bruit;fichier {i}-{k}")
    lines.append(";;bruit;sans position")  # one reject per file
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(args: list[str], delay: float | None) -> tuple[int, str, str, float]:
    """Run ``qmi args``; send SIGINT after ``delay`` seconds (None: let it finish)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    start = time.monotonic()
    proc = subprocess.Popen(
        [*_qmi(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    if delay is not None:
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=600)
    return proc.returncode, out, err, time.monotonic() - start


def _ids(store: Path) -> set[str]:
    if not store.exists():
        return set()
    df = pyogrio.read_dataframe(store, layer="annotations", read_geometry=False)
    return set(df["id"].astype(str))


def _comments(store: Path) -> set[str]:
    df = pyogrio.read_dataframe(store, layer="annotations", read_geometry=False)
    return set(df["commentaire"].astype(str))


@dataclass
class Outputs:
    """What a complete run wrote: layers of each GeoPackage, columns of each CSV."""

    layers: dict[str, set[str]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, folder: Path) -> Outputs:
        self = cls()
        for path in folder.glob("*.gpkg"):
            self.layers[path.name] = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
        for path in folder.glob("*.csv"):
            self.columns[path.name] = list(_read_csv(path).columns)
        return self


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _problems(folder: Path, complete: Outputs, rc: int, err: str) -> list[str]:
    """Everything wrong with an output folder after a (possibly interrupted) run."""
    bad: list[str] = []
    if rc not in (0, 130):
        bad.append(f"exit status {rc}")
    if "Traceback" in err:
        bad.append(f"traceback on stderr: {err[-600:]}")
    last = [line for line in err.splitlines() if line.strip()][-1:] or [""]
    if rc == 130 and not last[0].startswith("Interrompu : "):
        bad.append(f"last stderr line is not « Interrompu : ... »: {last[0]!r}")
    left = [p.name for p in folder.rglob(f"{TMP_PREFIX}*")]
    if left:
        bad.append(f"temporary files left: {left}")
    for path in folder.glob("*.gpkg"):
        try:
            layers = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
        except Exception as exc:
            bad.append(f"{path.name} does not open: {exc}")
            continue
        expected = complete.layers.get(path.name)
        if path.name == "annotations.gpkg":
            if not {"annotations", "fichiers"} <= layers:
                bad.append(f"{path.name} layers {sorted(layers)}")
        elif expected is not None and layers != expected:
            bad.append(f"{path.name} holds {sorted(layers)}, complete run {sorted(expected)}")
    for path in folder.glob("*.csv"):
        try:
            columns = list(_read_csv(path).columns)
        except Exception as exc:
            bad.append(f"{path.name} does not parse: {exc}")
            continue
        expected_cols = complete.columns.get(path.name)
        if expected_cols is not None and path.name != "rejets.csv" and columns != expected_cols:
            bad.append(f"{path.name} columns differ from the complete run's")
    for path in folder.glob("*.tif"):
        try:
            with rasterio.open(path) as src:
                src.read(1)
        except Exception as exc:
            bad.append(f"{path.name} does not open: {exc}")
    for path in folder.glob("*.html"):
        if not path.read_text(encoding="utf-8").rstrip().endswith("</html>"):
            bad.append(f"{path.name} is not a whole page")
    for path in folder.glob("*.pdf"):
        data = path.read_bytes()
        if not (data.startswith(b"%PDF") and b"%%EOF" in data[-1024:]):
            bad.append(f"{path.name} is not a whole PDF")
    return bad


def _startup_s() -> float:
    """How long this machine takes to start Python (the first points are multiples of it)."""
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.monotonic() - start


def _spread(total: float, n: int, early: list[float]) -> list[float]:
    """``early`` points plus ``n - len(early)`` points spread evenly over ``total``."""
    rest = n - len(early)
    return [*early, *(total * (i + 0.5) / rest for i in range(rest))][:n]


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[Path, Path]:
    """A spec for Aulnay-sous-Bois with the demo walk files, and its output folder."""
    walks = tmp_path / "marches"
    walks.mkdir()
    files = [
        shutil.copy(DEMO_WALKS / n, walks / n)
        for n in (
            "aulnay-sous-bois_marche_synthetique.csv",
            "aulnay-sous-bois_kobo_synthetique.csv",
        )
    ]
    out = tmp_path / "sortie"
    spec = write_spec(tmp_path, [Path(f) for f in files], out=out)
    return spec, out


def _interrupt_imports(spec: Path, out: Path, n: int) -> tuple[int, list[str]]:
    """Interrupt ``qmi walks import`` at ``n`` points; return (interrupted, problems)."""
    folder = out.parent / "imports"
    folder.mkdir(exist_ok=True)
    store = out / "annotations.gpkg"
    base = ["walks", "import", "--spec", str(spec), "--sortie", str(out)]
    rc, _, err, total = _run([*base, str(_walk_file(folder, 0))], None)
    assert rc == 0, err
    complete = Outputs.of(out)
    known = _ids(store)
    t0 = _startup_s()
    interrupted, problems = 0, []
    for i, delay in enumerate(_spread(total, n, [3 * t0, 5 * t0, 8 * t0]), start=1):
        path = _walk_file(folder, i)
        rc, _, err, _ = _run([*base, str(path)], delay)
        interrupted += rc == 130
        where = f"import {i} (SIGINT after {delay * 1000:.0f} ms, exit {rc})"
        problems += [f"{where}: {p}" for p in _problems(out, complete, rc, err)]
        now = _ids(store)
        if not known <= now:
            problems.append(f"{where}: {len(known - now)} earlier annotation(s) lost")
        mine = {c for c in _comments(store) if c.startswith(f"fichier {i}-")}
        if rc == 0 and len(mine) != 3:
            problems.append(f"{where}: finished but {len(mine)} of 3 annotations stored")
        if len(mine) not in (0, 3):
            problems.append(f"{where}: partial import, {len(mine)} of 3 annotations")
        known = now
    return interrupted, problems


def _interrupt_diagnoses(
    spec: Path, out: Path, n: int, options: list[str]
) -> tuple[int, list[str]]:
    """Interrupt ``qmi diagnose`` at ``n`` points; return (interrupted, problems)."""
    store = out / "annotations.gpkg"
    base = ["diagnose", str(spec), *options]
    rc, _, err, total = _run(base, None)
    assert rc == 0, err
    complete = Outputs.of(out)
    assert "diagnostic.gpkg" in complete.layers and len(complete.layers["diagnostic.gpkg"]) > 10
    known = _ids(store)
    t0 = _startup_s()
    interrupted, problems = 0, []
    for i, delay in enumerate(_spread(total, n, [4 * t0]), start=1):
        rc, _, err, _ = _run(base, delay)
        interrupted += rc == 130
        where = f"diagnose {i} (SIGINT after {delay * 1000:.0f} ms, exit {rc})"
        problems += [f"{where}: {p}" for p in _problems(out, complete, rc, err)]
        now = _ids(store)
        if not known <= now:
            problems.append(f"{where}: {len(known - now)} earlier annotation(s) lost")
        known |= now
    return interrupted, problems


def _concurrent_imports(spec: Path, out: Path, rounds: int) -> list[str]:
    """Two imports into one store at once, ``rounds`` times: nothing lost or duplicated."""
    folder = out.parent / "concurrent"
    folder.mkdir(exist_ok=True)
    store = out / "annotations.gpkg"
    problems: list[str] = []
    for r in range(rounds):
        before = _ids(store)
        a, b = _walk_file(folder, 50 + 2 * r), _walk_file(folder, 51 + 2 * r)
        base = ["walks", "import", "--spec", str(spec), "--sortie", str(out)]
        procs = [
            subprocess.Popen(
                [*_qmi(), *base, str(p)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for p in (a, b)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=600)
            if proc.returncode != 0:
                problems.append(f"round {r}: exit {proc.returncode}: {err.decode()[-300:]}")
        stored = pyogrio.read_dataframe(store, layer="annotations", read_geometry=False)
        if not stored["id"].is_unique:
            problems.append(f"round {r}: duplicated annotations")
        for path in (a, b):
            n = int((stored["source_fichier"] == path.name).sum())
            if n != 3:
                problems.append(f"round {r}: {path.name} has {n} of 3 annotations")
        if not before <= set(stored["id"]):
            problems.append(f"round {r}: earlier annotations lost")
        rejects = _read_csv(out / "rejets.csv")
        for path in (a, b):
            if (rejects["fichier"] == path.name).sum() != 1:
                problems.append(f"round {r}: reject of {path.name} missing from rejets.csv")
    return problems


def test_interrupted_import_and_diagnose_smoke(workspace: tuple[Path, Path]) -> None:
    spec, out = workspace
    quick = ["--sans-carte", "--sans-rapport"]
    got_i, problems = _interrupt_imports(spec, out, 3)
    got_d, more = _interrupt_diagnoses(spec, out, 2, quick)
    assert problems + more == [], "\n".join(problems + more)
    assert got_i + got_d >= 3  # most points really interrupted a running command


def test_concurrent_imports_lose_and_duplicate_nothing(workspace: tuple[Path, Path]) -> None:
    spec, out = workspace
    rc, _, err, _ = _run(
        [
            "walks",
            "import",
            "--spec",
            str(spec),
            "--sortie",
            str(out),
            str(_walk_file(out.parent, 99)),
        ],
        None,
    )
    assert rc == 0, err
    assert _concurrent_imports(spec, out, 1) == []


@pytest.mark.long
def test_thirty_two_interruption_points(workspace: tuple[Path, Path]) -> None:
    spec, out = workspace
    got_i, problems = _interrupt_imports(spec, out, 16)
    got_d, more = _interrupt_diagnoses(spec, out, 13, ["--sans-rapport"])
    got_r, rest = _interrupt_diagnoses(spec, out, 3, [])  # with the PDF livrable
    found = problems + more + rest
    assert found == [], "\n".join(found)
    assert got_i + got_d + got_r >= 24, (got_i, got_d, got_r)
    assert _concurrent_imports(spec, out, 3) == []
