"""Shared by the benchmark scripts: the machine, best-of-N timing, BENCHMARKS.md sections.

Every ``scripts/bench_*.py`` writes one ``## `` section of BENCHMARKS.md, replacing its
previous version in place (the other sections are left as they are), and starts it with the
machine and date from :func:`machine_line`.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "BENCHMARKS.md"


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    """One line: date (UTC), CPU, cores, memory, Python — and the load at the start."""
    cpu = cpu_model()
    try:
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{mem_kb / 1024**2:.0f} GiB"
    except (OSError, ValueError, IndexError):
        mem = "?"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Measured {now} on {cpu}, {os.cpu_count()} cores, {mem}, Python "
        f"{platform.python_version()}; load average {load:.1f} at the start (other work on "
        f"the machine, or the previous script of `make bench`). Times are best-of-N."
    )


def best_of(n: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Smallest wall-clock time of ``n`` calls of ``fn`` and the last call's result."""
    best = float("inf")
    result: Any = None
    for _ in range(n):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def run_cold(args: Sequence[str], *, cwd: Path | None = None) -> tuple[float, float, str]:
    """Run a fresh Python process; return (wall seconds, its max RSS in MiB, stdout)."""
    wall, rss, stdout, _lines = run_cold_timed(args, cwd=cwd)
    return wall, rss, stdout


def run_cold_timed(
    args: Sequence[str], *, cwd: Path | None = None
) -> tuple[float, float, str, list[tuple[float, str]]]:
    """:func:`run_cold`, with each line of its stderr and when it arrived (seconds from start).

    ``qmi`` writes one line per step to stderr when it is not a terminal, as it goes: their
    arrival times split the run into its steps (stdout goes to a file, so neither pipe can
    fill up while the other is read).
    """
    import tempfile

    wrapper = (
        "import runpy, sys, time\n"
        "t = time.perf_counter()\n"
        "sys.argv = sys.argv[1:]\n"
        "try:\n"
        "    runpy.run_path(sys.argv[0], run_name='__main__') if sys.argv[0].endswith('.py') "
        "else runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
        "except SystemExit as exc:\n"
        "    if exc.code not in (0, None): raise\n"
        # VmHWM, not ru_maxrss: Linux carries the parent's ru_maxrss over fork and exec
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
        "sys.stderr.write(f'\\n@@bench {time.perf_counter() - t} {hwm[0].split()[1]}\\n')\n"
    )
    lines: list[tuple[float, str]] = []
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        t = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", wrapper, *args],
            cwd=cwd or ROOT,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append((time.perf_counter() - t, line.rstrip("\n")))
        code = proc.wait()
        wall = time.perf_counter() - t
        out.seek(0)
        stdout = out.read()
    if code != 0:
        tail = "\n".join(text for _t, text in lines)[-3000:]
        raise SystemExit(f"{' '.join(args)} failed ({code}):\n{tail}")
    rss = 0.0
    for _t, line in lines:
        if line.startswith("@@bench "):
            rss = int(line.split()[2]) / 1024
    return wall, rss, stdout, lines


def write_section(header: str, text: str, path: Path = BENCHMARKS) -> Path:
    """Replace the section starting with ``header`` (a ``## `` line) by ``text``, or append it."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    body = text.rstrip("\n") + "\n"
    if header in old:
        start = old.index(header)
        nxt = old.find("\n## ", start + len(header))
        new = old[:start] + body + ("\n" + old[nxt + 1 :] if nxt >= 0 else "")
    else:
        new = old.rstrip("\n") + "\n\n" + body
    path.write_text(new, encoding="utf-8")
    return path


def fmt_ratio(x: float) -> str:
    """A ratio as ``×2.4``."""
    return f"×{x:.2f}" if x < 10 else f"×{x:.1f}"
