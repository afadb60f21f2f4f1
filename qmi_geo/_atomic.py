"""Atomic output: every file is written beside its target, then moved into place.

A reader (QGIS, a browser, the next run) sees either the previous file or the new one, never a
partial one: the content goes to a temporary file in the target's folder (same file system, so
:func:`os.replace` is atomic) and replaces the target only once it is complete. An exception or
a Ctrl-C while writing removes the temporary file and leaves the target untouched.
(after pip's ``adjacent_tmp_file`` and ``replace`` in ``pip/_internal/utils/filesystem.py``)
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["atomic_path", "completed_outputs", "write_bytes", "write_csv", "write_text"]

#: Temporary files start with this prefix (hidden, and ignored by the output listings).
TMP_PREFIX = ".qmi-tmp-"

#: Targets moved into place by this process, in order (what an interrupted run completed).
_COMPLETED: list[Path] = []


def completed_outputs() -> list[Path]:
    """The files this process has written completely so far, in order, without repeats.

    The command line names them when a run is interrupted (« Interrompu : ... »).
    """
    return list(dict.fromkeys(_COMPLETED))


def _remove_tmp(tmp: Path) -> None:
    """Remove a temporary file and its SQLite side files (GeoPackage journal, WAL)."""
    for side in ("", "-journal", "-wal", "-shm"):
        Path(f"{tmp}{side}").unlink(missing_ok=True)


def _tmp_beside(target: Path) -> Path:
    # keep the extension last: GDAL and matplotlib pick the format from it
    return target.with_name(f"{TMP_PREFIX}{target.stem}-{secrets.token_hex(4)}{target.suffix}")


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it onto ``target`` on success.

    The temporary path does not exist yet, so any writer (GDAL, rasterio, matplotlib,
    pandas) can create it. If the block raises (``KeyboardInterrupt`` included) the
    temporary file is removed and ``target`` is left as it was.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "a.txt") as tmp:
    ...     _ = tmp.write_text("bonjour", encoding="utf-8")
    >>> (folder / "a.txt").read_text(encoding="utf-8"), sorted(p.name for p in folder.iterdir())
    ('bonjour', ['a.txt'])
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_beside(target)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp} for {target}")
        os.replace(tmp, target)
    except BaseException:
        _remove_tmp(tmp)
        raise
    _COMPLETED.append(target)


def write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically (flushed to disk before the move)."""
    with atomic_path(target) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(target)


def write_text(target: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` atomically."""
    return write_bytes(target, text.encode(encoding))


def write_csv(frame: pd.DataFrame, target: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write a CSV for Excel atomically: UTF-8 with BOM and ``;`` unless told otherwise.

    Keyword arguments go to :meth:`pandas.DataFrame.to_csv`.
    """
    options: dict[str, Any] = {"sep": ";", "index": False, "encoding": "utf-8-sig"}
    options.update(kwargs)
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, **options)
    return Path(target)
