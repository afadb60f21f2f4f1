"""Ctrl-C: one French line saying what was completed, exit status 130, never a traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qmi_geo import _atomic
from qmi_geo._interrupt import interrupted_message

from .test_fault_injection import _qmi, _startup_s


def test_message_when_nothing_was_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_atomic, "_COMPLETED", [])
    assert interrupted_message() == "Interrompu : rien n'a été modifié."


def test_message_names_the_completed_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_atomic, "_COMPLETED", [])
    _atomic.write_text(tmp_path / "rapport_validation.txt", "ok")
    _atomic.write_text(tmp_path / "rejets.csv", "a;b\n")
    with pytest.raises(KeyboardInterrupt), _atomic.atomic_path(tmp_path / "diagnostic.gpkg"):
        raise KeyboardInterrupt  # an interrupted write is not completed
    assert interrupted_message() == (
        "Interrompu : 2 fichier(s) écrit(s) en entier avant l'interruption "
        "(rapport_validation.txt, rejets.csv) ; rien d'autre n'a été modifié."
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rapport_validation.txt", "rejets.csv"]


def test_ctrl_c_while_the_command_is_still_importing(tmp_path: Path) -> None:
    """SIGINT in the first tenth of a second of ``qmi walks import``: no traceback."""
    walk = tmp_path / "marche_synthetique.csv"
    walk.write_text("lat;lon;theme\n48.93;2.49;bruit\n", encoding="utf-8")
    delay = max(3 * _startup_s(), 0.06)
    proc = subprocess.Popen(
        [*_qmi(), "walks", "import", str(walk), "--spec", "93005", "--sortie", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert err == "Interrompu : rien n'a été modifié.\n"
    assert not (tmp_path / "annotations.gpkg").exists()


def test_python_m_qmi_geo_is_covered_too(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "qmi_geo", "diagnose", "93005", "--sortie", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(max(4 * _startup_s(), 0.08))
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err
    assert err.splitlines()[-1] == "Interrompu : rien n'a été modifié."
