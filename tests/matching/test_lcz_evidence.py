"""Water (runoff) and biodiversity needs from Cerema's LCZ table per postal code."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

from qmi_geo.layers.communes import commune_facts
from qmi_geo.matching._context import LCZ_SOURCE, site_context
from qmi_geo.matching._explain import evidence_phrase


def test_runoff_and_vegetation_follow_each_commune_lcz_figures() -> None:
    # two hand-made commune squares carrying real INSEE codes, one site in each, one outside
    communes = gpd.GeoDataFrame(
        {"insee": ["93005", "92071"]},
        geometry=[box(0, 0, 1000, 1000), box(2000, 0, 3000, 1000)],
        crs=2154,
    )
    sites = gpd.GeoDataFrame(
        {"type": ["place"] * 3, "nom": ["A", "B", "hors commune"]},
        geometry=[Point(500, 500), Point(2500, 500), Point(5000, 500)],
        crs=2154,
    )
    ctx = site_context(sites, context={"communes": communes})
    ev = {e.code: e for e in ctx.evidence}
    runoff, veg = ev["lcz_ruissellement"], ev["lcz_vegetation"]
    assert runoff.themes == ("eau",) and veg.themes == ("biodiversite",)
    facts = [commune_facts(c) for c in ("93005", "92071")]
    assert runoff.value[:2] == pytest.approx([f["ror"] / 100 for f in facts])
    assert veg.value[:2] == pytest.approx([f["ver"] / 100 for f in facts])
    # more sealed ground, more runoff need; less vegetation, more biodiversity need
    assert np.sign(runoff.score[0] - runoff.score[1]) == np.sign(facts[0]["ror"] - facts[1]["ror"])
    assert np.sign(veg.score[0] - veg.score[1]) == np.sign(facts[1]["ver"] - facts[0]["ver"])
    # a site in no commune: not measured (no score, no source), never a zero passed as a figure
    assert np.isnan(runoff.value[2]) and runoff.score[2] == 0 and runoff.source[2] == ""
    assert list(runoff.source[:2]) == [LCZ_SOURCE, LCZ_SOURCE]
    text = evidence_phrase(runoff, 0, ctx, "A")
    assert "Cerema, LCZ 2022" in text and f"{round(facts[0]['ror']):.0f} %" in text
    assert "Cerema, LCZ 2022" in evidence_phrase(veg, 1, ctx, "B")
