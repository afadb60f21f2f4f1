"""At exit, the command's objects are left to the system, not to a last garbage collection."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return proc.stdout.strip()


def test_a_command_freezes_the_collector_at_exit_once() -> None:
    # the objects alive at exit (layers, tables, modules) are moved out of Python's final
    # collection by the exit handler; the handler is registered once per process however
    # many commands run in it
    out = _run(
        """
        import atexit, gc
        from click.testing import CliRunner
        from qmi_geo.cli.main import cli
        before = atexit._ncallbacks()
        for _ in range(3):
            assert CliRunner().invoke(cli, ["diagnose", "--help"]).exit_code == 0
        added = atexit._ncallbacks() - before
        frozen_before = gc.get_freeze_count()
        atexit._run_exitfuncs()
        print(added, frozen_before, gc.get_freeze_count() > 0)
        """
    )
    assert out == "1 0 True"


def test_a_library_import_alone_leaves_the_collector_alone() -> None:
    # importing the CLI (or using qmi_geo as a library) registers nothing: only a command does
    out = _run(
        """
        import atexit, gc
        import qmi_geo.cli.main, qmi_geo.pipeline
        atexit._run_exitfuncs()
        print(gc.get_freeze_count())
        """
    )
    assert out == "0"
