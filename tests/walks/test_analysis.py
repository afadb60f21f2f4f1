"""Counts, hot spots, density surface and context, on real FUB perceptions and real layers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import Point

from qmi_geo.errors import CRSError
from qmi_geo.walks.analysis import (
    density_surface,
    hotspot_labels,
    hotspots,
    link_context,
    theme_counts,
)
from qmi_geo.walks.fub import annotations_from_rues_citees

from .conftest import FUB, QPV


@pytest.fixture(scope="module")
def fub_aulnay() -> gpd.GeoDataFrame:
    lines = gpd.read_file(FUB, layer="rues_citees", where="insee_com = '93005'")
    return annotations_from_rues_citees(lines)


def cluster(x0: float, y0: float, n: int, theme: str, valence: str = "negatif") -> list[dict]:
    rng = np.random.default_rng(len(theme) + n)
    return [
        {
            "theme": theme,
            "valence": valence,
            "intensite": 2,
            "poids": 1.0,
            "signalements": "",
            "geometry": Point(x0 + rng.uniform(-40, 40), y0 + rng.uniform(-40, 40)),
        }
        for _ in range(n)
    ]


def test_fub_annotations_are_real_and_weighted(fub_aulnay):
    assert len(fub_aulnay) == 14
    assert set(fub_aulnay["theme"]) == {"velo"} and set(fub_aulnay["valence"]) == {"negatif"}
    top = fub_aulnay.sort_values("poids", ascending=False).iloc[0]
    assert top["poids"] == 4 and "Rue Anatole France" in top["commentaire"]
    assert (fub_aulnay["auteur"] == "").all()
    counts = theme_counts(fub_aulnay)
    assert counts.loc["velo", "n_annotations"] == 14
    assert counts.loc["velo", "poids_total"] == 21
    assert counts.loc["velo", "libelle"] == "Sécurité et confort à vélo"


def test_hotspots_find_the_two_clusters_and_ignore_noise():
    rows = cluster(663000, 6870300, 6, "chaleur") + cluster(664500, 6871500, 5, "bruit")
    rows += [
        {
            "theme": "bruit",
            "valence": "positif",
            "intensite": 1,
            "poids": 1.0,
            "signalements": "",
            "geometry": Point(661000, 6869000),
        }
    ]
    ann = gpd.GeoDataFrame(rows, crs=2154)
    labels = hotspot_labels(ann, radius_m=120, min_size=4)
    assert labels.index.equals(ann.index)
    assert pd.isna(labels.iloc[-1]) and labels.iloc[:-1].notna().all()
    spots = hotspots(ann, radius_m=120, min_size=4)
    assert spots[["theme", "n_annotations"]].values.tolist() == [["chaleur", 6], ["bruit", 5]]
    assert spots["part_negative"].tolist() == [1.0, 1.0]
    assert spots.geometry.iloc[0].contains(Point(663000, 6870300))
    together = hotspots(ann, radius_m=120, min_size=4, by_theme=False)
    assert set(together["theme"]) == {"tous"} and len(together) == 2


def test_duplicates_do_not_make_hot_spots():
    rows = cluster(663000, 6870300, 3, "chaleur")
    dup = dict(rows[0], signalements="doublon")
    ann = gpd.GeoDataFrame([*rows, dup, dup], crs=2154)
    assert hotspots(ann, radius_m=120, min_size=4).empty


def test_density_surface_geotiff(tmp_path, fub_aulnay):
    rows = cluster(663000, 6870300, 8, "chaleur")
    ann = pd.concat([gpd.GeoDataFrame(rows, crs=2154), fub_aulnay], ignore_index=True)
    path = density_surface(ann, tmp_path / "densite.tif", cell_m=25, bandwidth_m=100)
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 2154
        assert src.res == (25.0, 25.0)
        band = src.read(1)
        peak_row, peak_col = np.unravel_index(np.argmax(band), band.shape)
        x, y = src.xy(peak_row, peak_col)
    assert Point(x, y).distance(Point(663000, 6870300)) < 100
    assert band.min() >= 0


def test_link_context_real_streets_and_qpv(fub_aulnay, aulnay):
    qpv = gpd.read_file(QPV)
    rougemont = qpv[qpv["code_qp"] == "QN09349M"]
    inside = rougemont.geometry.iloc[0].representative_point()
    ann = gpd.GeoDataFrame(
        {"theme": ["chaleur", "bruit"]},
        geometry=[inside, Point(aulnay.geometry.iloc[0].representative_point().coords[0])],
        crs=2154,
    )
    streets = fub_aulnay.rename(columns={"commentaire": "x"}).assign(
        nom=fub_aulnay["commentaire"].str.split(" : ").str[0]
    )
    ctx = link_context(ann, rues=streets, qpv=qpv)
    assert ctx.index.equals(ann.index)
    assert ctx["dans_qpv"].tolist()[0] is True
    assert ctx["qpv"].iloc[0] == "QN09349M"
    assert ctx["rue_proche"].iloc[0] in set(streets["nom"])
    assert (ctx["distance_rue_m"] >= 0).all()
    assert ctx["site_proche"].tolist() == ["", ""]


def test_nearest_feature_is_the_one_geopandas_sjoin_nearest_keeps(fub_aulnay, aulnay):
    # the real FUB streets of Aulnay plus lines 10 m apart: points halfway between two lines,
    # on their vertices and outside them, an empty and a missing point, a nameless line
    from shapely.geometry import LineString

    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = aulnay.total_bounds
    grid = [LineString([(x0 + 10 * i, y0), (x0 + 10 * i, y0 + 100)]) for i in range(20)]
    streets = gpd.GeoDataFrame(
        {
            "nom": [
                *fub_aulnay["commentaire"].str.split(" : ").str[0],
                *(f"g{i}" for i in range(19)),
                None,
            ]
        },
        geometry=[*fub_aulnay.geometry, *grid],
        crs=2154,
    )
    points = [
        *(Point(x0 + 5 + 10 * i, y0 + 50) for i in range(19)),  # equidistant from two lines
        *(Point(x, y) for x, y in rng.uniform((x0, y0), (x1, y1), size=(300, 2))),
        Point(),
        None,
    ]
    ann = gpd.GeoDataFrame(geometry=points, crs=2154, index=pd.RangeIndex(5, 5 + len(points)))
    ctx = link_context(ann, rues=streets)
    target = gpd.GeoDataFrame(
        {"_nom": streets["nom"].astype(object).where(streets["nom"].notna(), "").astype(str)},
        geometry=streets.geometry,
        crs=2154,
    )
    joined = gpd.sjoin_nearest(ann, target, how="left", distance_col="_dist")
    joined = joined[~joined.index.duplicated(keep="first")]
    pd.testing.assert_series_equal(
        ctx["rue_proche"], joined["_nom"].fillna("").astype(str), check_names=False
    )
    pd.testing.assert_series_equal(
        ctx["distance_rue_m"], joined["_dist"].astype(float).round(1), check_names=False
    )
    assert (ctx["distance_rue_m"].iloc[:19] == 5.0).all()  # the ties are really ties
    assert ctx["rue_proche"].iloc[-2:].tolist() == ["", ""]


def test_wrong_crs_is_refused():
    ann = gpd.GeoDataFrame({"theme": ["bruit"]}, geometry=[Point(2.49, 48.93)], crs=4326)
    with pytest.raises(CRSError, match="EPSG:2154"):
        hotspot_labels(ann)
