"""Fixtures for the walk tests: real commune boundaries and real places (WGS84)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

REPO = Path(__file__).resolve().parents[2]
LAYERS = REPO / "layers"
COMMUNES = LAYERS / "admin_express_2018_gregoiredavid" / "communes_qmi.gpkg"
COLLEGES = LAYERS / "menj_colleges_geoloc" / "colleges_qmi_1km.gpkg"
GARES = LAYERS / "idfm_reseau_ferre" / "idfm_gares_qmi_1km.gpkg"
FUB = LAYERS / "fub_barometre_2017_rues_citees" / "fub2017_rues_citees_qmi.gpkg"
QPV = LAYERS / "anct_qpv2024_contours" / "qpv2024_qmi_1km.gpkg"


@pytest.fixture(scope="session")
def aulnay() -> gpd.GeoDataFrame:
    """Aulnay-sous-Bois (93005) as the quarter's perimeter, EPSG:2154."""
    communes = gpd.read_file(COMMUNES, layer="communes_qmi")
    return communes[communes["code"] == "93005"].reset_index(drop=True)


@pytest.fixture(scope="session")
def places() -> dict[str, tuple[float, float]]:
    """Real places of Aulnay-sous-Bois and Meudon as (lat, lon), read from bundled layers."""
    colleges = gpd.read_file(COLLEGES).to_crs(4326)
    gares = gpd.read_file(GARES).to_crs(4326)
    out: dict[str, tuple[float, float]] = {}
    for _, row in colleges[colleges["code_commune"].isin(["93005", "92048"])].iterrows():
        out[row["appellation_officielle"]] = (round(row.geometry.y, 6), round(row.geometry.x, 6))
    for name in ("Aulnay-sous-Bois", "Meudon", "Bellevue", "Meudon-Val-Fleury"):
        g = gares[gares["nom_long"] == name].geometry.iloc[0]
        out[f"Gare {name}"] = (round(g.y, 6), round(g.x, 6))
    return out
