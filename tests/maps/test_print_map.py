"""The A3 print map renders for each pilot commune from the real bundled layers."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.image import imread

from qmi_geo.maps import build_print_map
from qmi_geo.pipeline import load_layers
from qmi_geo.spec import load_spec

from .conftest import FakeSource, make_annotations


@pytest.mark.slow
@pytest.mark.parametrize("commune", ["aulnay-sous-bois", "meudon", "noisy-le-grand", "sceaux"])
def test_print_map_renders_a3_landscape_for_each_pilot(
    commune: str, repo: Path, tmp_path: Path
) -> None:
    layerset = load_layers(load_spec(repo / "diagnostics" / f"{commune}.toml"))
    ann = make_annotations(layerset.perimeter, 60, seed=1)
    pdf, png = build_print_map(
        layerset.layers,
        perimeter=layerset.perimeter,
        title=f"{commune} — quartier d'innovation",
        out_stem=tmp_path / "carte_impression",
        annotations=ann,
        sources=[*layerset.sources, FakeSource("a", "Marche synthetique", real=False)],
    )
    assert pdf.read_bytes().startswith(b"%PDF")
    img = imread(png)
    h, w = img.shape[:2]
    assert (w, h) == (pytest.approx(4962, abs=2), pytest.approx(3507, abs=2))  # A3 at 300 dpi
    assert img[..., :3].std() > 0.05  # something was drawn
