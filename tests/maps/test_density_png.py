"""The web map's density image is drawn without matplotlib: same colours, a valid PNG."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.image import imread

from qmi_geo.maps.web import _DENSITY_COLOURS, _colour_ramp, _png_rgba


def test_ramp_matches_matplotlib_colormap() -> None:
    values = np.random.default_rng(0).random((30, 50))
    ours = _colour_ramp(values, _DENSITY_COLOURS)
    theirs = LinearSegmentedColormap.from_list("d", list(_DENSITY_COLOURS))(values)
    assert ours.shape == theirs.shape == (30, 50, 4)
    # matplotlib quantises to 256 levels: at most one level apart
    assert np.abs(ours - theirs).max() <= 1.5 / 255


def test_png_reads_back_pixel_for_pixel() -> None:
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, size=(17, 23, 4), dtype=np.uint8)
    back = imread(io.BytesIO(_png_rgba(pixels)), format="png")
    np.testing.assert_array_equal(np.round(back * 255).astype(np.uint8), pixels)
