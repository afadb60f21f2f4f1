"""Read walk tables: CSV/TSV from Excel or field tools (KoboToolbox, ODK), and XLSX."""

from __future__ import annotations

import codecs
import csv
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from qmi_geo.errors import WalkError
from qmi_geo.walks._readers._columns import extract_coordinates, find_coordinates
from qmi_geo.walks._readers._raw import RawWalk, blank_mask

__all__ = ["decode_bytes", "read_csv_walk", "read_xlsx_walk", "sniff_separator"]

_SEPARATORS = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre verticale"}


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a text file whose encoding nobody wrote down.

    Tries, in order: a byte-order mark (UTF-8, UTF-16), strict UTF-8, then Windows-1252
    (what Excel writes on a French Windows), then Latin-1 (never fails).

    Returns
    -------
    text : str
    encoding : str
        A French description of the encoding found.

    Examples
    --------
    >>> decode_bytes("thème;intensité".encode("cp1252"))
    ('thème;intensité', 'Windows-1252')
    >>> decode_bytes(codecs.BOM_UTF8 + "é".encode())
    ('é', 'UTF-8 avec BOM')
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "UTF-8 avec BOM"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "UTF-16"
    if _utf8_head(data):  # a failed decode copies the whole file: test the start first
        try:
            return data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _utf8_head(data: bytes, size: int = 1 << 16) -> bool:
    """Whether the first ``size`` bytes could start a UTF-8 text (a cut last character is fine)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data[:size], final=len(data) <= size)
    except UnicodeDecodeError:
        return False
    return True


def sniff_separator(text: str) -> str:
    r"""Guess the field separator of a CSV text among ``;``, ``,``, tab and ``|``.

    The separator that splits the first lines into the same, largest number of fields wins;
    ties go to tab, then ``;`` (Excel in French), then ``,``.

    Examples
    --------
    >>> sniff_separator("a;b;c\n1,5;2,5;x\n")
    ';'
    >>> sniff_separator('lat,lon,"theme; detail"\n48.9,2.5,x\n')
    ','
    """
    end = -1
    for _ in range(30):  # the first 30 lines, without splitting a whole large file
        end = text.find("\n", end + 1)
        if end < 0:
            end = len(text)
            break
    head = [line for line in text[:end].splitlines()[:30] if line.strip()]
    if not head:
        return ";"
    best, best_score = ";", (0, 0)
    for sep in ("\t", ";", ",", "|"):
        counts = [len(row) for row in csv.reader(head, delimiter=sep)]
        if not counts or counts[0] < 2:
            continue
        consistent = sum(c == counts[0] for c in counts) / len(counts)
        score = (int(consistent >= 0.8), counts[0])
        if score > best_score:
            best, best_score = sep, score
    return best


def read_csv_walk(path: Path) -> RawWalk:
    """Read a CSV or TSV walk file (Excel, KoboToolbox, ODK Central exports).

    Encoding and separator are detected; numbers with a decimal comma are accepted.
    """
    data = path.read_bytes()
    fast = _read_large_csv(data)
    if fast is not None:
        table, encoding, sep, skipped = fast
        del data
        messages = [f"encodage {encoding}, séparateur {_SEPARATORS.get(sep, repr(sep))}"]
        lines = np.arange(len(table), dtype="int64") + 2 + skipped
        return _finish_table(path, "csv", table, lines, messages)
    text, encoding = decode_bytes(data)
    del data
    skipped = 0
    first = _first_line(text).strip().lower()
    if first.startswith("sep=") and len(first) >= 5:  # Excel's separator hint line
        sep = first[4]
        text = text[text.find("\n") + 1 :] if "\n" in text else ""
        skipped = 1
    else:
        sep = sniff_separator(text)
    try:
        table = _read_csv_fast(text, sep)
        if table is None:
            table = pd.read_csv(
                io.StringIO(text),
                sep=sep,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                engine="c",
            )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise WalkError(
            f"Le fichier {path.name} n'est pas un CSV lisible ({exc}). Enregistrez-le depuis "
            "Excel en « CSV (séparateur : point-virgule) » ou en UTF-8."
        ) from None
    messages = [f"encodage {encoding}, séparateur {_SEPARATORS.get(sep, repr(sep))}"]
    lines = np.arange(len(table), dtype="int64") + 2 + skipped
    return _finish_table(path, "csv", table, lines, messages)


#: Files from this size are read by :func:`_read_large_csv` when they can be.
_LARGE_FILE = 1 << 20

#: Size of the blocks that one thread decodes while another parses the previous one.
_BLOCK = 4 << 20


def _read_large_csv(data: bytes) -> tuple[pd.DataFrame, str, str, int] | None:
    """Read a large CSV without quotes, decoding and parsing it in blocks at once.

    Gives what :func:`read_csv_walk`'s general path gives (same table, encoding, separator
    and skipped hint line), faster: a UTF-8 file goes to pyarrow as it is (pyarrow checks
    that it is valid UTF-8); a Windows-1252 one is decoded block by block (at line ends)
    while pyarrow parses the previous block in another thread. Returns None, and the
    general path reads the file, when it is small, has a quote (a value may then hold a
    line break), is UTF-16, is not valid in the encoding tried, or is not regular.

    Returns
    -------
    table, encoding (French description), separator, number of skipped lines (0 or 1)
    """
    import pyarrow as pa

    if len(data) < _LARGE_FILE or data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    view = memoryview(data)
    start, codec, encoding = 0, "cp1252", "Windows-1252"
    if data.startswith(codecs.BOM_UTF8):
        start, codec, encoding = len(codecs.BOM_UTF8), "utf-8", "UTF-8 avec BOM"
    elif _utf8_head(data):
        codec, encoding = "utf-8", "UTF-8"
    if data.find(b'"', start) >= 0:
        return None
    # the first block holds the header and the lines the separator is guessed from
    end = start
    for _ in range(31):
        end = data.find(b"\n", end) + 1
        if not end:
            end = len(data)
            break
    try:
        head = str(view[start:end], codec)
    except UnicodeDecodeError:
        return None
    first = _first_line(head)
    skipped = 0
    hint = first.strip().lower()
    if hint.startswith("sep=") and len(hint) >= 5:  # Excel's separator hint line
        sep, skipped = hint[4], 1
        start += len(first.encode(codec)) + 1
        head = head[len(first) + 1 :]
        first = _first_line(head)
    else:
        sep = sniff_separator(head)
    names = first.rstrip("\r").split(sep)
    if not first or len(set(names)) != len(names) or any(not n.strip() for n in names):
        return None
    body = start + len(first.encode(codec)) + 1  # after the header line
    if "\n" not in head:
        return None  # nothing but a header: the general path says so
    blocks: list[tuple[int, int]] = []
    while body < len(data):
        stop = data.find(b"\n", min(body + _BLOCK, len(data) - 1)) + 1 or len(data)
        blocks.append((body, stop))
        body = stop
    try:
        with ThreadPoolExecutor(1) as pool:
            parts = []
            for a, b in blocks:
                # decoded from the file's buffer (no copy of the block first)
                chunk = view[a:b] if codec == "utf-8" else str(view[a:b], codec).encode()
                parts.append(pool.submit(_parse_block, chunk, names, sep))
            tables = [part.result() for part in parts]
    except (UnicodeDecodeError, pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    arrow = pa.concat_tables(tables) if tables else None
    if arrow is None:
        return None
    dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    table = pd.DataFrame(
        {
            name: pd.arrays.ArrowStringArray(arrow.column(i), dtype=dtype)
            for i, name in enumerate(names)
        },
        copy=False,
    )
    return table, encoding, sep, skipped


def _parse_block(chunk: bytes | memoryview, names: list[str], sep: str) -> object:
    """One block of a file without quotes, every column as text (see :func:`_read_csv_fast`)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    return pa_csv.read_csv(
        pa.py_buffer(chunk),
        read_options=pa_csv.ReadOptions(column_names=names),
        parse_options=pa_csv.ParseOptions(delimiter=sep, ignore_empty_lines=False),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.large_string()),
            strings_can_be_null=False,
            null_values=[],
        ),
    )


def _first_line(text: str) -> str:
    """The text's first line (``str.split`` would copy the whole rest of a large file)."""
    end = text.find("\n")
    return text if end < 0 else text[:end]


def _read_csv_fast(text: str, sep: str) -> pd.DataFrame | None:
    """Read a regular CSV text with pyarrow's multithreaded reader, every column as text.

    Gives the same table as ``pandas.read_csv(dtype=str, keep_default_na=False,
    skip_blank_lines=False)`` for regular files; returns None (the caller then uses pandas,
    which is slower but forgiving) when the header is quoted, has empty or repeated names,
    or when a row does not have as many fields as the header.
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    header = _first_line(text).rstrip("\r")
    if '"' in header or not header:
        return None
    names = header.split(sep)
    if len(set(names)) != len(names) or any(not n.strip() for n in names):
        return None
    try:
        arrow = pa_csv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pa_csv.ParseOptions(
                # without any quote, no value can hold a line break: the reader then splits
                # the file into blocks at any line end, much faster
                delimiter=sep,
                newlines_in_values='"' in text,
                ignore_empty_lines=False,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                strings_can_be_null=False,
                null_values=[],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    return pd.DataFrame(
        {
            name: pd.arrays.ArrowStringArray(arrow.column(i), dtype=dtype)
            for i, name in enumerate(names)
        },
        copy=False,
    )


def read_xlsx_walk(path: Path) -> RawWalk:
    """Read an XLSX walk file (typed in Excel, or a KoboToolbox / ODK XLSX export).

    The first sheet with coordinate columns is read (Kobo puts repeat groups in the other
    sheets).
    """
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=object, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds (zipfile, KeyError, ValueError)
        raise WalkError(
            f"Le classeur {path.name} ne peut pas être ouvert ({exc}). Vérifiez qu'il s'agit "
            "d'un fichier .xlsx enregistré par Excel ou LibreOffice."
        ) from None
    chosen = None
    for name, sheet in sheets.items():
        if find_coordinates(sheet) is not None:
            chosen = name, sheet
            break
    if chosen is None:
        name, sheet = next(iter(sheets.items()))
    else:
        name, sheet = chosen
    lines = np.arange(len(sheet), dtype="int64") + 2
    messages = [f"feuille « {name} »"] if len(sheets) > 1 else []
    return _finish_table(path, "xlsx", sheet.reset_index(drop=True), lines, messages)


def _finish_table(
    path: Path, fmt: str, table: pd.DataFrame, lines: np.ndarray, messages: list[str]
) -> RawWalk:
    table.columns = [str(c).strip() for c in table.columns]
    table = table.loc[
        :, [not c.startswith("Unnamed:") or table[c].notna().any() for c in table.columns]
    ]
    blank = np.ones(len(table), dtype=bool)
    for col in table.columns:  # column by column: stays in fast string arrays
        blank &= blank_mask(table[col])
        if not blank.any():
            break
    if blank.any():
        messages.append(f"{int(blank.sum())} ligne(s) entièrement vide(s) ignorée(s)")
        table = table.loc[~blank].reset_index(drop=True)
        lines = lines[~blank]
    found = find_coordinates(table)
    if found is None:
        raise WalkError(
            f"Aucune colonne de coordonnées trouvée dans {path.name} (colonnes : "
            f"{', '.join(map(str, table.columns))}). Ajoutez des colonnes « latitude » et "
            "« longitude » (degrés décimaux), ou « X » et « Y » en Lambert-93, ou une colonne "
            "« WKT »."
        )
    x, y, coord_text, problem, shapes = extract_coordinates(table, found)
    messages.append(f"coordonnées lues dans : {found.description}")
    return RawWalk(
        path=path,
        format=fmt,
        table=table,
        lines=lines,
        x=x,
        y=y,
        crs=None,
        coord_text=coord_text,
        coord_problem=problem,
        shapes=shapes,
        messages=messages,
    )
