"""Run one piece of ``qmi diagnose`` in a forked copy of the process while this one goes on.

The stages of a diagnostic are mostly sequential, but a few pairs are independent (the
indicators and the matching of solutions; the web map and the writing of
``diagnostic.gpkg``): on a machine with two cores, a forked copy of the process (which
already holds every layer and every imported module) computes one while the process
computes the other, and sends back what it added to the result, pickled through a pipe.

The outputs are the same files with the same content: the child writes its files with
:func:`qmi_geo._atomic.atomic_path` like the process would, its warnings are re-issued in
the process, its exceptions re-raised there, and the files it completed are added to the
list an interrupted run reports. Ctrl-C reaches the process (SIGINT): it forwards the
signal to the child, whose temporary files are removed as in any interrupted write, and
waits for it before going on with its own interruption. A child that dies without an
answer (killed, out of memory) is not trusted: its piece is run again in the process.

Only on Linux, with at least two usable cores, from the main thread of a process without
other threads (a dask worker, for one, keeps everything sequential; the walk importer's
helper thread ends with each import), and never when ``QMI_GEO_PARALLEL=0``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["ENV", "Forked", "available", "cancel_all", "frozen"]

#: environment variable turning the overlap off (``0``, ``non``, ``off``, ``false``)
ENV = "QMI_GEO_PARALLEL"

_OFF = {"0", "non", "no", "off", "false"}


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def available() -> bool:
    """Whether a piece of work may run in a forked child here (see the module docstring)."""
    if os.environ.get(ENV, "1").strip().lower() in _OFF:
        return False
    if not sys.platform.startswith("linux") or not hasattr(os, "fork") or _cores() < 2:
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    # tqdm's monitor thread only sleeps between refreshes of the bars; any other thread
    # (a dask worker's, a GUI's) could hold a lock at the fork and deadlock the child
    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    return all(type(t).__name__ == "TMonitor" for t in others)


class Forked:
    """``work()`` running in a forked child; :meth:`join` returns its (pickled) value.

    Examples
    --------
    >>> if available():
    ...     job = Forked(lambda: sum(range(10)))
    ...     job.join()
    ... else:
    ...     45
    45
    """

    def __init__(self, work: Callable[[], Any]) -> None:
        self._work = work
        for stream in (sys.stdout, sys.stderr):  # nothing buffered twice
            with contextlib.suppress(AttributeError, OSError, ValueError):
                stream.flush()
        read, write = os.pipe()
        # Ctrl-C held back around the fork: the child takes it only inside its own handler,
        # and this process only once it knows the child (so that it can interrupt it)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        # the objects both processes hold at the fork are left out of their garbage
        # collections (see frozen())
        gc.freeze()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # Python ≥ 3.12 (TMonitor)
                pid = os.fork()
        except BaseException:
            _thaw()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
            os.close(read)
            os.close(write)
            raise
        if pid == 0:  # the child: never returns
            _child(work, write, read)
        os.close(write)
        self.pid = pid
        self._fd = read
        self._done = False
        _RUNNING.append(self)
        try:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        except BaseException:  # a Ctrl-C that came during the fork
            self.cancel()
            raise

    def _collect(self) -> tuple[Any, ...] | None:
        """Read the child's answer and reap it (None when it died without one)."""
        chunks = []
        try:
            while True:
                chunk = os.read(self._fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(self._fd)
            os.waitpid(self.pid, 0)
            self._done = True
            if self in _RUNNING:
                _RUNNING.remove(self)
            _thaw()
        try:
            answer = pickle.loads(b"".join(chunks))
        except Exception:
            return None
        return answer if isinstance(answer, tuple) and len(answer) == 4 else None

    def join(self) -> Any:
        """The child's value; its warnings re-issued, its exception re-raised here.

        Interrupted (Ctrl-C) while waiting, the child is interrupted too and waited for.
        """
        try:
            answer = self._collect()
        except BaseException:
            self.cancel()
            raise
        if answer is None:  # killed or crashed: run the piece here instead
            return self._work()
        status, value, caught, completed = answer
        _record_completed(completed)
        for message, category, filename, lineno in caught:
            warnings.warn_explicit(message, category, filename, lineno)
        if status == "error":
            raise value
        return value

    def cancel(self) -> None:
        """Interrupt the child (SIGINT, its temporary files removed) and wait for it."""
        if self._done:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGINT)
        try:
            answer = self._collect()
        except BaseException:  # a second Ctrl-C: stop waiting politely
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ChildProcessError, ProcessLookupError):
                pass
            raise
        if answer is not None:
            _record_completed(answer[3])


#: the children started and not yet waited for
_RUNNING: list[Forked] = []


def cancel_all() -> None:
    """Interrupt every running child and wait for them (on Ctrl-C or an error here)."""
    for job in list(_RUNNING):
        job.cancel()


#: how many frozen() blocks are open
_HELD = 0


@contextlib.contextmanager
def frozen() -> Iterator[None]:
    """Keep the objects frozen at the forks inside this block out of garbage collections.

    A collection writes to every object it scans; after a fork, that copies the memory
    pages both processes share, in the child and in this process alike. The objects alive
    at a fork (modules, layers, tables) are moved out of the collector's reach
    (:func:`gc.freeze`) and stay so until every child has been waited for and the
    outermost block has ended: a diagnostic's forks, one after the other, then share
    more of their memory (Meudon's ``qmi diagnose --sans-rapport``: 1.93 s → 1.85 s,
    CPU 3.02 s → 2.86 s, medians of 12). Reference cycles among them are collected after
    the block, as they would have been.
    """
    global _HELD
    _HELD += 1
    try:
        yield
    finally:
        _HELD -= 1
        _thaw()


def _thaw() -> None:
    """Give the frozen objects back to the collector once no child runs and no block holds."""
    if not _RUNNING and not _HELD:
        gc.unfreeze()


def _record_completed(paths: list[Any]) -> None:
    from qmi_geo import _atomic

    _atomic._COMPLETED.extend(paths)


def _child(work: Callable[[], Any], fd: int, other: int) -> None:
    """Run ``work`` and write ``(status, value, warnings, completed files)`` to ``fd``."""
    code = 0
    try:
        os.close(other)
        from qmi_geo import _atomic

        before = len(_atomic._COMPLETED)
        with warnings.catch_warnings(record=True) as caught:
            try:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
                status, value = "ok", work()
            except BaseException as exc:  # KeyboardInterrupt included: the parent decides
                status, value = "error", exc
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the answer is written whatever happens
        found = [(w.message, w.category, w.filename, w.lineno) for w in caught]
        completed = _atomic._COMPLETED[before:]
        try:
            data = pickle.dumps((status, value, found, completed))
        except Exception as exc:  # an unpicklable value or exception: say so, as text
            from qmi_geo.errors import QmiGeoError

            error = QmiGeoError(
                f"{type(value).__name__} : {value}" if status == "error" else str(exc)
            )
            data = pickle.dumps(("error", error, [], completed))
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        code = 1
    finally:
        os._exit(code)
