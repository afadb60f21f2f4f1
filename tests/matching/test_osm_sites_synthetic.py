"""OSM site kinds, from a synthetic OSM XML extract to the candidate sites of the matching.

The extract is written by the test (``quartier_synthetique.osm``): invented geometries in
Lambert-93 around lon 2.23, lat 48.81, tagged as in OSM. It goes through the real
``qmi osm fetch --from-xml`` path (osmnx ``features_from_xml`` / ``graph_from_xml``), then
through :func:`qmi_geo.matching.candidate_sites`:

* a car park, a square, a park, a cemetery and a town hall become sites of their kind with
  their drawn area;
* a street on ``bridge=yes`` over the railway becomes a ``pont``; a street meeting the railway
  at grade (a level crossing, shared node) becomes a ``croisement``, never a ``pont``;
* the segments of one street (several OSM ways, one name) become one street site.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer

from qmi_geo.cli.main import cli
from qmi_geo.layers.osm import osm_from_xml
from qmi_geo.matching import candidate_sites

CX, CY = 643453, 6856934  # Lambert-93 centre of the extract
_TO_WGS84 = Transformer.from_crs(2154, 4326, always_xy=True)


class _Xml:
    """A tiny OSM XML writer: nodes from Lambert-93 offsets (m), ways with tags."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[float, float], int] = {}
        self.ways: list[str] = []
        self.next_way = 300001

    def node(self, x: float, y: float) -> int:
        if (x, y) not in self.nodes:
            self.nodes[(x, y)] = 400001 + len(self.nodes)
        return self.nodes[(x, y)]

    def way(self, points: list[tuple[float, float]], **tags: str) -> int:
        wid = self.next_way
        self.next_way += 1
        refs = "".join(f'<nd ref="{self.node(x, y)}"/>' for x, y in points)
        tag_xml = "".join(
            f"<tag k={quoteattr(k.replace('__', ':'))} v={quoteattr(v)}/>" for k, v in tags.items()
        )
        self.ways.append(f'  <way id="{wid}" version="1">{refs}{tag_xml}</way>')
        return wid

    def area(self, x0: float, y0: float, x1: float, y1: float, **tags: str) -> int:
        return self.way([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)], **tags)

    def text(self) -> str:
        nodes = []
        for (x, y), nid in self.nodes.items():
            lon, lat = _TO_WGS84.transform(CX + x, CY + y)
            nodes.append(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<osm version="0.6" generator="qmi_geo test (synthetique)">\n'
            + "\n".join(nodes + self.ways)
            + "\n</osm>\n"
        )


def _extract() -> str:
    x = _Xml()
    # the railway, west to east, with the level-crossing node shared with the street
    x.way([(-600, 0), (200, 0), (600, 0)], railway="rail", name="Ligne synthétique")
    # Rue du Viaduc: three ways, the middle one on a bridge over the railway (own nodes)
    x.way([(-200, -300), (-200, -40)], highway="residential", name="Rue du Viaduc")
    x.way([(-200, -40), (-200, 40)], highway="residential", name="Rue du Viaduc",
          bridge="yes", layer="1")  # fmt: skip
    x.way([(-200, 40), (-200, 200), (-200, 300)], highway="residential", name="Rue du Viaduc")
    # Rue de la Barrière meets the railway at grade: a level crossing, no bridge tag
    x.way([(200, -250), (200, 0)], highway="residential", name="Rue de la Barrière")
    x.way([(200, 0), (200, 200), (200, 250)], highway="residential", name="Rue de la Barrière")
    # Avenue des Tilleuls: three ways of one street, split where it meets the two streets
    for a, b in ((-500, -200), (-200, 200), (200, 550)):
        x.way([(a, 200), (b, 200)], highway="tertiary", name="Avenue des Tilleuls")
    # area sites: car park, square, park, cemetery, town hall
    x.area(300, 50, 360, 90, amenity="parking", parking="surface", name="Parking du Marché",
           operator="Ville synthétique")  # fmt: skip
    x.area(-120, -200, -80, -170, place="square", highway="pedestrian", area="yes",
           name="Place de la Mairie")  # fmt: skip
    x.area(-450, -300, -330, -200, leisure="park", name="Parc des Sources")
    x.area(380, -300, 460, -220, landuse="cemetery", name="Cimetière du Nord")
    x.area(-60, -260, -20, -230, amenity="townhall", building="public",
           name="Hôtel de Ville synthétique")  # fmt: skip
    return x.text()


@pytest.fixture(scope="module")
def layers(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("osm_synth") / "quartier_synthetique.osm"
    path.write_text(_extract(), encoding="utf-8")
    return path, osm_from_xml(path, out_path=None, progress=False).layers


@pytest.fixture(scope="module")
def sites(layers):
    _, lay = layers
    return candidate_sites({k: lay[k] for k in ("sites", "rues", "coupures")})


def test_area_kinds_become_sites_with_their_area(sites) -> None:
    by_name = sites.set_index("nom")
    expected = {
        "Parking du Marché": ("parking", 60 * 40),
        "Place de la Mairie": ("place", 40 * 30),
        "Parc des Sources": ("parc", 120 * 100),
        "Cimetière du Nord": ("cimetiere", 80 * 80),
        "Hôtel de Ville synthétique": ("batiment_public", 40 * 30),
    }
    for name, (kind, m2) in expected.items():
        assert by_name.loc[name, "type"] == kind, name
        assert by_name.loc[name, "surface_m2"] == pytest.approx(m2, rel=1e-2), name
    assert by_name.loc["Parking du Marché", "proprietaire"] == "Ville synthétique"


def test_bridge_over_the_railway_is_a_bridge_and_a_level_crossing_is_not(sites) -> None:
    crossings = sites[sites["type"].isin(["pont", "croisement"])]
    assert len(crossings) == 2
    pont = crossings[crossings["type"] == "pont"]
    croisement = crossings[crossings["type"] == "croisement"]
    assert len(pont) == 1 and len(croisement) == 1
    assert "Rue du Viaduc" in pont["nom"].iloc[0]
    assert "Rue de la Barrière" in croisement["nom"].iloc[0]
    assert "sans pont connu" in croisement["nom"].iloc[0]
    # each at its own place on the railway (x = -200 m and x = +200 m)
    assert pont.geometry.iloc[0].distance(shapely.Point(CX - 200, CY)) < 15
    assert croisement.geometry.iloc[0].distance(shapely.Point(CX + 200, CY)) < 15


def test_street_segments_are_merged_into_one_site_per_name(layers, sites) -> None:
    _, lay = layers
    segments = lay["rues"]
    assert (segments["nom"] == "Avenue des Tilleuls").sum() >= 2  # several OSM segments
    streets = sites[sites["type"] == "rue"]
    assert streets["nom"].value_counts().max() == 1
    avenue = streets[streets["nom"] == "Avenue des Tilleuls"]
    assert len(avenue) == 1
    assert avenue["longueur_m"].iloc[0] == pytest.approx(1050, rel=2e-2)
    assert {"Rue du Viaduc", "Rue de la Barrière"} <= set(streets["nom"])


def test_cli_fetch_from_xml_writes_the_site_kinds(layers, tmp_path: Path) -> None:
    path, _ = layers
    out = tmp_path / "quartier_synthetique_osm.gpkg"
    result = CliRunner().invoke(
        cli, ["osm", "fetch", "meudon", "--from-xml", str(path), "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    import geopandas as gpd

    written = gpd.read_file(out, layer="sites")
    assert {"parking", "place", "parc", "cimetiere", "batiment_public"} <= set(written["type"])
