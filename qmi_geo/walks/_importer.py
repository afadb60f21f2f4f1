"""Import walk files into annotations.

Validate, fix what is safe, reject the rest with a reason, flag what needs a human look.
Nothing is lost: for every file, ``accepted + rejected == rows read``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from tqdm.auto import tqdm

from qmi_geo.errors import WalkError
from qmi_geo.walks._coords import locate
from qmi_geo.walks._distinct import STR_DTYPE, Distinct, distinct, str_series
from qmi_geo.walks._fields import combine_date_time, map_columns, parse_datetimes, text_of
from qmi_geo.walks._privacy import pseudonymise
from qmi_geo.walks._readers import RawWalk, read_walk_file
from qmi_geo.walks._readers._columns import column_key
from qmi_geo.walks._schema import (
    CRS,
    FLAGS,
    coerce_annotations,
    empty_annotations,
    empty_routes,
)
from qmi_geo.walks._summary import FileSummary, format_lines, format_summary
from qmi_geo.walks._themes import DEFAULT_VALENCE, match_intensity, match_theme, match_valence

__all__ = ["WalkImport", "import_raw_walks", "import_walks"]

REJECT_COLUMNS = ("fichier", "ligne", "raison", "coordonnees")


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


def _theme_columns(
    raw: RawWalk, fields: dict[str, str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Theme code, original text and whether it was recognised, for every row.

    Matching is done once per distinct text of each candidate column.
    """
    n = len(raw)
    theme = np.full(n, "autre", dtype=object)
    original = np.full(n, "", dtype=object)
    matched = np.zeros(n, dtype=bool)
    candidates: list[tuple[str, bool]] = []
    if "theme" in fields:
        candidates.append((fields["theme"], True))
    candidates += [(c, True) for c in raw.title_columns if c in raw.table.columns]
    if "theme" not in fields and "commentaire" in fields:
        candidates.append((fields["commentaire"], False))
    for col, is_label in candidates:
        d = distinct(raw.table[col])
        found = [match_theme(t) for t in d.text]
        code = d.rows(np.array([f[0] for f in found], dtype=object))
        ok = d.rows(np.array([f[1] for f in found], dtype=bool))
        take = ok & ~matched
        theme[take] = code[take]
        if is_label:
            text = d.rows()
            fill = (original == "") & d.rows(d.text != "") & (take | ~matched)
            original[fill] = text[fill]
        matched |= ok
    return theme, original, matched


def _column(table: pd.DataFrame, fields: dict[str, str], key: str) -> Distinct | None:
    return distinct(table[fields[key]]) if key in fields else None


def _text(d: Distinct | None, index: pd.Index, default: str = "") -> pd.Series:
    """The stripped text of a column as a ``str`` Series; ``default`` when it is absent."""
    if d is None:
        return str_series(np.array([default], dtype=object), np.zeros(len(index), int), index)
    return d.series()


def _process_file(
    raw: RawWalk, *, walk_id: str | None, salt: str | None
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, FileSummary, gpd.GeoDataFrame]:
    """Validate the rows of one file; returns accepted rows, rejects, summary, routes."""
    name = raw.path.name
    summary = FileSummary(
        fichier=name, format=raw.format, lus=len(raw), messages=list(raw.messages)
    )
    unit = "ligne" if raw.format in ("csv", "xlsx") else "élément"
    table = raw.table
    fields = map_columns(list(table.columns))
    located = locate(raw.x, raw.y, crs=raw.crs, shapes=raw.shapes)
    reason = raw.coord_problem.to_numpy(dtype=object).copy()
    empty = reason == ""
    reason[empty] = located.problem[empty]

    # Timestamps: unreadable dates reject the row.
    stamp = pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns]")
    if "horodatage" in fields:
        values = table[fields["horodatage"]]
        if "heure" in fields and column_key(fields["horodatage"]) == "date":
            values = combine_date_time(values, table[fields["heure"]])
        stamp, bad_date = parse_datetimes(values)
        bad = bad_date.to_numpy() & (reason == "")
        if bad.any():
            shown = text_of(values)[bad]
            reason[bad] = [
                f"date illisible « {v} » (attendu JJ/MM/AAAA HH:MM ou ISO 8601)" for v in shown
            ]
    rejected = reason != ""
    keep = ~rejected

    # Fields of accepted rows, each computed once per distinct text.
    index = table.index
    theme, original, matched = _theme_columns(raw, fields)
    valence_col = _column(table, fields, "valence")
    if valence_col is not None:
        read = valence_col.apply(match_valence)
        valence_deduced = valence_col.rows(valence_col.text == "")
        valence_bad = ~valence_deduced & pd.isna(read)
    else:
        read = np.full(len(table), None, dtype=object)
        valence_deduced = np.ones(len(table), dtype=bool)
        valence_bad = np.zeros(len(table), dtype=bool)
    deduced = pd.Series(theme).map(DEFAULT_VALENCE).to_numpy(dtype=object)
    valence = np.where(valence_deduced, deduced, read)
    valence = np.where(pd.isna(valence), "neutre", valence)
    if "intensite" in fields:
        intensity, intensity_bad = match_intensity(table[fields["intensite"]])
    else:
        intensity = pd.Series(pd.NA, index=index, dtype="Int64")
        intensity_bad = pd.Series(False, index=index)
    authors = (
        pseudonymise(table[fields["auteur"]], salt=salt)
        if "auteur" in fields
        else _text(None, index)
    )
    weight = np.ones(len(table))
    weight_col = _column(table, fields, "poids")
    if weight_col is not None:
        w = pd.to_numeric(
            pd.Series(weight_col.text, dtype="str").str.replace(",", ".", regex=False),
            errors="coerce",
        ).to_numpy(dtype="float64")
        w = np.where(w >= 0, w, 1.0)
        weight = weight_col.rows(np.where(np.isnan(w), 1.0, w))
    default_walk = walk_id or raw.path.stem
    walk_col = _column(table, fields, "marche") if not walk_id else None
    if walk_col is not None:
        walk = str_series(
            np.where(walk_col.text == "", default_walk, walk_col.text), walk_col.codes, index
        )
    else:
        walk = _text(None, index, default_walk)

    if located.shapes is not None:
        geoms = np.where(
            shapely.is_missing(located.shapes), shapely.points(located.x, located.y), located.shapes
        )
    else:
        geoms = shapely.points(located.x, located.y)
    frame = pd.DataFrame(
        {
            "marche": walk,
            "theme": pd.Series(theme, index=index, dtype="str"),
            "theme_original": pd.Series(original, index=index, dtype="str"),
            "valence": pd.Series(valence, index=index, dtype="str"),
            "intensite": intensity,
            "commentaire": _text(_column(table, fields, "commentaire"), index),
            "photo": _text(_column(table, fields, "photo"), index),
            "horodatage": stamp,
            "role": _text(_column(table, fields, "role"), index),
            "auteur": authors,
            "poids": weight,
            "source_fichier": _text(None, index, name),
            "source_ligne": raw.lines,
            "_inversee": located.swapped,
            "_theme_inconnu": ~matched,
            "_valence_inconnue": valence_bad,
            "_intensite_invalide": intensity_bad,
            "_x": located.x,
            "_y": located.y,
        },
        index=table.index,
    )
    accepted = gpd.GeoDataFrame(frame[keep], geometry=geoms[keep], crs=CRS)

    rejects = pd.DataFrame(
        {
            "fichier": name,
            "ligne": raw.lines[rejected],
            "raison": reason[rejected],
            "coordonnees": raw.coord_text.to_numpy()[rejected],
        }
    )
    if rejected.any():
        originals = table[rejected].astype(object).where(table[rejected].notna(), "")
        if "auteur" in fields:
            originals[fields["auteur"]] = authors[rejected]
        rejects = pd.concat([rejects, originals.reset_index(drop=True).astype(str)], axis=1)
        kinds = pd.Series(reason[rejected]).str.replace(r"\s*[(«].*$", "", regex=True)
        for kind, lines in pd.Series(raw.lines[rejected]).groupby(kinds.to_numpy()):
            summary.messages.append(f"rejet — {kind} : {format_lines(lines.to_numpy(), unit)}")
    summary.acceptes = int(keep.sum())
    summary.rejetes = int(rejected.sum())
    if "valence" in fields and valence_deduced[keep].any():
        summary.messages.append(
            f"ressenti absent, déduit du thème : {int(valence_deduced[keep].sum())} ligne(s)"
        )
    elif "valence" not in fields and keep.any():
        summary.messages.append("pas de colonne de ressenti : valence déduite du thème")
    routes = empty_routes()
    if raw.route is not None and len(raw.route):
        r = raw.route if raw.route.crs is not None else raw.route.set_crs(4326)
        routes = gpd.GeoDataFrame(
            {"marche": default_walk, "nom": r["nom"].to_numpy(), "source_fichier": name},
            geometry=r.to_crs(CRS).geometry.to_numpy(),
            crs=CRS,
        )
    return accepted, rejects, summary, routes


def _combine_hashes(arrays: list[np.ndarray]) -> np.ndarray:
    """Row hashes of several column hashes, as :func:`pandas.util.hash_pandas_object` does.

    The algorithm (CPython's tuple hash) is copied here so that annotation ids do not
    depend on a pandas internal.
    """
    num_items = len(arrays)
    mult = np.uint64(1000003)
    out = np.zeros_like(arrays[0]) + np.uint64(0x345678)
    for i, a in enumerate(arrays):
        inverse_i = num_items - i
        out ^= a
        out *= mult
        mult += np.uint64(82520 + inverse_i + inverse_i)
    out += np.uint64(97531)
    return out


def _hash(columns: dict[str, pd.Series]) -> np.ndarray:
    """``hash_pandas_object(DataFrame(columns), index=False)``, text hashed once per value.

    Examples
    --------
    >>> cols = {"a": pd.Series(["x", "y", "x"], dtype="str"), "b": pd.Series([1.0, 2.0, 3.0])}
    >>> expected = pd.util.hash_pandas_object(pd.DataFrame(cols), index=False).to_numpy()
    >>> bool((_hash(cols) == expected).all())
    True
    """
    hashes = []
    for values in columns.values():
        if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
            codes, uniques = pd.factorize(values, use_na_sentinel=False)
            once = pd.util.hash_pandas_object(
                pd.Series(uniques, dtype=values.dtype), index=False
            ).to_numpy()
            hashes.append(once[codes])
        else:
            hashes.append(pd.util.hash_pandas_object(values, index=False).to_numpy())
    return _combine_hashes(hashes)


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _hex_ids(values: np.ndarray, index: pd.Index, prefix: str = "A-") -> pd.Series:
    """``prefix + "{:016x}".format(v)`` for every uint64, without a Python loop.

    Examples
    --------
    >>> _hex_ids(np.array([255, 2**64 - 1], dtype=np.uint64), pd.RangeIndex(2)).tolist()
    ['A-00000000000000ff', 'A-ffffffffffffffff']
    """
    n, head = len(values), prefix.encode()
    width = len(head) + 16
    raw = np.ascontiguousarray(values, dtype=">u8").view(np.uint8).reshape(n, 8)
    chars = np.empty((n, width), dtype=np.uint8)
    chars[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    chars[:, len(head) :: 2] = _HEX[raw >> 4]
    chars[:, len(head) + 1 :: 2] = _HEX[raw & 15]
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(chars.tobytes())
    )
    return pd.Series(pd.arrays.ArrowStringArray(array, dtype=STR_DTYPE), index=index)


def _flag_text(flags: dict[str, np.ndarray], index: pd.Index) -> pd.Series:
    """``;``-joined names of the flags set on each row (built once per combination)."""
    bits = np.zeros(len(index), dtype=np.int64)
    names = list(flags)
    for k, name in enumerate(names):
        bits |= flags[name].astype(np.int64) << k
    combos, codes = np.unique(bits, return_inverse=True)
    texts = np.array(
        [";".join(n for k, n in enumerate(names) if c >> k & 1) for c in combos.tolist()],
        dtype=object,
    )
    return str_series(texts, codes.reshape(-1), index)


def _finish(
    accepted: gpd.GeoDataFrame,
    summaries: dict[str, FileSummary],
    perimeter: gpd.GeoDataFrame | None,
    existing: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """Cross-file steps: outside the quarter, duplicates, stable ids, flags, counts."""
    acc = accepted.reset_index(drop=True)
    outside = pd.Series(False, index=acc.index)
    if perimeter is not None and len(acc):
        if perimeter.crs is None:
            raise WalkError("Le périmètre du quartier n'a pas de système de coordonnées.")
        area = perimeter.to_crs(CRS).union_all()
        shapely.prepare(area)
        is_point = shapely.get_type_id(acc.geometry.array) == 0
        inside = np.where(
            is_point,
            shapely.contains_xy(area, acc["_x"], acc["_y"]),
            shapely.intersects(area, acc.geometry.array),
        )
        outside = pd.Series(~inside, index=acc.index)
    key = {
        "t": acc["theme_original"],
        "c": acc["commentaire"],
        "h": acc["horodatage"],
        "a": acc["auteur"],
        "v": acc["valence"],
        "i": acc["intensite"],
        "p": acc["photo"],
        "r": acc["role"],
        "x": acc["_x"].round(2),
        "y": acc["_y"].round(2),
    }
    shapes = shapely.get_type_id(acc.geometry.array) != 0
    if shapes.any():
        g = np.full(len(acc), "", dtype=object)
        g[shapes] = shapely.to_wkb(acc.geometry.array[shapes], hex=True)
        key["g"] = pd.Series(g, index=acc.index, dtype="str")
    content = pd.Series(_hash(key), index=acc.index)
    duplicate = content.duplicated(keep="first")
    id_key = pd.Series(_hash({"m": acc["marche"], "k": content}), index=acc.index)
    repeat = np.zeros(len(acc), dtype=bool)
    if id_key.duplicated().any():
        occurrence = id_key.groupby(id_key.to_numpy()).cumcount()
        repeat = (occurrence > 0).to_numpy()
    if repeat.any():
        id_key[repeat] = _hash({"k": id_key[repeat], "o": occurrence[repeat]})
    acc["id"] = _hex_ids(id_key.to_numpy(), acc.index)

    flags = {
        "coordonnees_inversees": acc["_inversee"].to_numpy(bool),
        "hors_quartier": outside.to_numpy(bool),
        "doublon": duplicate.to_numpy(bool),
        "theme_inconnu": acc["_theme_inconnu"].to_numpy(bool),
        "valence_inconnue": acc["_valence_inconnue"].to_numpy(bool),
        "intensite_invalide": acc["_intensite_invalide"].to_numpy(bool),
    }
    acc["signalements"] = _flag_text(flags, acc.index)
    needs_look = np.zeros(len(acc), dtype=bool)
    for flag, mask in flags.items():
        if flag != "coordonnees_inversees":
            needs_look |= mask

    first_of = (
        pd.Series(np.arange(len(acc)), index=acc.index)
        .groupby(content.to_numpy())
        .transform("first")
        if duplicate.any()
        else None
    )
    for name, summary in summaries.items():
        mine = (acc["source_fichier"] == name).to_numpy()
        lines = acc["source_ligne"].to_numpy()
        unit = "ligne" if summary.format in ("csv", "xlsx") else "élément"
        summary.corriges = int((flags["coordonnees_inversees"] & mine).sum())
        summary.signales = int((needs_look & mine).sum())
        for flag, mask in flags.items():
            m = mask & mine
            if not m.any():
                continue
            detail = f"{FLAGS[flag]} : {format_lines(lines[m], unit)}"
            if flag == "theme_inconnu":
                texts = sorted(t for t in acc.loc[m, "theme_original"].unique() if t)
                if texts:
                    detail += " — texte(s) : " + ", ".join(f"« {t} »" for t in texts[:8])
            if flag == "doublon" and first_of is not None:
                firsts = first_of[m].to_numpy()
                refs = sorted(
                    {
                        f"{acc['source_fichier'].iat[i]} {unit} {acc['source_ligne'].iat[i]}"
                        for i in firsts
                    }
                )
                detail += " — identique(s) à : " + ", ".join(refs[:8])
            prefix = "corrigé" if flag == "coordonnees_inversees" else "à vérifier"
            summary.messages.append(f"{prefix} — {detail}")
        if existing is not None and len(existing) and "id" in existing.columns:
            again = acc.loc[mine, "id"].isin(existing["id"]).sum()
            if again:
                summary.messages.append(
                    f"{int(again)} annotation(s) déjà présente(s) dans le stock : elles seront "
                    "remplacées, pas dupliquées"
                )
    return coerce_annotations(acc)


def import_raw_walks(
    raws: Iterable[RawWalk | tuple[Path, WalkError]],
    *,
    perimeter: gpd.GeoDataFrame | None = None,
    existing: gpd.GeoDataFrame | None = None,
    walk_id: str | None = None,
    salt: str | None = None,
) -> WalkImport:
    """Validate already-read walk files (see :func:`import_walks`)."""
    parts, rejects, routes = [], [], []
    summaries: dict[str, FileSummary] = {}
    ordered: list[FileSummary] = []
    for raw in raws:
        if isinstance(raw, tuple):
            path, error = raw
            s = FileSummary(
                fichier=path.name, format=path.suffix.lower().lstrip("."), erreur=str(error)
            )
            ordered.append(s)
            continue
        accepted, rej, s, route = _process_file(raw, walk_id=walk_id, salt=salt)
        if s.fichier in summaries:  # two files with the same name in different folders
            s.fichier = str(raw.path)
            accepted["source_fichier"] = s.fichier
            rej["fichier"] = s.fichier
            route["source_fichier"] = s.fichier
        summaries[s.fichier] = s
        ordered.append(s)
        parts.append(accepted)
        rejects.append(rej)
        routes.append(route)
    if parts:
        accepted_all = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=CRS)
        annotations = _finish(accepted_all, summaries, perimeter, existing)
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
    coordinates are empty or unreadable, outside France, or their date is unreadable.
    Swapped latitude/longitude are put back and flagged ``coordonnees_inversees``; points
    outside the quarter (``hors_quartier``), exact duplicates (``doublon``), unknown themes
    (``theme_inconnu``, kept as ``autre``) are kept and flagged. Author names become stable
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
    [[4, 'coordonnées vides ou incomplètes']]
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
    if path_list and len(errors) == len(path_list):
        if len(errors) == 1:
            raise errors[0]
        raise WalkError("Aucun fichier de marche lisible :\n" + "\n".join(map(str, errors)))
    return import_raw_walks(
        raws, perimeter=perimeter, existing=existing, walk_id=walk_id, salt=salt
    )
