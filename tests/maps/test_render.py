"""Rendering the web map once: data text is never executed as a jinja2 template."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import jinja2

from qmi_geo.maps import build_web_map

from .conftest import make_annotations

INJECTION = "{{ 7*7 }} {% if true %}oui{% endif %} {# note #}"


def _decoded(text: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def test_jinja_syntax_in_participant_text_and_layers_stays_text(
    tmp_path: Path, aulnay_layers: dict[str, gpd.GeoDataFrame], perimeter: gpd.GeoDataFrame
) -> None:
    ann = make_annotations(perimeter, 20)
    ann.loc[1, "commentaire"] = INJECTION
    sites = aulnay_layers["sites"].copy()
    sites.loc[sites.index[0], "nom"] = INJECTION  # a GeoJSON layer's property
    layers = {**aulnay_layers, "sites": sites}
    path = build_web_map(
        layers, perimeter=perimeter, out_path=tmp_path / "carte.html", annotations=ann, title="Test"
    )
    text = _decoded(path.read_text(encoding="utf-8"))
    assert text.count(INJECTION) >= 2, "participant text and site name must stay verbatim"
    assert "49 oui" not in text


def test_templates_are_not_compiled_again_while_rendering(
    tmp_path: Path, aulnay_layers: dict[str, gpd.GeoDataFrame], perimeter: gpd.GeoDataFrame
) -> None:
    ann = make_annotations(perimeter, 50)
    build_web_map(
        aulnay_layers, perimeter=perimeter, out_path=tmp_path / "a.html", annotations=ann, title="A"
    )
    compiled: list[str] = []
    original = jinja2.Environment.compile

    def counting(self: jinja2.Environment, source: str, *args: object, **kwargs: object) -> object:
        compiled.append(source)
        return original(self, source, *args, **kwargs)  # type: ignore[arg-type]

    jinja2.Environment.compile = counting  # type: ignore[assignment,method-assign]
    try:
        build_web_map(
            aulnay_layers,
            perimeter=perimeter,
            out_path=tmp_path / "b.html",
            annotations=ann,
            title="B",
        )
    finally:
        jinja2.Environment.compile = original  # type: ignore[method-assign]
    # every element class's template was compiled when its module was imported: a second
    # map compiles none (before: one per rendered element, data included)
    assert compiled == []
