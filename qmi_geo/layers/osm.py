"""OpenStreetMap layers of a diagnostic: download with osmnx, or read an OSM XML extract.

Two entry points build the same layers:

* :func:`fetch_osm` queries the Overpass API with osmnx (``features_from_polygon`` for the
  tagged features, ``graph_from_polygon`` for the walking network);
* :func:`osm_from_xml` reads a local OSM XML extract (``features_from_xml``,
  ``graph_from_xml``), for machines with no network and for the tests.

Both go through :func:`osm_features_to_layers`, which maps OSM tags to our layer kinds
(rules in :mod:`qmi_geo.layers._osm_tags`) and returns, in Lambert-93:

``coupures``
    railways, motorways/trunks/primary roads, rivers and canals (canonical fields of the
    ``coupures`` kind: ``type`` rail/route/eau, ``nom``, ``sous_type``);
``sites``
    deployment sites (``type`` from :data:`qmi_geo.style.SITE_KINDS`, ``nom``, ``surface_m2``,
    ``proprietaire``, ``acces``);
``rues``
    the walking network, one line per street segment (``nom``, ``highway``, ``longueur_m``);
``batiments``
    building footprints (``type``, ``hauteur_m``, ``niveaux``, ``surface_m2``);
``espaces_verts``
    parks, woods, lawns (``type``, ``surface_m2``).

Every layer keeps the OSM identity of its features (``osm_type``, ``osm_id``). Geometries are
whole OSM features intersecting the area (not cut at its edge); the pipeline clips them.
The layers are written to one GeoPackage (:func:`write_osm_layers`, default
``layers/osm/<slug>_osm.gpkg``) with a ``metadonnees`` table stating the source, the ODbL
licence, the attribution every map must show and the date of extraction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely.geometry.base import BaseGeometry
from tqdm.auto import tqdm

from qmi_geo._atomic import atomic_path
from qmi_geo.errors import CRSError, LayerError, LayerFileNotFoundError
from qmi_geo.layers import _osm_download as D
from qmi_geo.layers import _osm_tags as T
from qmi_geo.layers._osm_streets import streets_from_graph, walk_graph_from_xml
from qmi_geo.layers._schemas import KINDS
from qmi_geo.layers.catalogue import bundled_layers_dir
from qmi_geo.settings import settings

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "ATTRIBUTION",
    "LABELS",
    "LICENCE",
    "OSM_KINDS",
    "OsmLayers",
    "OsmMetadata",
    "default_osm_path",
    "fetch_osm",
    "osm_features_to_layers",
    "osm_from_xml",
    "read_osm_layers",
    "write_osm_layers",
]

CRS = T.CRS
ATTRIBUTION = "© les contributeurs d'OpenStreetMap"
LICENCE = "ODbL 1.0"
LICENCE_URL = "https://opendatacommons.org/licenses/odbl/1-0/"
METADATA_LAYER = "metadonnees"

OSM_KINDS: tuple[str, ...] = tuple(T.LAYER_COLUMNS)
"""The layers built from OpenStreetMap, in the order they are written."""

# French labels shown in the GeoPackage and the CLI: the layer kinds' own labels, plus the two
# kinds only OSM provides (not in the schemas yet).
LABELS: dict[str, str] = {
    **{kind: KINDS[kind].label for kind in ("coupures", "sites", "rues")},
    "batiments": "Bâtiments (emprises)",
    "espaces_verts": "Espaces verts et boisés",
}


@dataclass
class OsmMetadata:
    """Where an OSM extract comes from and how it may be used."""

    origine: str
    date_extraction: str
    emprise_2154: tuple[float, float, float, float] | None = None
    source: str = "OpenStreetMap"
    attribution: str = ATTRIBUTION
    licence: str = LICENCE
    licence_url: str = LICENCE_URL
    osmnx_version: str = ""
    synthetique: bool = False
    nombres: dict[str, int] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The metadata as a two-column table (``cle``, ``valeur``) for the GeoPackage."""
        bbox = "" if self.emprise_2154 is None else " ".join(f"{v:.1f}" for v in self.emprise_2154)
        rows = {
            "source": self.source,
            "attribution": self.attribution,
            "licence": self.licence,
            "licence_url": self.licence_url,
            "origine": self.origine,
            "date_extraction": self.date_extraction,
            "emprise_2154": bbox,
            "osmnx_version": self.osmnx_version,
            "synthetique": "oui" if self.synthetique else "non",
            **{f"nombre_{k}": str(v) for k, v in self.nombres.items()},
        }
        return pd.DataFrame({"cle": list(rows), "valeur": list(rows.values())})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> OsmMetadata:
        """Read the metadata table written by :meth:`to_frame`."""
        rows = dict(
            zip(frame["cle"].astype(str), frame["valeur"].fillna("").astype(str), strict=True)
        )
        values = [float(v) for v in rows.get("emprise_2154", "").split()]
        bbox = (values[0], values[1], values[2], values[3]) if len(values) == 4 else None
        return cls(
            origine=rows.get("origine", ""),
            date_extraction=rows.get("date_extraction", ""),
            emprise_2154=bbox,
            source=rows.get("source", "OpenStreetMap"),
            attribution=rows.get("attribution", ATTRIBUTION),
            licence=rows.get("licence", LICENCE),
            licence_url=rows.get("licence_url", LICENCE_URL),
            osmnx_version=rows.get("osmnx_version", ""),
            synthetique=rows.get("synthetique") == "oui",
            nombres={
                k.removeprefix("nombre_"): int(v)
                for k, v in rows.items()
                if k.startswith("nombre_")
            },
        )


@dataclass
class OsmLayers:
    """The OSM layers of one area, their metadata and the GeoPackage they were written to."""

    layers: dict[str, gpd.GeoDataFrame]
    metadata: OsmMetadata
    path: Path | None = None

    def counts(self) -> dict[str, int]:
        """Number of features per layer."""
        return {kind: len(gdf) for kind, gdf in self.layers.items()}

    def summary(self) -> str:
        """A French summary: features per layer, then the attribution."""
        lines = [f"  {kind:<14} {n:>7} entité(s)" for kind, n in self.counts().items()]
        lines.append(f"Source : {self.metadata.attribution}, licence {self.metadata.licence}.")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Entry points


def fetch_osm(
    polygon_2154: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    out_path: str | Path | None,
    network: bool = True,
    cache_dir: str | Path | None = None,
    overpass_url: str | None = None,
    timeout_s: float = 180.0,
    progress: bool | None = None,
) -> OsmLayers:
    """Download the OSM layers of an area from the Overpass API and cache them.

    Parameters
    ----------
    polygon_2154
        The area (quarter plus buffer) in Lambert-93.
    out_path
        GeoPackage to write (see :func:`default_osm_path`); ``None`` writes nothing.
    network
        Also download the walking network (layer ``rues``).
    cache_dir
        Folder of osmnx's HTTP cache (default ``<user cache>/qmi_geo/osmnx``).
    overpass_url
        Overpass API endpoint (default: osmnx's, ``https://overpass-api.de/api``).
    timeout_s
        Timeout of each Overpass request, in seconds.
    progress
        Show a progress bar (default: the ``progress`` setting).

    Returns
    -------
    OsmLayers

    Raises
    ------
    OsmUnavailableError
        The Overpass server cannot be reached or refuses the query; the message names the
        ``--from-xml`` alternative.
    MissingDependencyError
        osmnx is not installed (the ``osm`` extra).
    """
    ox = D.import_osmnx()
    area = _as_polygon_2154(polygon_2154)
    area_wgs84 = gpd.GeoSeries([area], crs=CRS).to_crs("EPSG:4326").iloc[0]
    url = overpass_url or str(ox.settings.overpass_url)
    with _progress(4 if network else 3, progress) as steps:
        with D.osmnx_settings(ox, cache_dir=cache_dir, overpass_url=url, timeout_s=timeout_s):
            D.check_reachable(url, timeout_s=min(timeout_s, 10.0))
            steps.set_description("OSM : téléchargement des entités")
            features = D.download(
                lambda: ox.features_from_polygon(area_wgs84, T.query_tags()), ox, url
            )
            steps.update()
            graph = None
            if network:
                steps.set_description("OSM : téléchargement du réseau piéton")
                graph = D.download(
                    lambda: ox.graph_from_polygon(area_wgs84, network_type="walk"), ox, url
                )
                steps.update()
        return _finish(
            features,
            graph,
            steps,
            out_path=out_path,
            area=area,
            origine=f"API Overpass ({url})",
            synthetique=False,
            osmnx_version=ox.__version__,
        )


def osm_from_xml(
    xml_path: str | Path,
    *,
    polygon_2154: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    out_path: str | Path | None,
    network: bool = True,
    progress: bool | None = None,
) -> OsmLayers:
    """Build the OSM layers from a local OSM XML extract (``.osm``, ``.osm.bz2``, ``.osm.gz``).

    Parameters
    ----------
    xml_path
        The OSM XML file (e.g. an export of openstreetmap.org or of Overpass turbo).
    polygon_2154
        Keep only features intersecting this area (Lambert-93); ``None`` keeps everything.
    out_path
        GeoPackage to write; ``None`` writes nothing.
    network
        Also build the walking network (layer ``rues``).
    progress
        Show a progress bar (default: the ``progress`` setting).

    Returns
    -------
    OsmLayers

    Raises
    ------
    LayerFileNotFoundError
        The file does not exist.
    LayerError
        The file is not well-formed OSM XML (the message gives the line).
    """
    ox = D.import_osmnx()
    path = Path(xml_path)
    if not path.is_file():
        raise LayerFileNotFoundError(
            f"Fichier OSM introuvable : {path}. Indiquez le chemin d'un extrait OSM XML "
            "(.osm), par exemple exporté depuis openstreetmap.org ou Overpass turbo."
        )
    area = None if polygon_2154 is None else _as_polygon_2154(polygon_2154)
    area_wgs84 = (
        None if area is None else gpd.GeoSeries([area], crs=CRS).to_crs("EPSG:4326").iloc[0]
    )
    with _progress(4 if network else 3, progress) as steps:
        steps.set_description("OSM : lecture des entités")
        with D.xml_errors(path):
            try:
                features = ox.features_from_xml(path, polygon=area_wgs84)
            except ox._errors.InsufficientResponseError:
                features = None
            steps.update()
            graph = None
            if network:
                steps.set_description("OSM : construction du réseau piéton")
                graph = walk_graph_from_xml(ox, path)
                steps.update()
        return _finish(
            features,
            graph,
            steps,
            out_path=out_path,
            area=area,
            origine=f"fichier {path.name}",
            synthetique="synthetique" in path.name.lower(),
            osmnx_version=ox.__version__,
        )


def osm_features_to_layers(
    features: gpd.GeoDataFrame | None,
    graph: nx.MultiDiGraph | None = None,
    *,
    area_2154: BaseGeometry | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Map OSM features (and a street graph) to the diagnostic's layer kinds.

    Parameters
    ----------
    features
        OSM features as osmnx returns them: indexed by ``(element, id)``, one column per tag,
        any CRS (osmnx's is EPSG:4326). ``None`` means no feature.
    graph
        An osmnx street graph (unprojected, as downloaded), for the ``rues`` layer.
    area_2154
        If given, keep only street segments intersecting this area (Lambert-93).

    Returns
    -------
    dict of str to geopandas.GeoDataFrame
        One GeoDataFrame per kind of :data:`OSM_KINDS`, in EPSG:2154, possibly empty.
    """
    layers = T.features_to_layers(features)
    layers["rues"] = streets_from_graph(graph, area_2154)
    return {kind: T.conform(kind, layers[kind]) for kind in OSM_KINDS}


def default_osm_path(slug: str, *, layers_dir: str | Path | None = None) -> Path:
    """Where the OSM cache of a commune lives: ``<layers>/osm/<slug>_osm.gpkg``.

    ``layers_dir`` defaults to the workspace's ``layers/`` folder, where
    :func:`qmi_geo.pipeline.load_layers` looks for the cache.

    Examples
    --------
    >>> default_osm_path("meudon", layers_dir="/tmp/ws/layers").as_posix()
    '/tmp/ws/layers/osm/meudon_osm.gpkg'
    """
    root = Path(layers_dir) if layers_dir is not None else bundled_layers_dir()
    return root / "osm" / f"{slug}_osm.gpkg"


def write_osm_layers(layers: OsmLayers, path: str | Path) -> Path:
    """Write OSM layers and their metadata to a GeoPackage, replacing it atomically.

    Every kind of :data:`OSM_KINDS` becomes a layer (empty ones included, so readers find
    a stable set), plus the ``metadonnees`` table.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        for kind, gdf in layers.layers.items():
            pyogrio.write_dataframe(
                gdf,
                tmp,
                layer=kind,
                driver="GPKG",
                geometry_type=None if len(gdf) else "Unknown",
                layer_options={
                    "DESCRIPTION": f"{LABELS.get(kind, kind)} — "
                    f"{layers.metadata.attribution}, "
                    f"{layers.metadata.licence}"
                },
            )
        pyogrio.write_dataframe(
            layers.metadata.to_frame(), tmp, layer=METADATA_LAYER, driver="GPKG"
        )
    layers.path = path
    return path


def read_osm_layers(path: str | Path) -> OsmLayers:
    """Read a GeoPackage written by :func:`write_osm_layers` (the OSM cache of a commune).

    Raises
    ------
    LayerFileNotFoundError
        No such file.
    LayerError
        The file is not an OSM cache written by qmi_geo.
    """
    path = Path(path)
    if not path.is_file():
        raise LayerFileNotFoundError(
            f"Cache OpenStreetMap introuvable : {path}. Créez-le avec « qmi osm fetch <commune> » "
            "(ou « --from-xml FICHIER.osm » sans réseau)."
        )
    names = [str(name) for name, _ in pyogrio.list_layers(path)]
    if METADATA_LAYER not in names:
        raise LayerError(
            f"{path} n'est pas un cache OpenStreetMap de qmi_geo (table « {METADATA_LAYER} » "
            "absente). Recréez-le avec « qmi osm fetch <commune> »."
        )
    metadata = OsmMetadata.from_frame(pyogrio.read_dataframe(path, layer=METADATA_LAYER))
    layers = {}
    for kind in OSM_KINDS:
        if kind in names:
            gdf = pyogrio.read_dataframe(path, layer=kind)
            layers[kind] = T.conform(kind, gdf if gdf.crs is not None else gdf.set_crs(CRS))
    return OsmLayers(layers=layers, metadata=metadata, path=path)


# ---------------------------------------------------------------------------------------------
# Tag mapping
# ---------------------------------------------------------------------------------------------
# Helpers


# ---------------------------------------------------------------------------------------------
# Helpers


def _finish(
    features: gpd.GeoDataFrame | None,
    graph: nx.MultiDiGraph | None,
    steps: Any,
    *,
    out_path: str | Path | None,
    area: BaseGeometry | None,
    origine: str,
    synthetique: bool,
    osmnx_version: str,
) -> OsmLayers:
    steps.set_description("OSM : classement des entités")
    layers = osm_features_to_layers(features, graph, area_2154=area)
    steps.update()
    metadata = OsmMetadata(
        origine=origine,
        date_extraction=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        emprise_2154=_extent(area, layers),
        osmnx_version=osmnx_version,
        synthetique=synthetique,
        nombres={kind: len(gdf) for kind, gdf in layers.items()},
    )
    result = OsmLayers(layers=layers, metadata=metadata)
    if out_path is not None:
        steps.set_description("OSM : écriture du GeoPackage")
        write_osm_layers(result, out_path)
    steps.update()
    return result


def _extent(
    area: BaseGeometry | None, layers: dict[str, gpd.GeoDataFrame]
) -> tuple[float, float, float, float] | None:
    """Bounds of the requested area, else of all features; ``None`` when there is none."""
    if area is not None:
        minx, miny, maxx, maxy = area.bounds
    else:
        frames = [gdf.geometry for gdf in layers.values() if len(gdf)]
        if not frames:
            return None
        minx, miny, maxx, maxy = pd.concat(frames).total_bounds
    return float(minx), float(miny), float(maxx), float(maxy)


def _as_polygon_2154(area: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame) -> BaseGeometry:
    """One (multi)polygon in Lambert-93 from a geometry or a GeoSeries/GeoDataFrame."""
    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is not None and area.crs != CRS:
            raise CRSError(
                f"La zone OSM est en {area.crs.to_string()} alors que {CRS} (Lambert-93) est "
                'attendu. Reprojetez-la d\'abord : zone.to_crs("EPSG:2154").'
            )
        geom = area.geometry.union_all() if len(area) else None
    else:
        geom = area
    if geom is None or geom.is_empty or geom.geom_type not in T.POLYGON:
        raise LayerError(
            "La zone OSM doit être un polygone non vide (le quartier et son tampon), reçu "
            f"{'rien' if geom is None else geom.geom_type}."
        )
    minx, miny, maxx, maxy = geom.bounds
    if not (0 < minx <= maxx < 1_300_000 and 6_000_000 < miny <= maxy < 7_200_000):
        raise CRSError(
            f"Les coordonnées de la zone OSM ({minx:.4f}, {miny:.4f}) ne sont pas en "
            "Lambert-93 (EPSG:2154) ; des degrés de longitude/latitude ? Reprojetez la zone en "
            "EPSG:2154."
        )
    return geom


def _progress(total: int, progress: bool | None) -> Any:
    show = settings.progress if progress is None else progress
    return tqdm(total=total, unit="étape", disable=None if show else True, leave=False)
