"""Import walk files into annotations.

Validate, fix what is safe, reject the rest with a reason, flag what needs a human look.
Nothing is lost: for every file, ``accepted + rejected == rows read``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm.auto import tqdm

from qmi_geo.errors import EmptyWalkFileWarning, WalkError
from qmi_geo.walks._coords import locate
from qmi_geo.walks._distinct import Distinct, TextColumn, distinct
from qmi_geo.walks._fields import combine_date_time, map_columns, parse_datetimes, text_of
from qmi_geo.walks._ids import (
    combine_hashes,
    finish_row_hashes,
    flag_text,
    hash_columns,
    hex_ids,
    start_row_hashes,
    text_hashes,
    value_hashes,
)
from qmi_geo.walks._privacy import drop_personal_columns, pseudonyms
from qmi_geo.walks._readers import RawWalk, read_walk_file
from qmi_geo.walks._readers._columns import column_key
from qmi_geo.walks._readers._raw import take_rows
from qmi_geo.walks._schema import (
    CRS,
    FLAGS,
    coerce_annotations,
    empty_annotations,
    empty_routes,
)
from qmi_geo.walks._summary import FileSummary, format_lines, format_summary
from qmi_geo.walks._themes import DEFAULT_VALENCE, match_intensity, match_theme, match_valence
from qmi_geo.walks._threads import in_halves, stop_helper_thread, submit

__all__ = ["WalkImport", "import_raw_walks", "import_walks"]

REJECT_COLUMNS = ("fichier", "ligne", "raison", "coordonnees")

#: Points (or shapes) farther than this from the quarter are rejected: they were typed for
#: another place (a walk wanders a little outside its quarter; 2 km is far beyond that).
MAX_DISTANCE_M = 2_000.0

#: Below this many rows, freeing memory early is not worth a garbage collection, nor
#: factorizing columns in threads.
_LARGE_ROWS = 50_000

#: The fields whose columns are factorized (distinct texts and row codes).
_FACTORIZED = (
    "theme",
    "valence",
    "intensite",
    "horodatage",
    "auteur",
    "poids",
    "marche",
    "commentaire",
    "photo",
    "role",
)

#: A date later than now by more than this is flagged ``date_future``.
_FUTURE_SLACK = timedelta(days=1)


@dataclass
class WalkImport:
    """Result of :func:`import_walks`.

    Attributes
    ----------
    annotations : geopandas.GeoDataFrame
        Accepted annotations (EPSG:2154, the annotation schema).
    routes : geopandas.GeoDataFrame
        The walks' tracks (LineStrings, EPSG:2154): ``marche``, ``nom``, ``source_fichier``.
    rejects : pandas.DataFrame
        Rejected rows: ``fichier``, ``ligne``, ``raison`` (French), ``coordonnees`` and the
        row's original values (author names replaced by pseudonyms).
    summary : list of FileSummary
        Per file: ``lus``, ``acceptes``, ``rejetes``, ``corriges``, ``signales``, messages.
    """

    annotations: gpd.GeoDataFrame
    routes: gpd.GeoDataFrame
    rejects: pd.DataFrame
    summary: list[FileSummary] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        """The summary as plain data (``qmi walks import --json``)."""
        files = [s.to_dict() for s in self.summary]
        totals = {
            k: sum(f[k] for f in files)
            for k in ("lus", "acceptes", "rejetes", "corriges", "signales")
        }
        return {"fichiers": files, "total": totals}

    def describe(self) -> str:
        """French summary, one block per file."""
        return format_summary(self.summary)


def _combinations(codes: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Code of each row's combination of several columns' codes, and each one's first row."""
    joint = np.zeros(n, dtype=np.int64)
    if not n:
        return joint, np.zeros(0, dtype=np.intp)
    for k, c in enumerate(codes):
        if k == 0 and _in_order_of_appearance(c):
            joint = c.astype(np.int64)  # what factorize would give (a column's codes usually)
            continue
        width = int(c.max()) + 1
        joint = pd.factorize(joint * width + c)[0].astype(np.int64)
    # factorize numbers combinations in order of appearance: a first row is a new maximum
    return joint, np.flatnonzero(_new_maxima(joint))


def _new_maxima(values: np.ndarray) -> np.ndarray:
    """Where a value is larger than every one before it (always at the first row)."""
    new = np.empty(len(values), dtype=bool)
    if len(values):
        new[0] = True
        new[1:] = values[1:] > np.maximum.accumulate(values)[:-1]
    return new


def _in_order_of_appearance(codes: np.ndarray) -> bool:
    """Whether codes are 0, 1, 2... numbered in order of first appearance (as factorize does).

    Examples
    --------
    >>> _in_order_of_appearance(np.array([0, 1, 0, 2])), _in_order_of_appearance(np.array([1, 0]))
    (True, False)
    >>> _in_order_of_appearance(np.array([0, 2, 2]))  # 1 is missing
    False
    """
    if not len(codes) or codes.min() < 0:
        return False
    present = np.bincount(codes).astype(bool)
    return bool(present.all()) and int(_new_maxima(codes).sum()) == len(present)


class _Distincts:
    """Each column's distinct texts (:func:`distinct`), worked out once per column.

    For a large file, the columns the importer will need are factorized in two threads
    from the start (pyarrow's hashing runs without the GIL), while the main thread checks
    the coordinates; asking for a column waits for its result.
    """

    def __init__(self, table: pd.DataFrame, names: Iterable[str]) -> None:
        self._table = table
        todo = [c for c in dict.fromkeys(names) if c in table.columns]
        self._done: dict[str, Distinct] = {}
        self._pending: dict[str, Future[Distinct]] = {}
        self._pool: ThreadPoolExecutor | None = None
        if len(table) >= _LARGE_ROWS and len(todo) > 1:
            self._pool = ThreadPoolExecutor(2)
            self._pending = {c: self._pool.submit(self._factorize, c) for c in todo}

    def _factorize(self, name: str) -> Distinct:
        return distinct(self._table[name])

    def __call__(self, name: str) -> Distinct:
        if name not in self._done:
            pending = self._pending.pop(name, None)
            self._done[name] = pending.result() if pending else self._factorize(name)
        return self._done[name]

    def close(self) -> None:
        """Forget the results and the table; let the threads end."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._done, self._pending = {}, {}


def _theme_columns(
    raw: RawWalk, fields: dict[str, str], cols: _Distincts
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Theme code, original text and whether it was recognised.

    Worked out once per distinct combination of the candidate columns' texts: returns
    the three results per combination, and each row's combination code.
    """
    candidates: list[tuple[str, bool]] = []
    if "theme" in fields:
        candidates.append((fields["theme"], True))
    candidates += [(c, True) for c in raw.title_columns if c in raw.table.columns]
    if "theme" not in fields and "commentaire" in fields:
        candidates.append((fields["commentaire"], False))
    columns = [(cols(col), is_label) for col, is_label in candidates]
    rows, first = _combinations([d.codes for d, _ in columns], len(raw))
    m = len(first) if len(raw) else 0
    theme = np.full(m, "autre", dtype=object)
    original = np.full(m, "", dtype=object)
    matched = np.zeros(m, dtype=bool)
    for d, is_label in columns:
        found = [match_theme(t) for t in d.text]
        at = d.codes[first]
        code = np.array([f[0] for f in found], dtype=object)[at]
        ok = np.array([f[1] for f in found], dtype=bool)[at]
        take = ok & ~matched
        theme[take] = code[take]
        if is_label:
            text = d.text[at]
            fill = (original == "") & (text != "") & (take | ~matched)
            original[fill] = text[fill]
        matched |= ok
    return theme, original, matched, rows


def _valence_columns(
    cols: _Distincts, n: int, fields: dict[str, str], theme: np.ndarray, theme_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Valence, and whether it was unreadable or deduced from the theme.

    Worked out once per distinct (theme, valence text) combination: returns the results
    per combination, and each row's combination code.
    """
    col = _column(cols, fields, "valence")
    rows, first = _combinations([theme_rows] + ([col.codes] if col else []), n)
    theme_at = theme[theme_rows[first]] if n else np.empty(0, dtype=object)
    if col is not None:
        at = col.codes[first]
        read = np.array([match_valence(t) for t in col.text], dtype=object)[at]
        deduced = (col.text == "")[at]
    else:
        read = np.full(len(first), None, dtype=object)
        deduced = np.ones(len(first), dtype=bool)
    default = np.array([DEFAULT_VALENCE.get(t) for t in theme_at], dtype=object)
    valence = np.where(deduced, default, read)
    valence = np.where(pd.isna(valence), "neutre", valence)
    bad = ~deduced & pd.isna(read)
    return valence, bad, deduced, rows


def _column(cols: _Distincts, fields: dict[str, str], key: str) -> Distinct | None:
    return cols(fields[key]) if key in fields else None


def _text(d: Distinct | None, keep: np.ndarray, default: str = "") -> TextColumn:
    """The stripped text of the kept rows of a column; ``default`` when it is absent."""
    if d is None:
        return TextColumn.constant(default, int(keep.sum()))
    return TextColumn(d.text, d.codes[keep])


def _text_hashes(d: Distinct | None, keep: np.ndarray, default: str = "") -> np.ndarray:
    """The hash of the kept rows' texts (as :func:`_text` gives them), once per text."""
    if d is None:
        return np.full(int(keep.sum()), text_hashes(np.array([default], dtype=object))[0])
    return text_hashes(d.text)[d.codes[keep]]


#: The columns of an annotation's content hash, in order; a line or a zone adds its WKB.
_CONTENT_COLUMNS = 10


def _km(metres: float) -> str:
    return f"{metres / 1000:.1f}".replace(".", ",")


def _too_far(
    x: np.ndarray,
    y: np.ndarray,
    shapes: np.ndarray | None,
    todo: np.ndarray,
    area: shapely.Geometry,
    max_distance_m: float,
    in_quarter: np.ndarray | None = None,
) -> np.ndarray:
    """French reason for rows farther than ``max_distance_m`` from the quarter, else "".

    ``in_quarter``, if given (a boolean array, False for rows not to test), receives which
    rows are in the quarter: points strictly inside it, lines and zones touching it (the
    test of the ``hors_quartier`` flag, done here once for both).
    """
    out = np.full(len(x), "", dtype=object)
    rows = np.flatnonzero(todo & ~np.isnan(x))
    if not len(rows):
        return out
    # points are tested from their coordinates (no geometry built for a million rows);
    # only the few rows outside the quarter get a geometry, for their distance
    own = shapes[rows] if shapes is not None else None
    is_shape = ~shapely.is_missing(own) if own is not None else np.zeros(len(rows), dtype=bool)
    inside = np.empty(len(rows), dtype=bool)
    pts = rows[~is_shape]
    inside[~is_shape] = in_halves(
        partial(shapely.contains_xy, area), x[pts], y[pts], helper=partial(_contains_in, area)
    )
    if own is not None and is_shape.any():
        inside[is_shape] = shapely.intersects(area, own[is_shape])
    if in_quarter is not None:
        in_quarter[rows] = inside
    # a point on the quarter's boundary is not in it, but within reach (in the buffer)
    outside = ~inside
    if not outside.any():
        return out
    # points inside the quarter's buffer are within reach: its polygon lies inside the true
    # max_distance_m neighbourhood (arcs drawn as chords), so only the others need a distance
    maybe = is_shape[outside].copy()
    reach = shapely.buffer(area, max_distance_m)
    shapely.prepare(reach)
    pts_out = ~maybe
    maybe[pts_out] = ~shapely.intersects_xy(
        reach, x[rows[outside][pts_out]], y[rows[outside][pts_out]]
    )
    far_rows = rows[outside][maybe]
    geoms = shapely.points(x[far_rows], y[far_rows])
    if own is not None:
        geoms = np.where(is_shape[outside][maybe], own[outside][maybe], geoms)
    dist = shapely.distance(area, geoms)
    far = dist > max_distance_m
    out[far_rows[far]] = [
        f"à {_km(d)} km du quartier (au-delà de {_km(max_distance_m)} km) : corrigez la "
        "position, ou importez ce fichier pour la commune où il a été saisi"
        for d in dist[far]
    ]
    return out


def _process_file(
    box: list[RawWalk],
    *,
    walk_id: str | None,
    salt: str | None,
    area: shapely.Geometry | None = None,
    max_distance_m: float = MAX_DISTANCE_M,
) -> tuple[_Accepted, pd.DataFrame, FileSummary, gpd.GeoDataFrame | None]:
    """Validate the rows of one file; returns accepted rows, rejects, summary, routes.

    The file comes in a one-item list that is emptied: once every column has been read
    (and the rejects copied), the file's table is released before the accepted rows'
    columns are built. The accepted rows' checks (flags, hashes) come as arrays beside the
    table, and their position as ``x``/``y`` there (and
    ``_forme`` for lines and zones), not as geometries: :func:`_finish` builds them once
    every table is gone, so that a million-row import never holds both at once.
    """
    raw = box.pop()
    name = raw.path.name
    summary = FileSummary(
        fichier=name, format=raw.format, lus=len(raw), messages=list(raw.messages)
    )
    unit = "ligne" if raw.format in ("csv", "xlsx") else "élément"
    table = raw.table
    fields = map_columns(list(table.columns))
    combined = (
        "horodatage" in fields and "heure" in fields and column_key(fields["horodatage"]) == "date"
    )
    wanted = [fields[k] for k in _FACTORIZED if k in fields and not (k == "marche" and walk_id)]
    if "horodatage" in fields and combined:
        wanted.remove(fields["horodatage"])
    cols = _Distincts(table, [*wanted, *raw.title_columns])
    located = locate(raw.x, raw.y, crs=raw.crs, shapes=raw.shapes)
    reason = raw.coord_problem.to_numpy(dtype=object).copy()
    ok = reason == ""  # masks kept beside the reasons: no more comparisons of a million texts
    bad = located.rejected if located.rejected is not None else located.problem != ""
    reason[ok & bad] = located.problem[ok & bad]
    ok &= ~bad

    in_quarter = None
    if area is not None:
        in_quarter = np.zeros(len(reason), dtype=bool)
        far = _too_far(located.x, located.y, located.shapes, ok, area, max_distance_m, in_quarter)
        too_far = far != ""
        reason[too_far] = far[too_far]
        ok &= ~too_far

    # Timestamps: an unreadable or impossible date keeps the annotation, with no date.
    n = len(table)
    stamp = pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns]")
    date_bad = np.zeros(n, dtype=bool)
    date_text = np.full(n, "", dtype=object)
    if "horodatage" in fields:
        values = table[fields["horodatage"]]
        if combined:
            values = combine_date_time(values, table[fields["heure"]])
        stamp, bad_date = parse_datetimes(values, None if combined else cols(fields["horodatage"]))
        date_bad = bad_date.to_numpy(dtype=bool)
        if date_bad.any():
            date_text[date_bad] = text_of(values).to_numpy(dtype=object)[date_bad]
    future = (stamp > pd.Timestamp(datetime.now() + _FUTURE_SLACK)).to_numpy(dtype=bool)
    rejected = ~ok
    keep = ~rejected

    # Fields of accepted rows, each computed once per distinct text (or combination).
    index = table.index[keep]
    theme, original, matched, theme_rows = _theme_columns(raw, fields, cols)
    valence, valence_bad, valence_deduced, valence_rows = _valence_columns(
        cols, n, fields, theme, theme_rows
    )
    if "intensite" in fields:
        intensity, intensity_bad = match_intensity(
            table[fields["intensite"]], cols(fields["intensite"])
        )
        intensity_array, intensity_bad_kept = intensity.array[keep], intensity_bad.to_numpy()[keep]
    else:
        intensity_array = pd.array(np.full(len(index), pd.NA), dtype="Int64")
        intensity_bad_kept = np.zeros(len(index), dtype=bool)
    author_col = _column(cols, fields, "auteur")
    if author_col is not None:
        fakes = pseudonyms(author_col.text, salt=salt)
        authors = TextColumn(fakes, author_col.codes[keep])
        author_hashes = text_hashes(fakes)[author_col.codes[keep]]
    else:
        authors = _text(None, keep)
        author_hashes = _text_hashes(None, keep)
    weight = np.ones(len(index))
    weight_col = _column(cols, fields, "poids")
    if weight_col is not None:
        w = pd.to_numeric(
            pd.Series(weight_col.text, dtype="str").str.replace(",", ".", regex=False),
            errors="coerce",
        ).to_numpy(dtype="float64")
        w = np.where(w >= 0, w, 1.0)
        weight = np.where(np.isnan(w), 1.0, w)[weight_col.codes[keep]]
    default_walk = walk_id or raw.path.stem
    walk_col = _column(cols, fields, "marche") if not walk_id else None
    if walk_col is not None:
        walks = np.where(walk_col.text == "", default_walk, walk_col.text)
        walk = TextColumn(walks, walk_col.codes[keep])
        # the walk id is part of an annotation's identity only when the file says it, not
        # when it is the file's name: the same file under two names gives the same ids
        named = _text_hashes(walk_col, keep)
    else:
        walk = _text(None, keep, default_walk)
        named = _text_hashes(None, keep, walk_id or "")

    rejects = pd.DataFrame(
        {
            "fichier": name,
            "ligne": raw.lines[rejected],
            "raison": reason[rejected],
            "coordonnees": raw.coordinates_as_written(np.flatnonzero(rejected)),
        }
    )
    if rejected.any():
        # the row's other columns, except personal ones (names, e-mails, phones, ids)
        originals = drop_personal_columns(take_rows(table, np.flatnonzero(rejected)))
        originals = originals.astype(object).where(originals.notna(), "")
        originals = originals.drop(columns=[c for c in REJECT_COLUMNS if c in originals])
        if author_col is not None:
            originals["pseudonyme"] = fakes[author_col.codes[rejected]]
        rejects = pd.concat([rejects, originals.reset_index(drop=True).astype(str)], axis=1)
        kinds = pd.Series(reason[rejected]).str.replace(r"\s*(?:[(«]| :).*$", "", regex=True)
        for kind, lines in pd.Series(raw.lines[rejected]).groupby(kinds.to_numpy()):
            summary.messages.append(f"rejet — {kind} : {format_lines(lines.to_numpy(), unit)}")
    texts = {key: _column(cols, fields, key) for key in ("commentaire", "photo", "role")}
    cols.close()
    source_lines, route = raw.lines, raw.route
    del table, raw
    _release_memory(n, collect=True)  # the file's table, if nobody else holds it

    x, y, swapped = located.x[keep], located.y[keep], located.swapped[keep]
    checks: dict[str, np.ndarray] = {}
    if located.shapes is not None:  # lines and zones; points get theirs in _finish
        checks["forme"] = located.shapes[keep]
    if in_quarter is not None:
        checks["dans_quartier"] = in_quarter[keep]
    del located, reason  # every row's arrays, before the accepted rows' columns
    # the content hash (of the ids and duplicates) from each column's distinct texts,
    # in the order of _CONTENT_COLUMNS; _finish adds the shapes' WKB if needed
    kept_stamps = stamp.to_numpy()[keep]
    content = [
        text_hashes(original)[theme_rows[keep]],
        _text_hashes(texts["commentaire"], keep),
        value_hashes(kept_stamps),
        author_hashes,
        text_hashes(valence)[valence_rows[keep]],
        value_hashes(intensity_array),
        _text_hashes(texts["photo"], keep),
        _text_hashes(texts["role"], keep),
        value_hashes(pd.Series(x).round(2)),
        value_hashes(pd.Series(y).round(2)),
    ]
    checks["contenu"] = start_row_hashes(content, _CONTENT_COLUMNS)
    checks["contenu_g"] = start_row_hashes(content, _CONTENT_COLUMNS + 1)
    del content
    checks.update(
        marche_id=named,
        date_illisible=date_bad[keep],
        date_texte=date_text[keep],
        date_future=future[keep],
        inversee=swapped,
        theme_inconnu=~matched[theme_rows[keep]],
        valence_inconnue=valence_bad[valence_rows[keep]],
        intensite_invalide=intensity_bad_kept,
        x=x,
        y=y,
    )
    text_columns = {
        "marche": walk,
        "theme": TextColumn(theme, theme_rows[keep]),
        "theme_original": TextColumn(original, theme_rows[keep]),
        "valence": TextColumn(valence, valence_rows[keep]),
        "commentaire": _text(texts["commentaire"], keep),
        "photo": _text(texts["photo"], keep),
        "role": _text(texts["role"], keep),
        "auteur": authors,
        "source_fichier": _text(None, keep, name),
    }
    frame = pd.DataFrame(
        {
            "intensite": intensity_array,
            "horodatage": kept_stamps,
            "poids": weight,
            "source_ligne": source_lines[keep],
        },
        index=index,
        copy=False,
    )

    summary.acceptes = int(keep.sum())
    summary.rejetes = int(rejected.sum())
    deduced_kept = int(valence_deduced[valence_rows[keep]].sum())
    if "valence" in fields and deduced_kept:
        summary.messages.append(f"ressenti absent, déduit du thème : {deduced_kept} ligne(s)")
    elif "valence" not in fields and keep.any():
        summary.messages.append("pas de colonne de ressenti : valence déduite du thème")
    routes = None
    if route is not None and len(route):
        r = route if route.crs is not None else route.set_crs(4326)
        routes = gpd.GeoDataFrame(
            {"marche": default_walk, "nom": r["nom"].to_numpy(), "source_fichier": name},
            geometry=r.to_crs(CRS).geometry.to_numpy(),
            crs=CRS,
        )
    return _Accepted(frame, text_columns, checks), rejects, summary, routes


def _contains_in(area: shapely.Geometry) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``contains_xy`` on a prepared copy of ``area``, for another thread than ``area``'s.

    GEOS builds a prepared geometry's point index on first use, without a lock: two
    threads testing points against the same geometry at once could build it together and
    corrupt the heap (seen: « malloc(): unaligned tcache chunk detected », or a thread
    waiting forever, on a 1 M-row import).
    """
    own = shapely.from_wkb(shapely.to_wkb(area))
    shapely.prepare(own)
    return partial(shapely.contains_xy, own)


def _area(perimeter: gpd.GeoDataFrame | None) -> shapely.Geometry | None:
    """The quarter as one prepared geometry in Lambert-93."""
    if perimeter is None:
        return None
    if perimeter.crs is None:
        raise WalkError("Le périmètre du quartier n'a pas de système de coordonnées.")
    area = perimeter.to_crs(CRS).union_all()
    shapely.prepare(area)
    return area


def _release_memory(rows: int, *, collect: bool = False) -> None:
    """Give back to the system the memory pyarrow's pool keeps after the file tables are freed.

    pyarrow's allocator keeps the freed pages for later, as glibc's malloc does for the
    Python objects of the per-row work: between the per-file work and the cross-file steps
    of a large import, that is the size of a whole file's text table. ``collect``: run the
    cycle collector first, for a file's table (pandas frames may hold reference cycles);
    elsewhere it is not worth its time (it walks every object array of a million rows).
    """
    if rows < _LARGE_ROWS:
        return
    import contextlib
    import ctypes
    import gc

    import pyarrow as pa

    if collect:
        gc.collect()
    pa.default_memory_pool().release_unused()
    # glibc keeps freed heap pages too (the per-row Python work): hand them back; other C
    # libraries (macOS, musl) have no malloc_trim, and nothing to do
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


@dataclass
class _Accepted:
    """The accepted rows of a file (or of several, end to end), as :func:`_finish` wants them.

    ``frame``: the numeric columns; ``texts``: the text columns, built at the very end;
    ``checks``: per-row arrays of the cross-file steps (flags, hashes, position ``x``/``y``,
    ``forme`` for lines and zones); ``sizes``: how many rows each file gave.
    """

    frame: pd.DataFrame
    texts: dict[str, TextColumn]
    checks: dict[str, np.ndarray]
    sizes: list[int] = field(default_factory=list)

    @staticmethod
    def join(parts: list[_Accepted]) -> _Accepted:
        """The files' rows end to end; empties ``parts`` as it goes.

        ``forme`` is None for the rows of files without shapes.
        """
        if len(parts) == 1:
            return parts.pop()
        sizes = [len(p.frame) for p in parts]
        frame = pd.concat([p.frame for p in parts], ignore_index=True)
        keys = list(parts[0].texts)
        texts = {k: TextColumn.concat([p.texts.pop(k) for p in parts]) for k in keys}
        checks: dict[str, np.ndarray] = {}
        for key in dict.fromkeys(k for part in parts for k in part.checks):
            checks[key] = np.concatenate(
                [
                    p.checks.pop(key) if key in p.checks else np.full(n, None, dtype=object)
                    for p, n in zip(parts, sizes, strict=True)
                ]
            )
        parts.clear()
        return _Accepted(frame, texts, checks, sizes)


def _finish(
    accepted: _Accepted,
    summaries: list[FileSummary],
    area: shapely.Geometry | None,
    existing: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """Cross-file steps: outside the quarter, duplicates, stable ids, flags, counts.

    ``summaries``: the files read, in order (``accepted.sizes`` rows each).
    """
    sizes = accepted.sizes or [len(accepted.frame)]
    checks, words = accepted.checks, accepted.texts
    acc = accepted.frame.reset_index(drop=True)
    del accepted
    _release_memory(len(acc))
    if "forme" in checks:
        own = checks.pop("forme")
        shapes = shapely.get_type_id(own) > 0  # a line or a zone (not a point, not None)
    else:
        own = None
        shapes = np.zeros(len(acc), dtype=bool)
    # the geometries, in a thread while this one does the rest: points for most rows, the
    # file's own shape for lines and zones
    ids, duplicate, first_of = _identify(acc, checks, sizes, own, shapes)
    _release_memory(len(acc))  # the hashes, before the geometries
    x, y = checks.pop("x"), checks.pop("y")
    pool = ThreadPoolExecutor(1)
    try:
        done = pool.submit(
            _checked, acc, checks, words, sizes, summaries, duplicate, first_of, area
        )
        geoms = _geometries(x, y, own, shapes)
        id_column = hex_ids(ids, acc.index)  # while the other thread ends
        acc = done.result()
        acc["id"] = id_column
    finally:
        pool.shutdown()
    del own, shapes, ids, id_column
    if existing is not None and len(existing) and "id" in existing.columns:
        again = acc["id"].isin(existing["id"]).to_numpy()
        for summary, stop, size in zip(summaries, np.cumsum(sizes), sizes, strict=True):
            n_again = int(again[stop - size : stop].sum())
            if n_again:
                summary.messages.append(
                    f"{n_again} annotation(s) déjà présente(s) dans le stock : elles seront "
                    "remplacées, pas dupliquées"
                )
    return coerce_annotations(gpd.GeoDataFrame(acc, geometry=geoms, crs=CRS))


def _geometries(
    x: np.ndarray, y: np.ndarray, own: np.ndarray | None, shapes: np.ndarray
) -> np.ndarray:
    """Points from the coordinates; the file's own shape for lines and zones."""
    geoms = _points(x, y)
    if own is not None and shapes.any():
        geoms[shapes] = own[shapes]
    return geoms


def _identify(
    acc: pd.DataFrame,
    checks: dict[str, np.ndarray],
    sizes: list[int],
    own: np.ndarray | None,
    shapes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Stable ids and duplicates.

    Returns each row's id hash (:func:`hex_ids` makes the ``id``), whether it is a
    duplicate, and the row of its first copy (None when there is no duplicate).
    """
    # the content hash, begun per file (_process_file); a line's or a zone's WKB is part of
    # its own hash only, so a point's id never depends on what else the import holds
    hashes = finish_row_hashes(checks.pop("contenu"), [], _CONTENT_COLUMNS)
    with_shape = checks.pop("contenu_g")
    if own is not None and shapes.any():
        wkb = value_hashes(pd.Series(shapely.to_wkb(own[shapes], hex=True), dtype="str"))
        hashes[shapes] = finish_row_hashes(with_shape[shapes], [wkb], _CONTENT_COLUMNS + 1)
        del wkb
    del with_shape
    # duplicates in the helper thread (pandas' hash tables run without the GIL) while
    # this one hashes the ids
    duplicates = submit(_duplicates, hashes)
    content = pd.Series(hashes, index=acc.index)
    id_key = pd.Series(
        combine_hashes([checks.pop("marche_id"), value_hashes(content)]), index=acc.index
    )
    repeat = np.zeros(len(acc), dtype=bool)
    if id_key.duplicated().any():
        # repeats inside one file are distinct annotations; the same row in another file
        # (a copy under another name) keeps the id of its first appearance: stored once
        files = np.repeat(np.arange(len(sizes)), sizes)
        groups = [id_key.to_numpy(), files]
        occurrence = id_key.groupby(groups).cumcount()
        repeat = (occurrence > 0).to_numpy()
    if repeat.any():
        id_key[repeat] = hash_columns({"k": id_key[repeat], "o": occurrence[repeat]})
    duplicate, first_of = duplicates.result()
    return id_key.to_numpy(), duplicate, first_of


def _duplicates(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows whose content appeared before, and the row of each one's first copy.

    factorize numbers contents in order of appearance, so the first row of each is where
    its number first appears (a new maximum).
    """
    codes = pd.factorize(hashes)[0]
    first = _new_maxima(codes)
    duplicate = ~first
    return duplicate, (np.flatnonzero(first)[codes] if duplicate.any() else None)


def _checked(
    acc: pd.DataFrame,
    checks: dict[str, np.ndarray],
    words: dict[str, TextColumn],
    sizes: list[int],
    summaries: list[FileSummary],
    duplicate: np.ndarray,
    first_of: np.ndarray | None,
    area: shapely.Geometry | None,
) -> pd.DataFrame:
    """The annotations' flags and texts; the files' counts and messages."""
    outside = np.zeros(len(acc), dtype=bool)
    if area is not None:  # tested with the distance to the quarter, per file
        outside = ~checks.pop("dans_quartier").astype(bool)
    flags = {
        "coordonnees_inversees": checks.pop("inversee").astype(bool),
        "hors_quartier": outside,
        "doublon": duplicate,
        "date_illisible": checks.pop("date_illisible").astype(bool),
        "date_future": checks.pop("date_future").astype(bool),
        "theme_inconnu": checks.pop("theme_inconnu").astype(bool),
        "valence_inconnue": checks.pop("valence_inconnue").astype(bool),
        "intensite_invalide": checks.pop("intensite_invalide").astype(bool),
    }
    acc["signalements"] = flag_text(flags, acc.index)
    needs_look = np.zeros(len(acc), dtype=bool)
    for flag, mask in flags.items():
        if flag != "coordonnees_inversees":
            needs_look |= mask

    lines = acc["source_ligne"].to_numpy()
    date_texts = checks.pop("date_texte")
    ends = np.cumsum(sizes)
    for summary, stop, size in zip(summaries, ends, sizes, strict=True):
        mine = np.zeros(len(acc), dtype=bool)
        mine[stop - size : stop] = True  # the files' rows, end to end
        unit = "ligne" if summary.format in ("csv", "xlsx") else "élément"
        summary.corriges = int((flags["coordonnees_inversees"] & mine).sum())
        summary.signales = int((needs_look & mine).sum())
        for flag, mask in flags.items():
            m = mask & mine
            if not m.any():
                continue
            detail = f"{FLAGS[flag]} : {format_lines(lines[m], unit)}"
            if flag == "theme_inconnu":
                texts = sorted(t for t in pd.unique(words["theme_original"].rows(m)) if t)
                if texts:
                    detail += " — texte(s) : " + ", ".join(f"« {t} »" for t in texts[:8])
            if flag == "date_illisible":
                texts = sorted(t for t in pd.unique(date_texts[m]) if t)
                detail += " — texte(s) : " + ", ".join(f"« {t} »" for t in texts[:8])
            if flag == "doublon" and first_of is not None:
                firsts = first_of[m]
                refs = sorted(
                    {f"{words['source_fichier'].at(i)} {unit} {lines[i]}" for i in firsts}
                )
                detail += " — identique(s) à : " + ", ".join(refs[:8])
            prefix = "corrigé" if flag == "coordonnees_inversees" else "à vérifier"
            summary.messages.append(f"{prefix} — {detail}")
    del flags, needs_look, outside, checks, date_texts
    for k in list(words):  # pyarrow takes, while the other thread makes the geometries
        acc[k] = words.pop(k).series(acc.index)
    return acc


def _points(x: np.ndarray, y: np.ndarray, step: int = 100_000) -> np.ndarray:
    """``shapely.points(x, y)``, in slices.

    Shapely holds the GIL while it works; the thread doing the other cross-file steps
    needs it between its pyarrow, numpy and pandas calls.
    """
    if len(x) <= step:
        return shapely.points(x, y)
    out = np.empty(len(x), dtype=object)
    for i in range(0, len(x), step):
        shapely.points(x[i : i + step], y[i : i + step], out=out[i : i + step])
    return out


def import_raw_walks(
    raws: Iterable[RawWalk | tuple[Path, WalkError]],
    *,
    perimeter: gpd.GeoDataFrame | None = None,
    existing: gpd.GeoDataFrame | None = None,
    walk_id: str | None = None,
    salt: str | None = None,
) -> WalkImport:
    """Validate already-read walk files (see :func:`import_walks`).

    The helper thread it uses ends with it: nothing of the import stays running (a later
    stage may fork the process, see :mod:`qmi_geo._overlap`).
    """
    try:
        return _import_raw_walks(
            raws, perimeter=perimeter, existing=existing, walk_id=walk_id, salt=salt
        )
    finally:
        stop_helper_thread()


def _import_raw_walks(
    raws: Iterable[RawWalk | tuple[Path, WalkError]],
    *,
    perimeter: gpd.GeoDataFrame | None,
    existing: gpd.GeoDataFrame | None,
    walk_id: str | None,
    salt: str | None,
) -> WalkImport:
    parts: list[_Accepted] = []
    rejects, routes = [], []
    read: list[FileSummary] = []  # the files read, in order
    summaries: dict[str, FileSummary] = {}
    ordered: list[FileSummary] = []
    area = _area(perimeter)
    for raw in raws:
        if isinstance(raw, tuple):
            path, error = raw
            s = FileSummary(
                fichier=path.name, format=path.suffix.lower().lstrip("."), erreur=str(error)
            )
            ordered.append(s)
            continue
        if not len(raw) and raw.format in ("csv", "xlsx"):
            warnings.warn(
                EmptyWalkFileWarning(
                    f"{raw.path.name} : aucune ligne de données (seulement l'en-tête), rien à "
                    "importer. Vérifiez que l'export contient bien les réponses."
                ),
                stacklevel=2,
            )
        n_rows, raw_path, box = len(raw), raw.path, [raw]
        del raw  # _process_file frees the table once it is read
        accepted, rej, s, route = _process_file(box, walk_id=walk_id, salt=salt, area=area)
        if not n_rows:
            s.messages.append("aucune ligne de données (seulement l'en-tête) : rien à importer")
        if s.fichier in summaries:  # two files with the same name in different folders
            s.fichier = str(raw_path)
            accepted.texts["source_fichier"] = TextColumn.constant(s.fichier, len(accepted.frame))
            rej["fichier"] = s.fichier
            if route is not None:
                route["source_fichier"] = s.fichier
        summaries[s.fichier] = s
        ordered.append(s)
        parts.append(accepted)
        read.append(s)
        rejects.append(rej)
        if route is not None:
            routes.append(route)
        del accepted
    if parts:
        # no name kept here: _finish frees the per-file columns as soon as it is done with them
        annotations = _finish(_Accepted.join(parts), read, area, existing)
    else:
        annotations = empty_annotations()
    nonempty = [r for r in rejects if len(r)]
    reject_frame = (
        pd.concat(nonempty, ignore_index=True)
        if nonempty
        else pd.DataFrame(columns=list(REJECT_COLUMNS))
    )
    reject_frame = reject_frame.astype(object).where(reject_frame.notna(), "")
    route_frames = [r for r in routes if len(r)]
    route_gdf = (
        gpd.GeoDataFrame(pd.concat(route_frames, ignore_index=True), crs=CRS)
        if route_frames
        else empty_routes()
    )
    return WalkImport(annotations, route_gdf, reject_frame, ordered)


def import_walks(
    paths: Iterable[str | Path] | str | Path,
    *,
    perimeter: gpd.GeoDataFrame | None = None,
    existing: gpd.GeoDataFrame | None = None,
    walk_id: str | None = None,
    salt: str | None = None,
    progress: bool | None = None,
) -> WalkImport:
    r"""Import walk files into annotations; nothing is lost, everything is explained.

    Every row of every file ends up either accepted (in ``.annotations``) or rejected (in
    ``.rejects`` with its file, row and French reason). Rows are rejected when their
    coordinates are empty or unreadable, outside Île-de-France, or farther than
    :data:`MAX_DISTANCE_M` (2 km) from the quarter. Swapped latitude/longitude are put back
    and flagged ``coordonnees_inversees``; points just outside the quarter
    (``hors_quartier``), exact duplicates (``doublon``, a copy of a file under another
    name gives the same ids and is stored once), unknown themes (``theme_inconnu``, kept as
    ``autre``), unreadable or impossible dates (``date_illisible``, kept without a date)
    and dates in the future (``date_future``) are kept and flagged. Author names become stable
    pseudonyms. Ids are stable hashes of the content, so re-importing a file gives the
    same ids (and :func:`save_annotations` replaces instead of duplicating).

    Parameters
    ----------
    paths : path or iterable of paths
        Walk files (CSV/TSV, XLSX, GeoJSON/uMap, KML/KMZ, GPX, GeoPackage, Shapefile).
    perimeter : geopandas.GeoDataFrame, optional
        The quarter; rows outside it are flagged ``hors_quartier``.
    existing : geopandas.GeoDataFrame, optional
        Annotations already stored, to report re-imported rows.
    walk_id : str, optional
        The walk id of every row (default: a ``marche`` column, else the file name).
    salt : str, optional
        Salt of the pseudonyms (default: environment variable ``QMI_GEO_SEL_PSEUDONYMES``).
    progress : bool, optional
        Show a progress bar per file (default: only in a terminal).

    Returns
    -------
    WalkImport

    Raises
    ------
    qmi_geo.errors.WalkError
        Only if no file at all could be read. Unreadable files among readable ones are
        reported in their :class:`FileSummary` (``erreur``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "marche_synthetique.csv"
    >>> _ = tmp.write_text(
    ...     "lat;lon;thème;commentaire\n"
    ...     "48,9322;2,4955;Canicule;parvis de la gare\n"
    ...     "2,4955;48,9322;bruit;coordonnées inversées\n"
    ...     ";;bruit;pas de position\n",
    ...     encoding="cp1252",
    ... )
    >>> result = import_walks(tmp)
    >>> result.annotations["theme"].tolist(), result.annotations["signalements"].tolist()
    (['chaleur', 'bruit'], ['', 'coordonnees_inversees'])
    >>> result.rejects[["ligne", "raison"]].values.tolist()
    [[4, 'coordonnées vides : renseignez latitude et longitude ou une colonne WKT']]
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    path_list = [Path(p) for p in paths]
    raws: list[RawWalk | tuple[Path, WalkError]] = []
    errors: list[WalkError] = []
    bar = tqdm(
        path_list,
        desc="Lecture des marches",
        unit="fichier",
        disable=(not progress) if progress is not None else None,
    )
    for path in bar:
        try:
            raws.append(read_walk_file(path))
        except WalkError as exc:
            raws.append((path, exc))
            errors.append(exc)
        _release_memory(len(raws[-1]) if isinstance(raws[-1], RawWalk) else 0)  # reader buffers
    if path_list and len(errors) == len(path_list):
        if len(errors) == 1:
            raise errors[0]
        raise WalkError("Aucun fichier de marche lisible :\n" + "\n".join(map(str, errors)))
    return import_raw_walks(
        _drain(raws), perimeter=perimeter, existing=existing, walk_id=walk_id, salt=salt
    )


def _drain(
    items: list[RawWalk | tuple[Path, WalkError]],
) -> Iterator[RawWalk | tuple[Path, WalkError]]:
    """Yield and forget the files read, so that each table is freed once it is processed."""
    items.reverse()
    while items:
        yield items.pop()
