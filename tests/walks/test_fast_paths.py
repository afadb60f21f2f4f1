"""The importer's fast paths give what the plain ways give (issue 13).

Each test compares a vectorised or threaded path with the straightforward computation it
replaced: stable ids against the content-hash formula, the arrow CSV reader against pandas,
rejects taken chunk by chunk against ``iloc``, blank tests against trimming, flag texts
against ``numpy.unique``.
"""

from __future__ import annotations

import codecs

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import shapely

from qmi_geo.walks import import_walks
from qmi_geo.walks._ids import flag_text, hash_columns, hex_ids
from qmi_geo.walks._readers._raw import blank_mask
from qmi_geo.walks._readers._tabular import _read_csv_fast, decode_bytes


def fr(v: float) -> str:
    return f"{v:.6f}".replace(".", ",")


def _expected_ids(ann: pd.DataFrame, with_shapes: bool) -> list[str]:
    """The ids as the importer defines them: ``hash_pandas_object`` of the content columns
    (and, for a line or a zone, of its WKB), then of the walk id."""
    geoms = ann.geometry.array
    points = shapely.get_type_id(geoms) == 0
    rep = shapely.point_on_surface(geoms)  # lines and zones: checked at a point on them
    key = {
        "t": ann["theme_original"],
        "c": ann["commentaire"],
        "h": ann["horodatage"],
        "a": ann["auteur"],
        "v": ann["valence"],
        "i": ann["intensite"],
        "p": ann["photo"],
        "r": ann["role"],
        "x": pd.Series(shapely.get_x(rep), index=ann.index).round(2),
        "y": pd.Series(shapely.get_y(rep), index=ann.index).round(2),
    }
    content = pd.Series(hash_columns(key), index=ann.index)
    if with_shapes and (~points).any():
        wkb = pd.Series(shapely.to_wkb(geoms, hex=True), index=ann.index, dtype="str")
        shaped = pd.Series(hash_columns({**key, "g": wkb}), index=ann.index)
        content = content.where(points, shaped)
    walk = pd.Series("", index=ann.index, dtype="str")  # no walk column, no walk id
    return hex_ids(hash_columns({"m": walk, "k": content}), ann.index).tolist()


@pytest.fixture
def two_files(tmp_path, places, aulnay):
    """A file of points (WGS84, decimal commas) and a file of lines (WKT, Lambert-93)."""
    (la, lo), (lb, lb_lon) = places["Gare Aulnay-sous-Bois"], places["Collège le Parc"]
    points = tmp_path / "points_synthetique.csv"
    points.write_bytes(
        (
            "Date;Thème;Ressenti;Intensité;Commentaire;Latitude;Longitude;Nom\n"
            f"15/06/2024 14:00;trop chaud;;3;Parvis sans ombre;{fr(la)};{fr(lo)};Jeanne\n"
            f"15/06/2024 14:10;Bruit;négatif;2;Trafic;{fr(lb)};{fr(lb_lon)};Karim\n"
            f"15/06/2024 14:20;canicule;;;Cour;{fr(lb_lon)};{fr(lb)};Jeanne\n"
        ).encode("cp1252")
    )
    x, y = aulnay.geometry.iloc[0].representative_point().coords[0]
    lines = tmp_path / "lignes_synthetique.csv"
    lines.write_text(
        "thème;commentaire;WKT\n"
        f"bruit;rue bruyante;LINESTRING ({x:.2f} {y:.2f}, {x + 150:.2f} {y + 40:.2f})\n"
        f"chaleur;place minérale;POLYGON (({x:.2f} {y:.2f}, {x + 60:.2f} {y:.2f}, "
        f"{x + 60:.2f} {y + 60:.2f}, {x:.2f} {y:.2f}))\n"
        f"vélo;point en WKT;POINT ({x + 10:.2f} {y + 10:.2f})\n",
        encoding="utf-8",
    )
    return points, lines


def test_ids_are_the_content_hash_with_and_without_shapes(two_files, aulnay):
    """Ids are hashed per file as it is read; they equal the hash of the content columns
    over the whole import, with the shapes' WKB only when some file has lines or zones."""
    points, lines = two_files
    alone = import_walks(points, perimeter=aulnay, progress=False).annotations
    assert len(alone) == 3
    assert alone["id"].tolist() == _expected_ids(alone, with_shapes=False)
    both = import_walks([points, lines], perimeter=aulnay, progress=False).annotations
    assert len(both) == 6 and (shapely.get_type_id(both.geometry.array) > 0).sum() == 2
    assert both["id"].tolist() == _expected_ids(both, with_shapes=True)
    # a point's id does not depend on the other files of the import: re-imported alone
    # later, the points file's annotations are the same rows of the store
    assert set(alone["id"]) <= set(both["id"])


def test_file_counts_follow_each_file_also_under_the_same_name(two_files, aulnay, tmp_path):
    """Per-file counts come from each file's rows (files end to end), also for two files
    of the same name in different folders."""
    points, _ = two_files
    other = tmp_path / "autre"
    other.mkdir()
    copy = other / points.name
    copy.write_bytes(points.read_bytes() + b"15/06/2024 16:00;licorne;;9;?;;;X\n")
    result = import_walks([points, copy], perimeter=aulnay, progress=False)
    ann = result.annotations
    first, second = result.summary
    assert (first.fichier, second.fichier) == (points.name, str(copy))
    for s in (first, second):
        mine = ann[ann["source_fichier"] == s.fichier]
        flags = mine["signalements"].str.split(";")
        assert s.acceptes == len(mine) == 3
        assert s.corriges == int(flags.map(lambda f: "coordonnees_inversees" in f).sum()) == 1
    assert (first.rejetes, second.rejetes) == (0, 1)
    # the copy's rows are the same annotations: same ids, stored once
    assert ann["id"].iloc[:3].tolist() == ann["id"].iloc[3:].tolist()


def _pandas_table(text: str, sep: str) -> pd.DataFrame:
    import io

    table = pd.read_csv(
        io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=False
    )
    return table.astype(pd.StringDtype("pyarrow", na_value=np.nan))


@pytest.mark.parametrize(
    "body",
    [
        # no quote at all: the reader splits the file at any line end
        "a;b;c\n1,5;x y;\n;;\n\n2;é;z\r\n3;€;w\n",
        # quoted values with separators and line breaks inside
        'a;b;c\n1;"deux; trois";x\n2;"ligne\nsuivante";"""cité"""\n3;;\n',
    ],
)
def test_arrow_reader_matches_pandas(body):
    fast = _read_csv_fast(body, ";")
    assert fast is not None
    pd.testing.assert_frame_equal(fast, _pandas_table(body, ";"))


def test_large_csv_rejects_from_several_chunks(tmp_path, places, aulnay):
    """A file of several pyarrow blocks: rejected rows are taken chunk by chunk, with
    their coordinates as written and their other columns, but never the participant's
    name; the accepted rows are all there."""
    la, lo = places["Gare Aulnay-sous-Bois"]
    n = 30_000
    rows = ["date;thème;commentaire;participant;latitude;longitude"]
    bad = {}
    for i in range(n):
        lat, lon = fr(la + (i % 50) * 1e-5), fr(lo)
        if i % 997 == 0:
            lat, lon = "", ""
            bad[i + 2] = " ; "
        elif i % 1409 == 0:
            lat, lon = "45,0", "-30,0"
            bad[i + 2] = "45,0 ; -30,0"
        rows.append(f"15/06/2024 14:00;bruit;rang {i} — « ok »;Nom Secret {i};{lat};{lon}")
    path = tmp_path / "grand_synthetique.csv"
    path.write_bytes(("\n".join(rows) + "\n").encode("cp1252"))
    assert path.stat().st_size > 2**21  # more than two of pyarrow's 1 MiB blocks
    result = import_walks(path, perimeter=aulnay, progress=False)
    rej = result.rejects
    assert rej["ligne"].tolist() == sorted(bad)
    assert rej["coordonnees"].tolist() == [bad[k] for k in sorted(bad)]
    assert rej["commentaire"].tolist() == [f"rang {k - 2} — « ok »" for k in sorted(bad)]
    assert "participant" not in rej.columns
    assert not rej.astype(str).apply(lambda c: c.str.contains("Nom Secret")).any().any()
    assert len(result.annotations) == n - len(bad)
    assert result.annotations["commentaire"].str.contains("«").all()


def test_utf8_detection_across_the_head_boundary():
    """The encoding test looks at the file's start first: a character cut at that limit
    is still UTF-8, and a Windows-1252 file whose start is plain ASCII is still seen."""
    head = "a;b\n" + "x;y\n" * 16_383  # 65,536 bytes
    utf8 = (head[:-1] + "é;ü\n").encode("utf-8")
    assert len(head[:-1].encode()) == 65_535  # « é » straddles the 64 KiB limit
    text, encoding = decode_bytes(utf8)
    assert encoding == "UTF-8" and text.endswith("é;ü\n")
    text, encoding = decode_bytes((head + "é;€\n").encode("cp1252"))
    assert encoding == "Windows-1252" and text.endswith("é;€\n")
    assert decode_bytes(codecs.BOM_UTF8 + "é".encode())[1] == "UTF-8 avec BOM"


def test_blank_test_sees_the_same_white_space_as_trimming():
    spaces = [chr(c) for c in range(0x3001) if chr(c).isspace()] + ["\ufeff", "\u200b"]
    values = ["", "x", " x ", *spaces, "".join(spaces), " \u00a0\u202f\t"]
    arrow = pa.array(values, type=pa.large_string())
    trimmed = pc.equal(pc.utf8_trim_whitespace(arrow), "").to_pylist()
    got = blank_mask(pd.Series(pd.arrays.ArrowStringArray(arrow)))
    assert got.tolist() == trimmed


def test_flag_text_matches_the_unique_formula():
    rng = np.random.default_rng(0)
    flags = {f"f{k}": rng.random(5_000) < p for k, p in enumerate([0.5, 0.01, 0.2, 0.0])}
    got = flag_text(flags, pd.RangeIndex(5_000)).tolist()
    names = list(flags)
    bits = sum(flags[n].astype(np.int64) << k for k, n in enumerate(names))
    combos, codes = np.unique(bits, return_inverse=True)
    texts = [";".join(n for k, n in enumerate(names) if c >> k & 1) for c in combos]
    assert got == [texts[c] for c in codes]
    assert flag_text({"a": np.zeros(0, dtype=bool)}, pd.RangeIndex(0)).tolist() == []


BODY = (
    "date;thème;commentaire;participant;latitude;longitude\r\n"
    "15/06/2024 14:00;Îlot de chaleur;parvis — « sans ombre »;Nom 1;48,9322;2,4955\r\n"
    "15/06/2024 14:10;bruit;;Nom 2;;\r\n"
    "15/06/2024 14:20;propreté;€ et œ;Nom 3;2,4955;48,9322\r\n"
) + "".join(f"15/06/2024 15:{i % 60:02d};vélo;rang {i};Nom {i};48,93;2,49\r\n" for i in range(40))


@pytest.mark.parametrize(
    "data",
    [
        BODY.encode("cp1252"),
        ("sep=;\r\n" + BODY).encode("cp1252"),
        BODY.encode("utf-8"),
        codecs.BOM_UTF8 + BODY.encode("utf-8"),
        BODY.replace("\r\n", "\n").encode("utf-8"),
        # not read by blocks: a byte Windows-1252 lacks (Latin-1), a quote, a short row,
        # a UTF-8 start and Windows-1252 later, UTF-16
        BODY.encode("cp1252") + "x;\x81;y;z;1;2\n".encode("latin-1"),
        BODY.replace("rang 7", '"rang\n7"').encode("utf-8"),
        BODY.encode("utf-8") + b"x;y\n",
        BODY.encode("utf-8") + "x;é;y;z;1;2\n".encode("cp1252"),
        BODY.encode("utf-16"),
    ],
    ids=["cp1252", "hint", "utf8", "bom", "lf", "latin1", "quote", "short", "mixed", "utf16"],
)
def test_block_reader_reads_what_the_general_path_reads(data, tmp_path, monkeypatch):
    """Large files without quotes are decoded and parsed block by block in two threads;
    tiny blocks here, so that every line end can be a block's end."""
    from qmi_geo.walks._readers import _tabular

    path = tmp_path / "blocs_synthetique.csv"
    path.write_bytes(data)
    monkeypatch.setattr(_tabular, "_LARGE_FILE", 1 << 60)
    general = _tabular.read_csv_walk(path)
    monkeypatch.setattr(_tabular, "_LARGE_FILE", 0)
    monkeypatch.setattr(_tabular, "_BLOCK", 50)
    blocks = _tabular.read_csv_walk(path)
    pd.testing.assert_frame_equal(blocks.table, general.table)
    assert blocks.messages == general.messages
    assert blocks.lines.tolist() == general.lines.tolist()
    assert np.array_equal(blocks.x, general.x, equal_nan=True)
    assert np.array_equal(blocks.y, general.y, equal_nan=True)
    assert blocks.coord_problem.tolist() == general.coord_problem.tolist()


def test_block_reader_is_used_for_large_regular_files(tmp_path, monkeypatch):
    from qmi_geo.walks._readers import _tabular

    monkeypatch.setattr(_tabular, "_LARGE_FILE", 0)
    monkeypatch.setattr(_tabular, "_BLOCK", 50)
    got = _tabular._read_large_csv(BODY.encode("cp1252"))
    assert got is not None
    table, encoding, sep, skipped = got
    assert (encoding, sep, skipped, len(table)) == ("Windows-1252", ";", 0, 43)
    assert table["commentaire"].iloc[2] == "€ et œ"
    assert _tabular._read_large_csv(BODY.replace("rang 7", '"r"').encode()) is None


def test_two_thread_reprojection_and_quarter_test_match_one_call(aulnay):
    """Above PARALLEL_ROWS, reprojection and the point-in-quarter test run on two halves
    in two threads: the same values as one call."""
    from qmi_geo.walks._coords import _TO_L93, locate
    from qmi_geo.walks._importer import _area, _too_far
    from qmi_geo.walks._threads import PARALLEL_ROWS

    rng = np.random.default_rng(1)
    n = PARALLEL_ROWS + 1001
    lon, lat = rng.uniform(2.45, 2.55, n), rng.uniform(48.90, 48.97, n)
    got = locate(lon, lat, crs="EPSG:4326")
    x, y = _TO_L93.transform(lon, lat)
    assert np.array_equal(got.x, x) and np.array_equal(got.y, y)
    area = _area(aulnay)
    inside = np.zeros(n, dtype=bool)
    _too_far(got.x, got.y, None, np.ones(n, dtype=bool), area, 2000.0, inside)
    assert np.array_equal(inside, shapely.contains_xy(area, x, y))
    assert 0 < inside.sum() < n


def test_the_helper_thread_tests_points_against_its_own_prepared_quarter(aulnay):
    """GEOS builds a prepared geometry's index on first use, without a lock: the two
    halves of the point-in-quarter test must not share one (a 1 M-row import crashed with
    « unaligned tcache chunk detected », 2 runs in 12, or hung)."""
    import threading

    from qmi_geo.walks._importer import _area, _contains_in
    from qmi_geo.walks._threads import in_halves

    area = _area(aulnay)
    helper = _contains_in(area)
    own = helper.args[0]
    assert own is not area and shapely.is_prepared(own) and shapely.equals_exact(own, area, 0)
    seen: list[tuple[str, object]] = []

    def test_in(geom):
        def run(x, y):
            seen.append((threading.current_thread().name, geom))
            return shapely.contains_xy(geom, x, y)

        return run

    rng = np.random.default_rng(4)
    x0, y0, x1, y1 = area.bounds
    x, y = rng.uniform(x0, x1, 1000), rng.uniform(y0, y1, 1000)
    got = in_halves(test_in(area), x, y, rows=10, helper=lambda: test_in(own))
    assert np.array_equal(got, shapely.contains_xy(area, x, y))
    by_thread = {name.startswith("qmi-walks-halves"): id(geom) for name, geom in seen}
    assert by_thread == {False: id(area), True: id(own)}  # each thread its own geometry


def test_points_in_slices_are_the_points():
    from qmi_geo.walks._importer import _points

    rng = np.random.default_rng(2)
    x, y = rng.uniform(6e5, 7e5, 250_001), rng.uniform(6.8e6, 6.9e6, 250_001)
    got = _points(x, y)
    assert got.dtype == object and len(got) == len(x)
    assert np.array_equal(shapely.get_coordinates(got), np.column_stack([x, y]))


def test_no_helper_thread_outlives_an_import(two_files, aulnay):
    """The import's helper thread ends with it: a later stage may fork the process
    (qmi_geo._overlap refuses to while other threads run)."""
    import threading

    import_walks(list(two_files), perimeter=aulnay, progress=False)
    left = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
    assert not [n for n in left if n.startswith("qmi-walks")], left
