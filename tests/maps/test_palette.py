"""Colour-blind-safe symbols: classes that share a glyph stay apart under simulated CVD.

Every colour is passed through colorspacious' simulation of deuteranopia, protanopia and
tritanopia (severity 100) and compared in CAM02-UCS. Two classes drawn with the same glyph
(theme glyph, site marker, line style, fill) must keep a colour difference of at least
:data:`MIN_DELTA_E` under each deficiency; the sealed-share ramp and the QPV hatching must
also read in greyscale.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest
from colorspacious import cspace_convert, deltaE

from qmi_geo.style import (
    BREAK_KINDS,
    LAYER_STYLES,
    SEALED_SHARE_CLASSES,
    SITE_KINDS,
    THEMES,
    VALENCES,
)

DEFICIENCIES = ("deuteranomaly", "protanomaly", "tritanomaly")
#: CAM02-UCS difference two same-glyph classes keep under each simulated deficiency
#: (about 2 is a just-noticeable difference; 15 reads as clearly different on a map).
MIN_DELTA_E = 15.0
#: Lightness steps (CAM02-UCS J') that keep a graduated fill or a hatch readable in grey.
MIN_GREY_STEP = 6.0
MIN_HATCH_CONTRAST = 20.0
PAGE = "#f4f3ee"


def _rgb(hex_colour: str) -> np.ndarray:
    h = hex_colour.lstrip("#")
    return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)]) / 255


def _simulate(rgb: np.ndarray, deficiency: str) -> np.ndarray:
    cvd = {"name": "sRGB1+CVD", "cvd_type": deficiency, "severity": 100}
    return np.clip(cspace_convert(rgb, cvd, "sRGB1"), 0, 1)


def _delta(a: np.ndarray, b: np.ndarray) -> float:
    return float(deltaE(a, b, input_space="sRGB1", uniform_space="CAM02-UCS"))


def _lightness(rgb: np.ndarray) -> float:
    return float(cspace_convert(rgb, "sRGB1", "CAM02-UCS")[0])


def _over(rgb: np.ndarray, alpha: float, under: str = "#ffffff") -> np.ndarray:
    return alpha * rgb + (1 - alpha) * _rgb(under)


def _same_glyph_groups() -> dict[str, list[tuple[str, str]]]:
    """Classes drawn with the same glyph, by legend family: (class, colour)."""
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for code, t in THEMES.items():
        groups[f"thème {t.glyph}"].append((code, t.colour))
    for code, k in SITE_KINDS.items():
        groups[f"site {k.marker}"].append((code, k.colour))
    for code, b in BREAK_KINDS.items():
        groups[f"coupure {b.dash or 'continue'}"].append((code, b.colour))
    return groups


def test_simulation_is_real_and_does_merge_red_and_green() -> None:
    """The check could fail: deuteranopia brings a red and a green together."""
    red, green = _rgb("#d7301f"), _rgb("#1a9850")
    normal = _delta(red, green)
    assert normal > 40
    assert _delta(_simulate(red, "deuteranomaly"), _simulate(green, "deuteranomaly")) < 0.6 * normal


def test_every_theme_has_its_own_glyph_so_colour_is_never_alone() -> None:
    glyphs = [t.glyph for t in THEMES.values()]
    assert len(set(glyphs)) == len(glyphs)
    assert len({v.marker for v in VALENCES.values()}) == len(VALENCES)


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_classes_sharing_a_glyph_stay_apart(deficiency: str) -> None:
    groups = _same_glyph_groups()
    assert any(len(g) > 1 for g in groups.values()), "some classes share a glyph"
    for name, members in groups.items():
        for (a, ca), (b, cb) in itertools.combinations(members, 2):
            d = _delta(_simulate(_rgb(ca), deficiency), _simulate(_rgb(cb), deficiency))
            assert d >= MIN_DELTA_E, f"{name}: {a} and {b} differ by {d:.1f} ({deficiency})"


@pytest.mark.parametrize("deficiency", (*DEFICIENCIES, "greyscale"))
def test_sealed_share_ramp_steps_in_lightness(deficiency: str) -> None:
    def shade(hex_colour: str) -> np.ndarray:
        rgb = _over(_rgb(hex_colour), 0.6)
        if deficiency == "greyscale":
            return rgb
        return _simulate(rgb, deficiency)

    js = [_lightness(shade(c.colour)) for c in SEALED_SHARE_CLASSES]
    for lighter, darker in itertools.pairwise(js):
        assert lighter - darker >= MIN_GREY_STEP, js


def test_qpv_hatching_survives_greyscale_on_every_fill_it_crosses() -> None:
    hatch = _lightness(_rgb(LAYER_STYLES["qpv"].colour))
    under = [PAGE] + [c.colour for c in SEALED_SHARE_CLASSES]
    for colour in under:
        background = _lightness(_over(_rgb(colour), 0.6, PAGE))
        assert background - hatch >= MIN_HATCH_CONTRAST, (colour, background, hatch)
    for deficiency in DEFICIENCIES:
        h = _lightness(_simulate(_rgb(LAYER_STYLES["qpv"].colour), deficiency))
        dark = _lightness(_simulate(_over(_rgb(SEALED_SHARE_CLASSES[-1].colour), 0.6), deficiency))
        assert dark - h >= MIN_HATCH_CONTRAST
