"""Two threads for the array work that runs without the GIL (pyproj, shapely predicates).

The machine's second core otherwise waits while one thread reprojects or tests a million
points.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = ["PARALLEL_ROWS", "in_halves", "stop_helper_thread", "submit"]

#: Below this many rows, a second thread costs more than it saves.
PARALLEL_ROWS = 50_000

_NAME = "qmi-walks-halves"
_POOL: list[ThreadPoolExecutor] = []
_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The helper thread of an import: started on first use, ended by stop_helper_thread."""
    with _LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(1, thread_name_prefix=_NAME))
        return _POOL[0]


def in_halves(
    func: Callable[..., Any],
    *arrays: np.ndarray,
    rows: int = PARALLEL_ROWS,
    helper: Callable[[], Callable[..., Any]] | None = None,
) -> Any:
    """``func(*arrays)``, computed on the arrays' two halves at once.

    ``func`` must work row by row (its result for a slice is the slice of its result) and
    return an array or a tuple of arrays; the halves' results are joined. ``helper``, if
    given, makes the function the helper thread runs instead of ``func``, when the arrays
    are split: for what must not be shared between two threads (a GEOS prepared geometry
    builds its index on first use, and two threads doing so at once corrupt it).

    Examples
    --------
    >>> x = np.arange(10.0)
    >>> in_halves(np.add, x, x, rows=4).tolist() == (2 * x).tolist()
    True
    >>> a, b = in_halves(lambda u: (u + 1, u * 2), x, rows=4)
    >>> a.tolist()[-1], b.tolist()[-1]
    (10.0, 18.0)
    """
    n = len(arrays[0]) if arrays else 0
    if n < rows or threading.current_thread().name.startswith(_NAME):
        return func(*arrays)  # small, or already in the helper thread
    mid = n // 2
    second = _pool().submit(helper() if helper else func, *(a[mid:] for a in arrays))
    first = func(*(a[:mid] for a in arrays))
    rest = second.result()
    if isinstance(first, tuple):
        return tuple(np.concatenate([f, r]) for f, r in zip(first, rest, strict=True))
    return np.concatenate([first, rest])


def submit(func: Callable[..., Any], *args: Any) -> Future[Any]:
    """``func(*args)`` in the helper thread (at once, in this thread, if already in it)."""
    if threading.current_thread().name.startswith(_NAME):
        done: Future[Any] = Future()
        try:
            done.set_result(func(*args))
        except BaseException as exc:
            done.set_exception(exc)
        return done
    return _pool().submit(func, *args)


def stop_helper_thread() -> None:
    """End the helper thread once its work is done.

    A forked copy of the process must not inherit a pool whose thread it does not have.
    """
    with _LOCK:
        pools = list(_POOL)
        _POOL.clear()
    for pool in pools:
        pool.shutdown(wait=True)


def _forget_in_child() -> None:
    _POOL.clear()  # the thread is not in a forked child: it starts its own if it needs one


os.register_at_fork(after_in_child=_forget_in_child)
