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

__all__ = [
    "atomic_path",
    "completed_outputs",
    "unsynced_sqlite",
    "write_bytes",
    "write_csv",
    "write_text",
]

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


@contextmanager
def unsynced_sqlite() -> Iterator[None]:
    """GDAL writes GeoPackages (SQLite) without waiting for the disk at each transaction.

    For the temporary file of :func:`atomic_path` only: an interrupted write leaves a
    temporary file that is removed, never a half-written target, so SQLite's
    ``synchronous`` flushes (one ``fsync`` per transaction, several per layer) buy nothing
    there; they made ``diagnostic.gpkg`` cost seconds of waiting on a busy disk. The
    target is then moved into place like every other output; the annotation store, the one
    output not rebuilt from its inputs, is flushed once before its move.
    """
    import pyogrio

    previous = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": previous})


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
    r"""Write a CSV for Excel atomically: UTF-8 with BOM and ``;`` unless told otherwise.

    Keyword arguments are those of :meth:`pandas.DataFrame.to_csv` (``decimal=","`` for
    French Excel). Frames of text, integer, boolean and float columns written with ``sep``,
    ``decimal``, ``na_rep``, ``encoding`` (UTF-8) and ``index=False`` only take a pyarrow
    fast path (about ten times quicker than pandas on a 5 MB file): the same fields, the
    same minimal quoting, the same values read back; floats are written in their shortest
    round-trip form (``2`` and ``0.00001`` where pandas writes ``2.0`` and ``1e-05``). Any
    other option or column type goes through pandas.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> frame = pd.DataFrame({"nom": ["Rue « A » ; nord", None], "part": [0.25, float("nan")]})
    >>> _ = write_csv(frame, path, decimal=",")
    >>> path.read_bytes().decode("utf-8")
    '\ufeffnom;part\n"Rue « A » ; nord";0,25\n;\n'
    """
    options: dict[str, Any] = {"sep": ";", "index": False, "encoding": "utf-8-sig"}
    options.update(kwargs)
    data = _fast_csv(frame, options)
    if data is not None:
        return write_bytes(target, data)
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, **options)
    return Path(target)


_FAST_OPTIONS = frozenset({"sep", "index", "encoding", "decimal", "na_rep"})


def _fast_csv(frame: pd.DataFrame, options: dict[str, Any]) -> bytes | None:
    """The CSV bytes pandas would write, built with pyarrow compute; None when unsupported."""
    if set(options) - _FAST_OPTIONS or options.get("index") is not False:
        return None
    encoding = str(options.get("encoding", "utf-8")).lower().replace("_", "-")
    if encoding not in {"utf-8", "utf8", "utf-8-sig"}:
        return None
    sep, decimal = str(options.get("sep", ",")), str(options.get("decimal", "."))
    na_rep = str(options.get("na_rep", ""))
    if len(sep) != 1 or len(decimal) != 1 or sep in '"\r\n' or not frame.columns.is_unique:
        return None
    if not len(frame.columns):
        return None
    import re

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    special = "[" + re.escape(sep + '"') + "\\r\\n]"

    def field(values: pa.Array) -> pa.Array:  # minimal quoting, as csv.QUOTE_MINIMAL
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
        return pc.fill_null(
            pc.if_else(pc.match_substring_regex(values, special), quoted, values), na_rep
        )

    columns = []
    for name in frame.columns:
        text = _as_text(frame[name], decimal)
        if text is None:
            return None
        columns.append(field(text))
    bom = "\ufeff" if encoding == "utf-8-sig" else ""
    header = bom + sep.join(_quote(str(name), sep) for name in frame.columns) + "\n"
    if not len(frame):
        return header.encode("utf-8")
    lines = pc.binary_join_element_wise(*columns, sep) if len(columns) > 1 else columns[0]
    # every line ends with a newline: the array's data buffer is then the file's body
    lines = pc.binary_join_element_wise(lines, "", "\n").cast(pa.large_string())
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    start, stop = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return header.encode("utf-8") + lines.buffers()[2][int(start) : int(stop)].to_pybytes()


def _quote(text: str, sep: str) -> str:
    if any(ch in text for ch in (sep, '"', "\r", "\n")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _as_text(column: pd.Series, decimal: str) -> Any:
    """A pyarrow string array of ``column`` as pandas writes it (nulls kept), or None."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = column.dtype
    kind = getattr(dtype, "kind", "O")
    try:
        if kind == "b" or str(dtype) == "boolean":
            values = pa.array(column, type=pa.bool_(), from_pandas=True)
            return pc.if_else(values, "True", "False")
        if kind in "iu":
            return pc.cast(pa.array(column, from_pandas=True), pa.string())
        if kind == "f":
            width = "float32" if str(dtype).lower() == "float32" else "float64"
            values = pa.array(column.to_numpy(dtype=width, na_value=np.nan), from_pandas=True)
            text = pc.cast(values, pa.string())
            return pc.replace_substring(text, ".", decimal) if decimal != "." else text
        if kind == "O" or isinstance(dtype, pd.StringDtype):
            values = pa.array(column, from_pandas=True)
            if pa.types.is_null(values.type):
                return values.cast(pa.string())
            if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
                return values.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None
    return None
