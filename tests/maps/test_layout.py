"""Shared style of both maps: theme glyphs, sealed-share classes, credits."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import geopandas as gpd
import matplotlib.font_manager as fm
import numpy as np
import pytest
from matplotlib.ft2font import FT2Font
from matplotlib.image import imread

from qmi_geo.maps import build_print_map, build_web_map
from qmi_geo.maps._layers import sealed_class
from qmi_geo.maps._print_layers import sources_text
from qmi_geo.maps._symbols import marker_svg
from qmi_geo.maps.sources import short_credit, source_items
from qmi_geo.style import SEALED_SHARE_CLASSES, THEMES

from .conftest import FakeSource


def test_every_theme_has_its_own_glyph_that_the_print_font_can_draw() -> None:
    charmap = FT2Font(fm.findfont("DejaVu Sans")).get_charmap()
    glyphs = {code: t.glyph for code, t in THEMES.items()}
    assert glyphs["energie"] != "?"
    named = [g for code, g in glyphs.items() if code != "autre"]
    assert "?" not in named and len(set(named)) == len(named)
    for code, g in glyphs.items():
        assert len(g) == 1 and ord(g) in charmap, code
        assert f">{g}</text>" in marker_svg(code)


def test_sealed_classes_cover_zero_to_one_without_gaps() -> None:
    assert SEALED_SHARE_CLASSES[0].lower == 0.0 and SEALED_SHARE_CLASSES[-1].upper == 1.0
    for a, b in itertools.pairwise(SEALED_SHARE_CLASSES):
        assert a.upper == b.lower
    assert [getattr(sealed_class(v), "label", None) for v in (0.05, 0.39, 0.4, 0.999, 1.0)] == [
        "moins de 20 %",
        "20 à 40 %",
        "40 à 60 %",
        "80 % et plus",
        "80 % et plus",
    ]


@pytest.fixture(scope="module")
def sealed(aulnay_layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    iris = aulnay_layers["iris"][["geometry"]].copy()
    iris["taux_impermeable"] = [(i % 10) / 10 for i in range(len(iris))]
    return iris


def test_web_map_draws_sealed_share_in_the_shared_classes(
    tmp_path: Path, perimeter: gpd.GeoDataFrame, sealed: gpd.GeoDataFrame
) -> None:
    text = build_web_map(
        {"surfaces_minerales": sealed},
        perimeter=perimeter,
        title="t",
        out_path=tmp_path / "m.html",
        drawing=False,
    ).read_text(encoding="utf-8")
    legend = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    for c in SEALED_SHARE_CLASSES:
        assert f"<span>{c.label}</span>" in legend
        assert f'fill=\\"{c.colour}\\"' in legend
    assert "faible" not in legend.split("qmi-legende", 1)[1][:3000]


def test_print_map_legend_shows_each_sealed_class(
    tmp_path: Path, perimeter: gpd.GeoDataFrame, sealed: gpd.GeoDataFrame
) -> None:
    _, png = build_print_map(
        {"surfaces_minerales": sealed},
        perimeter=perimeter,
        title="t",
        out_stem=tmp_path / "p",
    )
    img = imread(png)[..., :3]
    side = img[:, int(img.shape[1] * 0.705) :].reshape(-1, 3)
    for c in SEALED_SHARE_CLASSES:
        rgb = np.array([int(c.colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        swatch = 0.6 * rgb + 0.4  # alpha 0.6 over the white page
        close = np.abs(side - swatch).max(axis=1) < 0.02
        assert close.sum() > 200, f"no legend swatch for {c.label}"


def test_credits_are_deduplicated_and_shortened() -> None:
    srcs = [
        FakeSource("fub", "FUB – Baromètre 2017 ; © les contributeurs d'OpenStreetMap (ODbL)"),
        FakeSource("eau", "IGN – cours d'eau, © les contributeurs d'OpenStreetMap (ODbL)"),
        FakeSource("osm", "© les contributeurs d'OpenStreetMap (ODbL)", licence="ODbL 1.0"),
        FakeSource("demo", "Marche synthetique", real=False),
    ]
    items = source_items(srcs)
    assert [i.text for i in items] == [
        "FUB – Baromètre 2017",
        "IGN – cours d'eau, © les contributeurs d'OpenStreetMap (ODbL)",
        "Marche synthetique",
    ]
    assert short_credit(items) == "Sources : IGN, OSM, FUB, Marche synthetique"
    text = sources_text(srcs)
    assert text.count("OpenStreetMap") == 1 and "(synthétique)" in text
