from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from qmi_geo.matching import parse_solutions


def solution(sid: str, *, kinds: list[str], themes: list[str], **req: object) -> dict:
    return {
        "id": sid,
        "nom": sid.title(),
        "thematique": "Test",
        "description": "Solution de test.",
        "themes": themes,
        "exigences": {"types_sites": kinds, **req},
    }


@pytest.fixture
def paving():
    """A permeable-paving solution that accepts car parks and parks (to compare them)."""
    return parse_solutions(
        {
            "solution": [
                solution(
                    "dalles",
                    kinds=["parking", "parc"],
                    themes=["chaleur", "eau"],
                    surface_min_m2=500,
                    surface_requise="minerale",
                )
            ]
        }
    )


@pytest.fixture
def quarter():
    """A sealed car park in a heat hot spot, a park in a green zone, a tiny car park."""
    x0, y0 = 652000, 6862000
    sites = gpd.GeoDataFrame(
        {
            "type": ["parking", "parc", "parking"],
            "nom": ["Parking du marché", "Parc des Sources", "Parking minuscule"],
        },
        geometry=[
            box(x0, y0, x0 + 60, y0 + 40),  # 2 400 m²
            box(x0 + 2000, y0, x0 + 2100, y0 + 100),  # 1 ha
            box(x0 + 30, y0 + 200, x0 + 40, y0 + 210),  # 100 m²
        ],
        crs=2154,
    )
    mineral = gpd.GeoDataFrame(
        {"taux_impermeable": [0.95, 0.2]},
        geometry=[
            box(x0 - 500, y0 - 500, x0 + 500, y0 + 500),
            box(x0 + 1500, y0 - 500, x0 + 2500, y0 + 500),
        ],
        crs=2154,
    )
    qpv = gpd.GeoDataFrame(
        {"code_qp": ["QN09201M"], "lib_qp": ["Rose des Vents"]},
        geometry=[box(x0 - 100, y0 - 100, x0 + 300, y0 + 300)],
        crs=2154,
    )
    hotspots = gpd.GeoDataFrame(
        {
            "theme": ["chaleur"],
            "n_annotations": [9],
            "theme_dominant": ["chaleur"],
            "part_negative": [1.0],
            "intensite_moyenne": [2.5],
        },
        geometry=[Point(x0 + 170, y0 + 20).buffer(30)],
        crs=2154,
    )
    return {"sites": sites, "surfaces_minerales": mineral, "qpv": qpv, "hotspots": hotspots}
