"""Overlapped stages (qmi_geo._overlap): a forked child computes while the process goes on.

The child's value, warnings, exceptions and completed files reach the process; a child that
dies without answering is not trusted (its piece runs again here); an interrupted child
leaves no temporary file. A diagnostic run with the overlap gives the same result, files,
notes and GeoPackage layers, in the same order, as the sequential run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from qmi_geo import _atomic
from qmi_geo._overlap import ENV, Forked, available
from qmi_geo.errors import QmiGeoError

pytestmark = pytest.mark.skipif(not available(), reason="needs Linux, fork and two cores")


def test_value_warnings_and_completed_files_come_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_atomic, "_COMPLETED", [])
    parent = os.getpid()

    def work() -> tuple[int, bool]:
        warnings.warn("attention, venu de l'enfant", UserWarning, stacklevel=1)
        _atomic.write_text(tmp_path / "a.txt", "bonjour")
        return 42, os.getpid() != parent

    with pytest.warns(UserWarning, match="venu de l'enfant"):
        value = Forked(work).join()
    assert value == (42, True)  # computed in another process
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "bonjour"
    assert _atomic.completed_outputs() == [tmp_path / "a.txt"]


def test_exception_is_raised_here() -> None:
    def work() -> None:
        raise QmiGeoError("couche illisible : rues.gpkg")

    job = Forked(work)
    with pytest.raises(QmiGeoError, match="couche illisible"):
        job.join()


def test_a_child_dying_without_answer_is_run_again_here() -> None:
    parent = os.getpid()

    def work() -> str:
        if os.getpid() != parent:
            os._exit(3)  # killed, out of memory...
        return "calculé ici"

    assert Forked(work).join() == "calculé ici"


def test_cancel_interrupts_the_child_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "diagnostic.gpkg"
    started = tmp_path / "started"

    def work() -> None:
        with _atomic.atomic_path(target) as tmp:
            tmp.write_bytes(b"partiel")
            started.write_text("1")
            time.sleep(60)

    job = Forked(work)
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert any(p.name.startswith(_atomic.TMP_PREFIX) for p in tmp_path.iterdir())
    t0 = time.monotonic()
    job.cancel()
    assert time.monotonic() - t0 < 30  # the sleep was interrupted, not waited for
    assert sorted(p.name for p in tmp_path.iterdir()) == ["started"]
    with pytest.raises(ChildProcessError):
        os.waitpid(job.pid, os.WNOHANG)  # reaped


def test_overlap_off_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "0")
    assert not available()


#: counts the forked children of the script that follows it
_COUNT_FORKS = """
from qmi_geo import _overlap

forks = []
class Counted(_overlap.Forked):
    def __init__(self, work):
        forks.append(work)
        super().__init__(work)
_overlap.Forked = Counted
"""

#: run in a fresh Python: the test process may hold threads (dask, other tests) that keep
#: the overlap off, and the comparison must see both sides really differ in how they ran
_SAME_DIAGNOSE = (
    _COUNT_FORKS
    + """
import os, sys
from pathlib import Path
import pandas as pd, pyogrio
from qmi_geo import _atomic, _overlap
from qmi_geo.pipeline import default_stages, diagnose
from qmi_geo.spec import load_spec


def run(folder, parallel):
    os.environ[_overlap.ENV] = parallel
    return diagnose(load_spec("92071"), output_dir=folder, stages=default_stages(with_report=False))

tmp = Path(sys.argv[1])
seq = run(tmp / "seq", "0")
assert not forks
par = run(tmp / "par", "1")
assert len(forks) == 3, forks  # layers, quarter's indicators, web map
assert list(par.files) == list(seq.files)
assert [p.name for p in par.files.values()] == [p.name for p in seq.files.values()]
assert par.notes == seq.notes
assert list(par.extra_layers) == list(seq.extra_layers)
assert list(par.extra_tables) == list(seq.extra_tables)
assert list(par.products) == list(seq.products)
pd.testing.assert_frame_equal(par.products["indicators"], seq.products["indicators"])
gpkg = [pyogrio.list_layers(r.output_dir / "diagnostic.gpkg").tolist() for r in (seq, par)]
assert gpkg[0] == gpkg[1]
assert [n for n, _ in gpkg[0]][-3:] == ["indicateurs_iris", "appariements", "indicateurs"]
for name in ("indicateurs.csv", "appariements.csv", "services_commune.csv"):
    assert (seq.output_dir / name).read_bytes() == (par.output_dir / name).read_bytes()
assert (par.output_dir / "carte_sensible.html").stat().st_size > 100_000
assert not [p for p in par.output_dir.iterdir() if p.name.startswith(_atomic.TMP_PREFIX)]
print("identiques")
"""
)

_SAME_LAYERS = (
    _COUNT_FORKS
    + """
import os
import pandas as pd
from qmi_geo import _overlap
from qmi_geo.pipeline import load_layers
from qmi_geo.spec import load_spec


for pilot in ("92048", "93005"):  # Meudon (18 sources, OSM, FUB) and Aulnay-sous-Bois
    os.environ[_overlap.ENV] = "0"
    seq = load_layers(load_spec(pilot), progress=False)
    assert not forks
    os.environ[_overlap.ENV] = "1"
    par = load_layers(load_spec(pilot), progress=False)
    assert len(forks) == 1  # part of the sources were read by a child
    forks.clear()
    assert [str(i) for i in par.report.issues] == [str(i) for i in seq.report.issues]
    pd.testing.assert_frame_equal(par.report.rejects_frame(), seq.report.rejects_frame())
    assert par.counts == seq.counts and list(par.counts) == list(seq.counts)
    assert par.layer_errors == seq.layer_errors and par.coverage == seq.coverage
    assert list(par.layers) == list(seq.layers)
    for kind, frame in seq.layers.items():
        pd.testing.assert_frame_equal(par.layers[kind], frame, check_exact=True)
print("identiques")
"""
)


def _fresh_python(code: str, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "identiques", proc.stderr[-3000:]


def test_diagnose_same_with_and_without_overlap(tmp_path: Path) -> None:
    """Sceaux (real layers, FUB streets, matching, web map): the same result either way."""
    _fresh_python(_SAME_DIAGNOSE, str(tmp_path))


def test_layers_read_partly_in_a_child_are_the_same() -> None:
    """Meudon and Aulnay: same layers, counts, errors and report, in the same order."""
    _fresh_python(_SAME_LAYERS)


def test_objects_frozen_at_a_fork_go_back_to_the_collector_after_the_block() -> None:
    import gc

    from qmi_geo._overlap import frozen

    assert gc.get_freeze_count() == 0
    with frozen():
        assert Forked(lambda: 1).join() == 1
        # still frozen between the forks of a block, so the next child shares them too
        assert gc.get_freeze_count() > 0
        with frozen():  # nested (the livrable's figures inside a diagnostic)
            assert Forked(lambda: 2).join() == 2
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    # outside any block, a fork thaws as soon as its child is waited for
    job = Forked(lambda: 3)
    assert gc.get_freeze_count() > 0
    assert job.join() == 3
    assert gc.get_freeze_count() == 0


def test_a_failed_child_still_thaws() -> None:
    import gc

    from qmi_geo._overlap import frozen

    def boom() -> None:
        raise QmiGeoError("échec dans l'enfant")

    with frozen(), pytest.raises(QmiGeoError, match="échec"):
        Forked(boom).join()
    assert gc.get_freeze_count() == 0
