"""OpenStreetMap layers: tag mapping, walking network, GeoPackage cache, CLI.

The processing code is exercised on a small synthetic OSM XML extract around Meudon
(``data/meudon_extrait_synthetique.osm``, hand-designed rectangles in Lambert-93 converted to
WGS84 with 7 decimals, tags written as in OSM). osmnx really parses it. No test touches the
network; the download path is checked against a closed port on the loopback interface.
"""

from __future__ import annotations

import bz2
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, Point, Polygon, box

from qmi_geo.cli.main import cli
from qmi_geo.errors import CRSError, LayerError, LayerFileNotFoundError, OsmUnavailableError
from qmi_geo.layers import _osm_tags as T
from qmi_geo.layers._osm_streets import parse_overpass_filter, ways_matching_filter
from qmi_geo.layers.osm import (
    ATTRIBUTION,
    OSM_KINDS,
    OsmLayers,
    fetch_osm,
    osm_features_to_layers,
    osm_from_xml,
    read_osm_layers,
)
from qmi_geo.style import SITE_KINDS

DATA = Path(__file__).parent / "data"
XML = DATA / "meudon_extrait_synthetique.osm"
# Lambert-93 centre of the fixture (lon 2.23, lat 48.81, rounded to the metre).
CX, CY = 643453, 6856934


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> OsmLayers:
    out = tmp_path_factory.mktemp("osm") / "meudon_synthetique_osm.gpkg"
    return osm_from_xml(XML, out_path=out, progress=False)


def _types(gdf: gpd.GeoDataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in gdf["type"].value_counts().items()}


def test_every_layer_is_lambert93_with_osm_identity(extract: OsmLayers) -> None:
    assert tuple(extract.layers) == OSM_KINDS
    for kind, gdf in extract.layers.items():
        assert gdf.crs.to_epsg() == 2154, kind
        assert len(gdf) > 0, kind
        assert gdf["osm_id"].notna().all(), kind
        assert set(gdf["osm_type"]) <= {"node", "way", "relation"}, kind
        assert gdf.is_valid.all(), kind
    # lon 2.23, lat 48.81 is around x 643 km, y 6 857 km in Lambert-93
    minx, miny, maxx, maxy = extract.layers["coupures"].total_bounds
    assert CX - 401 < minx < maxx < CX + 401 and CY - 401 < miny < maxy < CY + 401


def test_breaks_keep_rail_roads_water_and_drop_tunnels_trams_streams(
    extract: OsmLayers,
) -> None:
    coupures = extract.layers["coupures"]
    assert _types(coupures) == {"rail": 3, "route": 4, "eau": 2}
    names = set(coupures["nom"])
    # subway in a tunnel, tram, culverted stream: not breaks
    assert not names & {"Ligne 15 Sud", "Tramway T2", "Ru d'Arthelon"}
    # N 118: the open-air way only, not the tunnel; primary_link slip lane left out
    assert (coupures["nom"] == "Route Nationale 118").sum() == 1
    assert "primary_link" not in set(coupures["sous_type"])
    assert set(coupures.loc[coupures["type"] == "route", "sous_type"]) == {"primary", "trunk"}
    seine = coupures[coupures["nom"] == "La Seine"]
    assert set(seine.geom_type) == {"LineString", "Polygon"}
    # ref kept, and used as a name when there is none
    assert set(coupures.loc[coupures["nom"] == "Route des Gardes", "ref"]) == {"D 181"}


def test_sites_types_and_areas(extract: OsmLayers) -> None:
    sites = extract.layers["sites"]
    assert set(sites["type"]) <= set(SITE_KINDS)
    assert _types(sites) == {
        "gare": 1, "parking": 2, "place": 2, "parc": 2, "ecole": 1, "batiment_public": 1,
        "cimetiere": 1, "friche": 1, "equipement_sportif": 1, "pont": 2,
    }  # fmt: skip
    by_name = sites.set_index("nom")
    expected_m2 = {
        "Parking de la Gare": 60 * 40,
        "Parc de la Pierre": 120 * 100,
        "École élémentaire Jules Ferry": 70 * 50,
        "Hôtel de Ville de Meudon": 40 * 30,
        "Parvis de la Gare": 40 * 30,
        "Cimetière des Longs Réages": 80 * 80,
    }
    for name, m2 in expected_m2.items():
        assert by_name.loc[name, "surface_m2"] == pytest.approx(m2, rel=5e-3), name
    # points have no area; owner from operator; access kept
    assert np.isnan(by_name.loc["Meudon", "surface_m2"])
    assert by_name.loc["Meudon", "type"] == "gare"
    assert by_name.loc["Parking de la Gare", "proprietaire"] == "Ville de Meudon"
    assert by_name.loc["Parking souterrain de l'Hôtel de Ville", "type"] == "parking"
    private_garden = sites[(sites["type"] == "parc") & sites["nom"].isna()]
    assert list(private_garden["acces"]) == ["private"]
    # amenity=townhall wins over building=public, but both say batiment_public here;
    # the school's own building (building=school) is not a second site
    assert (sites["etiquette_osm"] == "amenity=school").sum() == 1
    assert "building=school" not in set(sites["etiquette_osm"])


def test_bridges_are_sites_only_when_they_cross_a_break(extract: OsmLayers) -> None:
    sites = extract.layers["sites"]
    ponts = sites[sites["type"] == "pont"]
    # the footbridge and the road bridge over the railway; not the footbridge over the
    # (non-break) stream
    assert set(ponts["nom"]) == {"Passerelle de la Gare", "Route des Gardes"}
    assert set(ponts.geom_type) == {"LineString"}
    rail = extract.layers["coupures"].query("type == 'rail'").union_all()
    assert ponts.crosses(rail).all()


def test_buildings_and_green_spaces(extract: OsmLayers) -> None:
    bat = extract.layers["batiments"]
    assert _types(bat) == {"school": 1, "public": 1, "apartments": 1, "house": 1, "yes": 1}
    flats = bat[bat["type"] == "apartments"].iloc[0]
    assert flats["hauteur_m"] == 16.0 and flats["niveaux"] == 5.0  # height "16 m"
    assert flats["surface_m2"] == pytest.approx(400, rel=5e-3)
    verts = extract.layers["espaces_verts"]
    assert _types(verts) == {"parc": 1, "pelouse": 1, "bois": 1, "jardin": 1}
    wood = verts[verts["type"] == "bois"].iloc[0]
    # multipolygon relation: 100 m x 100 m outer minus a 20 m x 20 m clearing
    assert wood["osm_type"] == "relation"
    assert wood["surface_m2"] == pytest.approx(100 * 100 - 20 * 20, rel=5e-3)
    assert "water" not in set(verts["etiquette_osm"].str.split("=").str[1])  # pond left out


def test_walking_network_from_xml(extract: OsmLayers) -> None:
    rues = extract.layers["rues"]
    assert set(rues.geom_type) == {"LineString"}
    ids = {int(i) for row in rues["osm_ids"] for i in row.split(";")}
    # directions merged: no segment twice (once per direction)
    assert not rues.geometry.normalize().to_wkb().duplicated().any()
    way_names = {  # OSM way ids of the fixture, by role
        "cycleway": 200040, "private_footway": 200041, "railway": 200001,
        "pedestrian_area": 200024, "stream_footbridge": 200015,
    }  # fmt: skip
    assert not ids & set(way_names.values())
    # 700 m of primary road, 58 m of slip lane, 550 + 350 m of streets, 280 m of footways
    assert rues["longueur_m"].sum() == pytest.approx(700 + 58.3 + 550 + 350 + 280, rel=1e-2)
    passerelle = rues[rues["nom"].fillna("").str.contains("Passerelle de la Gare")]
    assert len(passerelle) == 1 and bool(passerelle["pont"].iloc[0])
    assert passerelle["highway"].iloc[0] == "footway"
    assert set(rues["highway"]) == {"primary", "primary_link", "residential", "footway"}


def test_geopackage_layers_and_metadata(extract: OsmLayers) -> None:
    path = extract.path
    assert path is not None and path.exists()
    listed = {str(name): geom for name, geom in pyogrio.list_layers(path)}
    assert set(listed) == {*OSM_KINDS, "metadonnees"}
    assert listed["metadonnees"] is None  # attribute table
    sites = pyogrio.read_dataframe(path, layer="sites")
    assert sites.crs.to_epsg() == 2154 and len(sites) == len(extract.layers["sites"])
    assert sites["surface_m2"].sum() == pytest.approx(extract.layers["sites"]["surface_m2"].sum())
    meta = pyogrio.read_dataframe(path, layer="metadonnees").set_index("cle")["valeur"]
    assert meta["attribution"] == ATTRIBUTION == "© les contributeurs d'OpenStreetMap"
    assert meta["licence"] == "ODbL 1.0"
    assert meta["synthetique"] == "oui"
    assert meta["origine"] == "fichier meudon_extrait_synthetique.osm"
    assert pd.Timestamp(meta["date_extraction"]).tzinfo is not None
    assert len(meta["emprise_2154"].split()) == 4
    again = read_osm_layers(path)
    assert again.counts() == extract.counts()
    assert again.metadata.nombres == extract.counts()
    assert again.metadata.synthetique
    assert again.layers["rues"]["pont"].dtype == bool


def test_area_filter_keeps_intersecting_features_and_writes_empty_layers(
    tmp_path: Path,
) -> None:
    cemetery_corner = box(CX + 290, CY - 390, CX + 395, CY - 290)
    out = tmp_path / "coin_synthetique_osm.gpkg"
    result = osm_from_xml(XML, polygon_2154=cemetery_corner, out_path=out, progress=False)
    assert _types(result.layers["sites"]) == {"cimetiere": 1}
    assert len(result.layers["coupures"]) == 0 and len(result.layers["rues"]) == 0
    assert result.metadata.emprise_2154 == pytest.approx(cemetery_corner.bounds)
    listed = {str(name) for name, _ in pyogrio.list_layers(out)}
    assert set(OSM_KINDS) <= listed
    back = read_osm_layers(out)
    assert len(back.layers["coupures"]) == 0
    assert list(back.layers["coupures"].columns) == list(result.layers["coupures"].columns)


def test_compressed_extract_gives_the_same_layers(tmp_path: Path, extract: OsmLayers) -> None:
    packed = tmp_path / "meudon_extrait_synthetique.osm.bz2"
    packed.write_bytes(bz2.compress(XML.read_bytes()))
    result = osm_from_xml(packed, out_path=None, progress=False)
    assert result.counts() == extract.counts()
    assert result.path is None


def test_bad_inputs_give_french_errors(tmp_path: Path) -> None:
    with pytest.raises(LayerFileNotFoundError, match="Fichier OSM introuvable"):
        osm_from_xml(tmp_path / "absent.osm", out_path=None)
    truncated = tmp_path / "tronque_synthetique.osm"
    truncated.write_text(XML.read_text(encoding="utf-8")[:5000], encoding="utf-8")
    with pytest.raises(LayerError, match=r"XML mal formé à la ligne \d+"):
        osm_from_xml(truncated, out_path=None)
    degrees = box(2.22, 48.80, 2.24, 48.82)
    with pytest.raises(CRSError, match="pas en Lambert-93"):
        osm_from_xml(XML, polygon_2154=degrees, out_path=None)
    wgs84 = gpd.GeoDataFrame(geometry=[degrees], crs="EPSG:4326")
    with pytest.raises(CRSError, match="EPSG:4326"):
        osm_from_xml(XML, polygon_2154=wgs84, out_path=None)
    with pytest.raises(LayerError, match="polygone non vide"):
        osm_from_xml(XML, polygon_2154=Point(CX, CY), out_path=None)
    with pytest.raises(LayerError, match="pas un cache OpenStreetMap"):
        gpd.GeoDataFrame({"a": [1]}, geometry=[Point(CX, CY)], crs=2154).to_file(
            tmp_path / "autre.gpkg", layer="x"
        )
        read_osm_layers(tmp_path / "autre.gpkg")


def test_unreachable_overpass_server_names_the_offline_route(tmp_path: Path) -> None:
    before = ox.settings.overpass_url, ox.settings.cache_folder
    area = box(CX - 100, CY - 100, CX + 100, CY + 100)
    with pytest.raises(OsmUnavailableError, match="--from-xml") as err:
        # port 9 (discard) on the loopback interface: closed, refused at once
        fetch_osm(area, out_path=tmp_path / "x.gpkg", overpass_url="http://127.0.0.1:9/api",
                  cache_dir=tmp_path / "cache", progress=False)  # fmt: skip
    assert isinstance(err.value, ConnectionError) and isinstance(err.value, LayerError)
    assert not (tmp_path / "x.gpkg").exists()
    assert (ox.settings.overpass_url, ox.settings.cache_folder) == before


def test_features_built_in_code_map_like_osmnx_output() -> None:
    lon, lat = 2.23, 48.81
    frame = gpd.GeoDataFrame(
        {
            "railway": ["rail", "rail", None, "light_rail"],
            "tunnel": [None, "yes", None, None],
            "amenity": [None, None, "parking", None],
            "name": ["A", "B", "P", None],
        },
        geometry=[
            LineString([(lon, lat), (lon + 0.01, lat)]),
            LineString([(lon, lat + 0.001), (lon + 0.01, lat + 0.001)]),
            Point(lon, lat - 0.001),
            LineString([(lon, lat + 0.002), (lon + 0.01, lat + 0.002)]),
        ],
        crs="EPSG:4326",
        index=pd.MultiIndex.from_tuples(
            [("way", 1), ("way", 2), ("node", 3), ("way", 4)], names=["element", "id"]
        ),
    )
    layers = osm_features_to_layers(frame)
    coupures = layers["coupures"]
    assert list(coupures["osm_id"]) == [1, 4] and list(coupures["sous_type"]) == [
        "rail", "light_rail"
    ]  # fmt: skip
    assert coupures.crs.to_epsg() == 2154
    assert coupures.length.iloc[0] == pytest.approx(733, rel=0.01)  # 0.01° of lon at 48.81°N
    assert list(layers["sites"]["type"]) == ["parking"]
    assert len(layers["rues"]) == 0 and "longueur_m" in layers["rues"].columns
    empty = osm_features_to_layers(None)
    assert all(len(gdf) == 0 and gdf.crs.to_epsg() == 2154 for gdf in empty.values())


def test_query_tags_cover_every_rule() -> None:
    tags = T.query_tags()
    for rule in (*T.BREAK_RULES, *T.SITE_RULES, *T.GREEN_RULES):
        wanted = tags[rule.key]
        assert wanted is True or set(rule.values or ()) <= set(wanted), rule.label  # type: ignore[arg-type]
    assert tags["bridge"] is True and tags["building"] is True


def test_offline_walk_filter_is_osmnx_walk_filter() -> None:
    terms = parse_overpass_filter(ox._overpass._get_network_filter("walk"))
    assert ways_matching_filter(terms, {"highway": "footway"})
    assert ways_matching_filter(terms, {"highway": "primary", "name": "Route des Gardes"})
    assert not ways_matching_filter(terms, {"highway": "cycleway"})
    assert not ways_matching_filter(terms, {"highway": "motorway"})
    assert not ways_matching_filter(terms, {"highway": "footway", "access": "private"})
    assert not ways_matching_filter(terms, {"highway": "primary", "sidewalk": "separate"})
    assert not ways_matching_filter(terms, {"highway": "pedestrian", "area": "yes"})
    assert not ways_matching_filter(terms, {"railway": "rail"})
    with pytest.raises(RuntimeError):
        parse_overpass_filter('["highway"](around:10)')


def test_rule_classification_is_first_match() -> None:
    feats = pd.DataFrame(
        {"amenity": ["school", None, None], "building": ["public", "public", "yes"]}
    )
    kinds = pd.Series(["Polygon", "Polygon", "Polygon"])
    codes, labels = T.classify(feats, kinds, T.SITE_RULES)
    assert codes.tolist()[:2] == ["ecole", "batiment_public"] and pd.isna(codes.iloc[2])
    assert labels.tolist()[:2] == ["amenity=school", "building=public"]
    # a highway=pedestrian line is a street, not a square: geometry condition
    feats = pd.DataFrame({"highway": ["pedestrian", "pedestrian"]})
    codes, _ = T.classify(feats, pd.Series(["LineString", "Polygon"]), T.SITE_RULES)
    assert pd.isna(codes.iloc[0]) and codes.iloc[1] == "place"


def test_polygon_input_as_geodataframe_in_lambert93(tmp_path: Path) -> None:
    park = Polygon(
        [(CX - 300, CY + 100), (CX - 180, CY + 100), (CX - 180, CY + 200), (CX - 300, CY + 200)]
    )
    zone = gpd.GeoDataFrame(geometry=[park.buffer(5)], crs="EPSG:2154")
    result = osm_from_xml(XML, polygon_2154=zone, out_path=None, network=False, progress=False)
    assert "Parc de la Pierre" in set(result.layers["sites"]["nom"])
    assert len(result.layers["rues"]) == 0  # network=False


def test_cli_fetch_from_xml(tmp_path: Path) -> None:
    out = tmp_path / "meudon_synthetique_osm.gpkg"
    result = CliRunner().invoke(
        cli, ["osm", "fetch", "meudon", "--from-xml", str(XML), "--sortie", str(out),
              "--tampon", "200"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Meudon (92048)" in result.output and "tampon de 200 m" in result.output
    line = next(x for x in result.output.splitlines() if "Coupures urbaines" in x)
    assert "9 entité(s)" in line and "rail 3" in line
    assert "© les contributeurs d'OpenStreetMap" in result.output
    assert "synthétique" in result.output
    assert read_osm_layers(out).counts()["sites"] == 14


def test_cli_fetch_missing_xml_is_one_french_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["osm", "fetch", "meudon", "--from-xml", str(tmp_path / "absent.osm"),
              "--sortie", str(tmp_path / "x.gpkg")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "Erreur : Fichier OSM introuvable" in result.output
    assert "Traceback" not in result.output


def test_cache_passes_the_pipeline_validation(extract: OsmLayers) -> None:
    from qmi_geo._validate import SourceRef, ValidationReport
    from qmi_geo.layers import normalise_layer, read_vector

    assert extract.path is not None
    report = ValidationReport()
    for kind in ("coupures", "sites", "rues"):
        raw = read_vector(extract.path, kind, report=report)
        out = normalise_layer(raw, kind, SourceRef(extract.path.name, kind), report)
        assert len(out) == len(extract.layers[kind]), kind
    assert {issue.level for issue in report.issues} <= {"info"}
