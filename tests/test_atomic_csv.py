"""``_atomic.write_csv``'s pyarrow fast path writes what pandas writes, for Excel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qmi_geo import _atomic
from qmi_geo._atomic import write_csv


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 500
    texts = np.array(
        [
            "Rue de Paris",
            "École « Jean-Jaurès » ; cour",
            'il a dit "ici"',
            "deux\nlignes",
            "",
            "  espaces  ",
            "virgule, point.",
        ],
        dtype=object,
    )
    text = texts[rng.integers(0, len(texts), n)]
    text[rng.random(n) < 0.1] = None
    floats = rng.random(n) * 10.0 ** rng.integers(-6, 7, n)
    floats[rng.random(n) < 0.1] = np.nan
    floats[:4] = [2.0, -0.5, 1e-5, np.inf]
    return pd.DataFrame(
        {
            "nom": text,
            "nom_str": pd.array(text, dtype="str"),
            "score": floats,
            "float32": floats.astype("float32"),
            "rang": rng.integers(-5, 1000, n),
            "entier_na": pd.array([None if i % 7 == 0 else i for i in range(n)], dtype="Int64"),
            "vrai": rng.random(n) < 0.5,
            "vide": [None] * n,
            'col ; "bizarre"': rng.integers(0, 3, n),
        }
    )


def _read(path: Path, decimal: str) -> pd.DataFrame:
    return pd.read_csv(
        path,
        sep=";",
        decimal=decimal,
        encoding="utf-8-sig",
        keep_default_na=False,
        na_values=[""],
        dtype=str,
    )


@pytest.mark.parametrize("decimal", [",", "."])
def test_fast_path_reads_back_as_pandas_output(tmp_path: Path, decimal: str) -> None:
    frame = _frame()
    assert (
        _atomic._fast_csv(
            frame, {"sep": ";", "index": False, "encoding": "utf-8-sig", "decimal": decimal}
        )
        is not None
    )  # the fast path is taken
    ours = write_csv(frame, tmp_path / "ours.csv", decimal=decimal)
    theirs = tmp_path / "pandas.csv"
    frame.to_csv(theirs, sep=";", index=False, encoding="utf-8-sig", decimal=decimal)
    raw = ours.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    a, b = _read(ours, decimal), _read(theirs, decimal)
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b) == len(frame)
    for col in ("nom", "nom_str", "rang", "entier_na", "vrai", "vide", 'col ; "bizarre"'):
        pd.testing.assert_series_equal(a[col], b[col], check_names=False)  # same text
    for col in ("score", "float32"):  # same numbers (shortest round-trip form)
        x = pd.to_numeric(a[col].str.replace(",", "."), errors="raise").to_numpy()
        y = pd.to_numeric(b[col].str.replace(",", "."), errors="raise").to_numpy()
        np.testing.assert_array_equal(x, y)
    if decimal == ",":
        assert "." not in "".join(a["score"].dropna())


def test_fast_path_bytes_equal_pandas_for_text_and_integers(tmp_path: Path) -> None:
    frame = _frame()[["nom", "nom_str", "rang", "entier_na", "vrai", "vide"]]
    ours = write_csv(frame, tmp_path / "ours.csv")
    theirs = tmp_path / "pandas.csv"
    frame.to_csv(theirs, sep=";", index=False, encoding="utf-8-sig")
    assert ours.read_bytes() == theirs.read_bytes()


def test_unsupported_options_and_types_fall_back_to_pandas(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"quand": pd.to_datetime(["2024-05-01 10:00"]), "x": [0.123456789], "c": ["a"]}
    )
    assert _atomic._fast_csv(frame, {"sep": ";", "index": False}) is None  # datetime
    mixed = pd.DataFrame({"m": ["a", 1]}, dtype=object)
    assert _atomic._fast_csv(mixed, {"sep": ";", "index": False}) is None
    path = write_csv(frame[["x"]], tmp_path / "g.csv", decimal=",", float_format="%.3g")
    assert path.read_text(encoding="utf-8-sig") == "x\n0,123\n"
    path = write_csv(frame, tmp_path / "d.csv")
    assert path.read_text(encoding="utf-8-sig").splitlines()[1].startswith("2024-05-01 10:00:00;")


def test_carriage_return_is_quoted(tmp_path: Path) -> None:
    # pandas (csv.QUOTE_MINIMAL with "\n" lines) leaves a lone "\r" unquoted, which splits
    # the row in Excel; the fast path quotes it
    path = write_csv(pd.DataFrame({"t": ["retour\rchariot", "x"]}), tmp_path / "r.csv")
    assert path.read_bytes() == b'\xef\xbb\xbft\n"retour\rchariot"\nx\n'
    back = pd.read_csv(path, sep=";", encoding="utf-8-sig")
    assert back["t"].tolist() == ["retour\rchariot", "x"]


def test_empty_frame_writes_the_header(tmp_path: Path) -> None:
    path = write_csv(pd.DataFrame({"a": pd.Series([], dtype=float), "b": []}), tmp_path / "e.csv")
    assert path.read_bytes() == b"\xef\xbb\xbfa;b\n"
