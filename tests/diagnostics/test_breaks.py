"""Urban breaks: density, crossings and pedestrian severance on hand-made networks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString, box

from qmi_geo.diagnostics import compute_indicators
from qmi_geo.diagnostics.breaks import break_density, crossing_points, crossings_count
from qmi_geo.diagnostics.severance import (
    detour_ratios,
    sample_break_pairs,
    severance_ratio,
    street_graph,
)

SQUARE = gpd.GeoDataFrame(geometry=[box(-1000, -1000, 1000, 1000)], crs=2154)


def rail(*lines, sous_type="RER"):
    return gpd.GeoDataFrame(
        {"type": ["rail"] * len(lines), "sous_type": [sous_type] * len(lines)},
        geometry=list(lines),
        crs=2154,
    )


def streets(*lines):
    return gpd.GeoDataFrame(
        {"highway": ["residential"] * len(lines)}, geometry=list(lines), crs=2154
    )


RAIL = rail(LineString([(-1000, 0), (1000, 0)]))


def test_straight_street_crossing_rail_once_is_one_crossing():
    s = streets(LineString([(300, -500), (300, 500)]))
    counts = crossings_count(SQUARE, RAIL, s)
    assert counts.loc[0, "total"] == 1
    assert counts.loc[0, "rail"] == 1


def test_street_crossing_four_parallel_tracks_is_one_crossing():
    tracks = rail(*(LineString([(-1000, y), (1000, y)]) for y in (0, 6, 12, 18)))
    s = streets(LineString([(300, -500), (300, 500)]), LineString([(-600, -500), (-600, 500)]))
    assert crossings_count(SQUARE, tracks, s).loc[0, "total"] == 2


def test_dead_end_street_does_not_cross():
    s = streets(LineString([(300, -500), (300, -5)]))
    assert len(crossing_points(RAIL, s)) == 0


def test_metro_is_not_a_break():
    metro = rail(LineString([(-1000, 0), (1000, 0)]), sous_type="METRO")
    s = streets(LineString([(300, -500), (300, 500)]))
    assert crossings_count(SQUARE, metro, s).loc[0, "total"] == 0
    assert break_density(SQUARE, metro).loc[0, "rail"] == 0


def test_density_km_per_km2_by_kind():
    lines = gpd.GeoDataFrame(
        {"type": ["rail", "eau", "route"]},
        geometry=[
            LineString([(-1000, 0), (1000, 0)]),
            LineString([(0, -1000), (0, 1000)]),
            LineString([(-2000, 500), (2000, 500)]),
        ],
        crs=2154,
    )
    dens = break_density(SQUARE, lines)  # 4 km² square, 2 km of each kind inside
    assert dens.loc[0].to_dict() == pytest.approx({"rail": 0.5, "route": 0.5, "eau": 0.5})


def ladder():
    """Two streets 200 m apart either side of the rail, joined at x = 0 only."""
    return streets(
        LineString([(-1000, 100), (0, 100)]),
        LineString([(0, 100), (1000, 100)]),
        LineString([(-1000, -100), (0, -100)]),
        LineString([(0, -100), (1000, -100)]),
        LineString([(0, -100), (0, 100)]),
    )


def test_detour_ratio_known_by_hand():
    pairs = gpd.GeoDataFrame(
        {
            "a": gpd.GeoSeries.from_xy([1000, 0], [100, 100]).values,
            "b": gpd.GeoSeries.from_xy([1000, 0], [-100, -100]).values,
        },
        geometry=[LineString([(1000, 100), (1000, -100)]), LineString([(0, 100), (0, -100)])],
        crs=2154,
    )
    ratios = detour_ratios(street_graph(ladder()), pairs)
    assert ratios.tolist() == pytest.approx([(1000 + 200 + 1000) / 200, 1.0])


def test_unreachable_or_far_pairs_are_nan():
    g = street_graph(
        streets(LineString([(0, 100), (100, 100)]), LineString([(0, -100), (100, -100)]))
    )
    pairs = gpd.GeoDataFrame(
        {
            "a": gpd.GeoSeries.from_xy([0, 5000], [100, 100]).values,
            "b": gpd.GeoSeries.from_xy([0, 5000], [-100, -100]).values,
        },
        geometry=[LineString([(0, 100), (0, -100)])] * 2,
        crs=2154,
    )
    assert detour_ratios(g, pairs).isna().all()


def test_sampler_is_seeded_and_places_points_either_side():
    a = sample_break_pairs(RAIL, n_pairs=20, offset_m=100, seed=3)
    b = sample_break_pairs(RAIL, n_pairs=20, offset_m=100, seed=3)
    c = sample_break_pairs(RAIL, n_pairs=20, offset_m=100, seed=4)
    assert a.geometry.equals(b.geometry)
    assert not a.geometry.equals(c.geometry)
    ys = np.array([[p.y, q.y] for p, q in zip(a["a"], a["b"], strict=True)])
    assert np.allclose(np.sort(ys, axis=1), [[-100, 100]] * len(a))


def test_severance_median_grows_without_crossings():
    near = severance_ratio(SQUARE, RAIL, ladder(), n_pairs=40, seed=1)
    # with a crossing every 250 m the detour is much smaller
    grid = ladder()
    extra = streets(*(LineString([(x, -100), (x, 100)]) for x in range(-1000, 1001, 250)))
    split = streets(
        *(LineString([(x, y), (x + 250, y)]) for x in range(-1000, 1000, 250) for y in (-100, 100))
    )
    dense = severance_ratio(
        SQUARE,
        RAIL,
        gpd.GeoDataFrame(geometry=list(extra.geometry) + list(split.geometry), crs=2154),
        n_pairs=40,
        seed=1,
    )
    assert near.loc[0, "n_paires"] > 10
    assert near.loc[0, "ratio_detour"] > dense.loc[0, "ratio_detour"] >= 1.0
    assert len(grid) == 5


def test_without_streets_the_table_says_why():
    table = compute_indicators({"coupures": RAIL}, perimeter=SQUARE).set_index("code")
    for code in ("franchissements", "ratio_detour"):
        assert table.loc[code, "statut"] == "non disponible"
        assert "OpenStreetMap" in table.loc[code, "note"]
    # kinds without any data are explicit, not zero
    assert table.loc["densite_coupures_eau", "statut"] == "non disponible"
    assert table.loc["densite_coupures", "statut"] == "estimé"


def test_drive_network_is_flagged_as_upper_bound():
    table = compute_indicators(
        {"coupures": RAIL, "rues": ladder()}, perimeter=SQUARE, n_pairs=20
    ).set_index("code")
    assert table.loc["franchissements", "valeur"] == 1
    assert "majorante" in table.loc["ratio_detour", "note"]


def _cut(layer: gpd.GeoDataFrame, zone) -> gpd.GeoDataFrame:
    """The layer cut to one zone, as a per-quarter layers stage gives it."""
    part = layer.geometry.intersection(zone)
    return layer[~part.is_empty].set_geometry(part[~part.is_empty])


def test_break_density_does_not_depend_on_how_far_the_layer_reaches():
    """Corridors are de-duplicated among the lines cut to the zone: the region's layer,
    the layer cut to the zone and the zones computed all at once give the same figures.
    The long track's far part (outside the west zone) no longer decides which of the two
    parallel tracks is kept in it."""
    west = box(-1000, -1000, 0, 1000)
    east = box(0, -1000, 3000, 1000)
    zones = gpd.GeoDataFrame(geometry=[west, east], index=["w", "e"], crs=2154)
    lines = rail(
        LineString([(-1000, 0), (3000, 0)]),  # long, mostly in the east zone
        LineString([(-900, 10), (-100, 10)]),  # parallel, 10 m away, in the west zone
        LineString([(-900, 500), (-100, 520)]),
    )
    lines = gpd.GeoDataFrame(
        {"type": ["rail", "rail", "eau"], "sous_type": ["RER", "RER", "fleuve"]},
        geometry=lines.geometry,
        crs=2154,
    )
    together = break_density(zones, lines)
    for label, zone in (("w", west), ("e", east)):
        one = zones.loc[[label]]
        alone = break_density(one, lines).loc[label]
        cut = break_density(one, _cut(lines, zone)).loc[label]
        assert np.allclose(alone.to_numpy(), together.loc[label].to_numpy(), rtol=1e-9)
        assert np.allclose(cut.to_numpy(), together.loc[label].to_numpy(), rtol=1e-9)
    # west zone (2 km²): 1 km of shared corridor, of either track
    assert together.loc["w", "rail"] == pytest.approx(1.0 / 2.0, rel=1e-6)
    assert together.loc["e", "rail"] == pytest.approx(3.0 / 6.0, rel=1e-6)


def test_break_kind_known_zone_by_zone():
    """A kind without any line in a zone is « non disponible » there (and the total a lower
    bound), while a zone that has it gets its figure: as each quarter's own table says."""
    west = box(-1000, -1000, 0, 1000)
    east = box(0, -1000, 1000, 1000)
    zones = gpd.GeoDataFrame(geometry=[west, east], index=["w", "e"], crs=2154)
    lines = gpd.GeoDataFrame(
        {"type": ["rail", "eau"], "sous_type": ["RER", "cours d'eau"]},
        geometry=[LineString([(-1000, 0), (1000, 0)]), LineString([(500, -1000), (500, 1000)])],
        crs=2154,
    )
    from qmi_geo.diagnostics import indicator_table

    table = indicator_table({"coupures": lines}, zones).set_index(["zone", "code"])
    assert table.loc[("e", "densite_coupures_eau"), "statut"] == "ok"
    assert table.loc[("w", "densite_coupures_eau"), "statut"] == "non disponible"
    assert table.loc[("w", "densite_coupures"), "statut"] == "estimé"
    assert "cours d'eau" in table.loc[("w", "densite_coupures"), "note"].lower()
    # no road breaks anywhere: both totals are lower bounds, only the west lacks water
    assert "cours d'eau" not in table.loc[("e", "densite_coupures"), "note"].lower()
    for label, zone in (("w", west), ("e", east)):
        own = compute_indicators(
            {"coupures": _cut(lines, zone)}, perimeter=zones.loc[[label]]
        ).set_index("code")
        for code in ("densite_coupures", "densite_coupures_eau", "densite_coupures_rail"):
            assert own.loc[code, "statut"] == table.loc[(label, code), "statut"]
            assert own.loc[code, "valeur"] == pytest.approx(
                table.loc[(label, code), "valeur"], rel=1e-9, nan_ok=True
            )


def test_break_pairs_do_not_depend_on_the_rows_order():
    lines = rail(
        LineString([(-1000, 0), (1000, 0)]),
        LineString([(-1000, 400), (1000, 450)]),
        LineString([(0, -1000), (10, 1000)]),
    )
    a = sample_break_pairs(lines, n_pairs=15, seed=2)
    b = sample_break_pairs(lines.iloc[[2, 0, 1]], n_pairs=15, seed=2)
    assert len(a) == 15
    assert a.geometry.geom_equals_exact(b.geometry, tolerance=1e-9).all()


def test_corridors_of_all_zones_match_the_per_line_reference():
    """All zones at once (each part minus its longer neighbours' halos, one halo at a
    time) give what :func:`dedup_parallel` gives on the lines cut to each zone (the halos
    united first): a bundle of five tracks, where short parts have up to four longer
    neighbours, a curve and a crossing line, over three zones."""
    from qmi_geo.diagnostics.breaks import _zone_corridors, dedup_parallel

    bundle = [LineString([(-1000 + 37 * k, 7 * k), (2900 - 211 * k, 7 * k)]) for k in range(5)]
    curve = LineString([(-800, 40), (-300, 25), (0, 60), (600, 0), (900, -30)])
    cross = LineString([(100, -900), (120, 900)])
    lines = rail(*bundle, curve, cross)
    zones = gpd.GeoDataFrame(
        geometry=[box(-1000, -1000, 0, 1000), box(0, -1000, 1500, 1000), box(1500, -50, 3000, 50)],
        crs=2154,
    )
    together = _zone_corridors(zones, lines, 15.0)
    for pos, zone in enumerate(zones.geometry):
        expected = float(dedup_parallel(_cut(lines, zone), corridor_m=30.0).length.sum())
        assert together[pos] == pytest.approx(expected, rel=1e-9)
    assert together[0] < 1000.0 * 1.2  # the bundle counts about once, not five times
