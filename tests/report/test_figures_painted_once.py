"""The livrable's maps are painted once, and are the same as when painted at every layer."""

from __future__ import annotations

from typing import Any

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from qmi_geo.pipeline import load_layers
from qmi_geo.report import _figures
from qmi_geo.spec import load_spec


class _PaintEveryTime(FigureCanvasAgg):
    """The plain Agg canvas, counting the paints geopandas asks for."""

    paints = 0

    def draw(self, *args: Any, **kwargs: Any) -> None:
        type(self).paints += 1
        super().draw(*args, **kwargs)

    def settle(self) -> None:
        """Nothing to settle: every redraw request was painted."""


@pytest.fixture(scope="module")
def meudon() -> Any:
    return load_layers(load_spec("92048"))


@pytest.mark.parametrize("key", ["situation", "coupures"])  # with and without label placement
def test_a_map_painted_once_is_the_same_png(
    key: str, meudon: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ls = meudon
    once = _figures.quarter_map(key, ls.layers, ls.perimeter)
    monkeypatch.setattr(_figures, "_Canvas", _PaintEveryTime)
    every = _figures.quarter_map(key, ls.layers, ls.perimeter)
    assert _PaintEveryTime.paints >= 4  # geopandas asked for a redraw after each layer
    assert once == every
