"""Fixtures for the map tests: real bundled layers of Aulnay-sous-Bois and synthetic walk
annotations built in code (there is no real walk file; names carry ``synthetique``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from qmi_geo.style import THEMES

REPO = Path(__file__).resolve().parents[2]
LAYERS = REPO / "layers"
XSS = '<img src=x onerror="window.__xss=1">'


@dataclass(frozen=True)
class FakeSource:
    """Stands for qmi_geo.layers.Source: the map only reads these attributes."""

    name: str
    attribution: str
    title: str = ""
    licence: str = ""
    real: bool = True


def _read(rel: str, layer: str | None = None) -> gpd.GeoDataFrame:
    return gpd.read_file(LAYERS / rel, layer=layer)


@pytest.fixture(scope="session")
def aulnay_layers() -> dict[str, gpd.GeoDataFrame]:
    """Real layers around Aulnay-sous-Bois, renamed to the canonical fields."""
    com = _read("admin_express_2018_gregoiredavid/communes_qmi.gpkg", "communes_contexte_1km")
    com = com.rename(columns={"code": "insee"})
    per = com[com["insee"] == "93005"]
    area = per.union_all().buffer(1000)
    com = com[com.intersects(area)]
    qpv = _read("anct_qpv2024_contours/qpv2024_qmi_1km.gpkg")
    qpv = qpv[qpv.intersects(area)]
    gares = _read("idfm_reseau_ferre/idfm_gares_qmi_1km.gpkg")
    gares = gares[gares.intersects(area)].rename(columns={"nom_long": "nom", "res_com": "ligne"})
    gares["reseau"] = "existant"
    tr = _read("idfm_reseau_ferre/idfm_traces_ferre_qmi_1km.gpkg")
    tr = tr[tr.intersects(area)]
    coupures = gpd.GeoDataFrame(
        {"type": "rail", "nom": tr["res_com"].to_numpy(), "sous_type": tr["mode"].to_numpy()},
        geometry=tr.geometry.to_numpy(),
        crs=tr.crs,
    )
    fub = _read("fub_barometre_2017_rues_citees/fub2017_rues_citees_qmi.gpkg", "rues_citees")
    fub = fub[fub["insee_com"] == "93005"].rename(columns={"rue": "nom"})
    iris = _read("iris_idf_contours/iris_qmi_1km.gpkg")
    iris = iris[iris["insee_com"] == "93005"].rename(
        columns={"filo2021_median_eur": "revenu_median"}
    )
    nuis = _read("ipr_cumul_nuisances_500m/ipr_nuisances_500m_qmi_1km.gpkg", "mailles_500m")
    nuis = nuis[nuis.intersects(area)].rename(columns={"point_noir_env": "point_noir"})
    b = per.total_bounds
    sites = gpd.GeoDataFrame(
        {
            "type": ["parking", "ecole", "place"],
            "nom": ["Parking <b>gare</b>", "Collège", "Place"],
            "surface_m2": [2500.0, 8000.0, 1200.0],
        },
        geometry=[
            Point(b[0] + 1500, b[1] + 2000),
            Point(b[0] + 2500, b[1] + 3000),
            Point(b[0] + 3000, b[1] + 2500),
        ],
        crs=2154,
    )
    return {
        "communes": com,
        "quartier": per,
        "qpv": qpv,
        "gares": gares,
        "coupures": coupures,
        "rues_citees": fub,
        "iris": iris,
        "nuisances": nuis,
        "sites": sites,
    }


@pytest.fixture(scope="session")
def perimeter(aulnay_layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    return aulnay_layers["quartier"]


def make_annotations(perimeter: gpd.GeoDataFrame, n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """Synthetic annotations (walks schema) spread over the quarter; the first is the XSS."""
    rng = np.random.default_rng(seed)
    b = perimeter.total_bounds
    xs = rng.uniform(b[0], b[2], n)
    ys = rng.uniform(b[1], b[3], n)
    themes = rng.choice(list(THEMES), n)
    comments = [f"commentaire synthétique n° {i} : trottoir étroit" for i in range(n)]
    comments[0] = XSS
    return gpd.GeoDataFrame(
        {
            "id": [f"a{i}" for i in range(n)],
            "marche": "synthetique-1",
            "theme": themes,
            "valence": rng.choice(["negatif", "neutre", "positif"], n),
            "intensite": pd.array(rng.integers(0, 4, n), dtype="Int64"),
            "commentaire": comments,
            "photo": ["photos/p1.jpg"] + [""] * (n - 1),
            "horodatage": pd.Timestamp("2024-05-02 10:30"),
            "auteur": "P-0000",
        },
        geometry=[Point(x, y) for x, y in zip(xs, ys, strict=True)],
        crs=2154,
    )


@pytest.fixture(scope="session")
def annotations(perimeter: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    ann = make_annotations(perimeter, 300)
    c = perimeter.geometry.iloc[0].centroid
    line = gpd.GeoDataFrame(
        {
            "theme": ["coupure"],
            "valence": ["negatif"],
            "intensite": [3],
            "commentaire": ["<script>window.__xss=2</script> ligne"],
        },
        geometry=[LineString([(c.x, c.y), (c.x + 300, c.y + 200)])],
        crs=2154,
    )
    return gpd.GeoDataFrame(pd.concat([ann, line], ignore_index=True), crs=2154)


@pytest.fixture(scope="session")
def hotspots(perimeter: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    c = perimeter.geometry.iloc[0].centroid
    return gpd.GeoDataFrame(
        {
            "theme": ["chaleur"],
            "n_annotations": [17],
            "theme_dominant": ["chaleur"],
            "part_negative": [0.8],
            "intensite_moyenne": [2.1],
        },
        geometry=[c.buffer(200)],
        crs=2154,
    )


@pytest.fixture(scope="session")
def sources() -> list[FakeSource]:
    return [
        FakeSource("communes", "IGN – ADMIN EXPRESS COG 2018 ; INSEE COG 2018"),
        FakeSource("qpv", "ANCT – Quartiers prioritaires de la politique de la ville 2024"),
        FakeSource(
            "gares", "Île-de-France Mobilités – Tracés du réseau ferré / Emplacement des gares"
        ),
        FakeSource(
            "rues_citees",
            "FUB – Baromètre des villes cyclables 2017 ; © les contributeurs d'OpenStreetMap",
        ),
        FakeSource("iris", "IGN/INSEE – Contours IRIS ; INSEE Filosofi 2021"),
        FakeSource(
            "nuisances", "L'Institut Paris Region – Cumul de nuisances (Bruitparif, Airparif)"
        ),
        FakeSource("annotations", "Marche sensible synthetique (démonstration)", real=False),
    ]


@pytest.fixture(scope="session")
def indicators() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": ["part_qpv", "taux_mineral"],
            "libelle": ["Part du quartier en QPV", "Surfaces minéralisées"],
            "valeur": [23.456, 61.0],
            "unite": ["%", "%"],
            "statut": ["ok", "estime"],
            "note": ["", "MOS 2021"],
        }
    )
