"""How OpenStreetMap tags map to the layer kinds of a diagnostic.

The rules are data (tuples of :class:`TagRule`), read in order: the first rule an OSM feature
matches gives its type. The same tables build the Overpass query of
:func:`qmi_geo.layers.osm.fetch_osm` (:func:`query_tags`) and classify the features of an OSM
XML extract, so both paths give the same layers.

Tag meanings follow the OSM wiki (https://wiki.openstreetmap.org/wiki/Map_features) and the
French tagging habits (``amenity=kindergarten`` for *écoles maternelles*, ``building=public``
for town-owned buildings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = [
    "BATIMENT_KEY",
    "BREAK_RULES",
    "BRIDGE_KEY",
    "CRS",
    "GREEN_RULES",
    "LAYER_COLUMNS",
    "LINE",
    "POINT",
    "POLYGON",
    "SITE_RULES",
    "TagRule",
    "classify",
    "conform",
    "features_to_layers",
    "highway_rank",
    "is_tunnel",
    "prepare_features",
    "query_tags",
    "tag",
]

POLYGON = frozenset({"Polygon", "MultiPolygon"})
LINE = frozenset({"LineString", "MultiLineString"})
POINT = frozenset({"Point", "MultiPoint"})

BRIDGE_KEY = "bridge"
"""Highway ways carrying this tag (any value but ``no``) are candidate bridges (``pont``)."""

BATIMENT_KEY = "building"
"""Polygons carrying this tag (any value but ``no``) are building footprints."""


@dataclass(frozen=True)
class TagRule:
    """One OSM tag pattern and the type it gives.

    Parameters
    ----------
    code
        Type given to a matching feature (e.g. ``"rail"``, ``"parking"``, ``"bois"``).
    key
        OSM key that must be present (e.g. ``"railway"``).
    values
        Accepted values of ``key``; ``None`` accepts any value except ``no``.
    geoms
        Geometry types accepted; ``None`` accepts any.
    also
        Further ``(key, values)`` conditions that must all hold.
    """

    code: str
    key: str
    values: tuple[str, ...] | None = None
    geoms: frozenset[str] | None = None
    also: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def label(self) -> str:
        """The tag as users read it, e.g. ``railway=rail``."""
        value = "|".join(self.values) if self.values else "*"
        extra = "".join(f" + {k}={'|'.join(v)}" for k, v in self.also)
        return f"{self.key}={value}{extra}"


# Urban breaks (coupures). Tunnels and culverts are dropped separately (see is_tunnel): a
# railway in a tunnel does not cut the quarter. primary_link slip lanes are left out, motorway
# and trunk links are kept (interchanges are part of the barrier). Trams run in the street and
# are not breaks.
BREAK_RULES: tuple[TagRule, ...] = (
    TagRule("rail", "railway", ("rail", "light_rail", "subway"), LINE),
    TagRule(
        "route", "highway", ("motorway", "motorway_link", "trunk", "trunk_link", "primary"), LINE
    ),
    TagRule("eau", "waterway", ("river", "canal"), LINE),
    TagRule("eau", "waterway", ("riverbank",), POLYGON),
    TagRule("eau", "natural", ("water",), POLYGON, (("water", ("river", "canal", "oxbow")),)),
)

# Deployment sites, in priority order (a school with building=public stays a school).
# Bridges (pont) are found geometrically in the osm module: a highway on a bridge crossing a
# break, or a man_made=bridge outline.
SITE_RULES: tuple[TagRule, ...] = (
    TagRule("gare", "railway", ("station", "halt")),
    TagRule("ecole", "amenity", ("school", "college", "kindergarten")),
    TagRule(
        "batiment_public",
        "amenity",
        (
            "townhall",
            "library",
            "community_centre",
            "social_centre",
            "arts_centre",
            "post_office",
            "police",
            "fire_station",
            "courthouse",
            "public_building",
        ),
    ),
    TagRule("batiment_public", "office", ("government",)),
    TagRule("batiment_public", "building", ("public", "civic", "townhall", "government")),
    TagRule(
        "equipement_sportif",
        "leisure",
        ("sports_centre", "pitch", "stadium", "sports_hall", "swimming_pool", "track"),
    ),
    TagRule("parc", "leisure", ("park", "garden")),
    TagRule("cimetiere", "landuse", ("cemetery",)),
    TagRule("cimetiere", "amenity", ("grave_yard",)),
    TagRule("friche", "landuse", ("brownfield",)),
    TagRule("parking", "amenity", ("parking",)),
    TagRule("place", "place", ("square",)),
    TagRule("place", "highway", ("pedestrian",), POLYGON),
    TagRule("pont", "man_made", ("bridge",), POLYGON),
)

# Green spaces (espaces verts), polygons only: the green-share indicator sums their areas
# (after dissolving, since a lawn often lies inside a park).
GREEN_RULES: tuple[TagRule, ...] = (
    TagRule("parc", "leisure", ("park",), POLYGON),
    TagRule("jardin", "leisure", ("garden",), POLYGON),
    TagRule("jardins_familiaux", "landuse", ("allotments",), POLYGON),
    TagRule("bois", "natural", ("wood",), POLYGON),
    TagRule("bois", "landuse", ("forest",), POLYGON),
    TagRule("pelouse", "landuse", ("grass", "village_green"), POLYGON),
    TagRule("prairie", "landuse", ("meadow",), POLYGON),
    TagRule("prairie", "natural", ("grassland",), POLYGON),
    TagRule("broussailles", "natural", ("scrub", "heath"), POLYGON),
    TagRule("espace_loisirs", "landuse", ("recreation_ground",), POLYGON),
)

# Road hierarchy, most important first: a simplified street-graph edge made of several OSM
# ways takes the highway value of its most important way.
_HIGHWAY_ORDER = (
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "pedestrian",
    "service",
    "track",
    "busway",
    "footway",
    "path",
    "cycleway",
    "bridleway",
    "steps",
    "corridor",
    "elevator",
)


def highway_rank(value: str) -> int:
    """Rank of a highway value in the road hierarchy (0 = most important).

    Examples
    --------
    >>> highway_rank("primary") < highway_rank("footway")
    True
    >>> highway_rank("unknown_value") == len(_HIGHWAY_ORDER)
    True
    """
    try:
        return _HIGHWAY_ORDER.index(value)
    except ValueError:
        return len(_HIGHWAY_ORDER)


def tag(features: pd.DataFrame, key: str) -> pd.Series:
    """The values of one OSM key as a string Series (missing key: all missing).

    Parameters
    ----------
    features
        OSM features, one column per tag key (as osmnx returns them).
    key
        OSM key.

    Returns
    -------
    pandas.Series
        Values as strings (``NaN`` where the tag is absent), aligned to ``features.index``.
    """
    if key not in features.columns:
        return pd.Series(np.nan, index=features.index, dtype=object)
    col = features[key]
    return col.where(col.notna(), np.nan).astype(object)


def _present(values: pd.Series) -> pd.Series:
    """Where a tag is set to anything but ``no``."""
    return values.notna() & (values != "no")


def is_tunnel(features: pd.DataFrame) -> pd.Series:
    """Where a feature is underground (``tunnel=*`` other than ``no``, culverts included).

    Examples
    --------
    >>> import pandas as pd
    >>> is_tunnel(pd.DataFrame({"tunnel": ["yes", None, "no", "culvert"]})).tolist()
    [True, False, False, True]
    """
    return _present(tag(features, "tunnel"))


def _rule_mask(features: pd.DataFrame, geom_types: pd.Series, rule: TagRule) -> pd.Series:
    values = tag(features, rule.key)
    mask = _present(values) if rule.values is None else values.isin(rule.values)
    if rule.geoms is not None:
        mask &= geom_types.isin(rule.geoms)
    for key, accepted in rule.also:
        mask &= tag(features, key).isin(accepted)
    return mask.fillna(False).astype(bool)


def classify(
    features: pd.DataFrame, geom_types: pd.Series, rules: Iterable[TagRule]
) -> tuple[pd.Series, pd.Series]:
    """Type of each feature under an ordered rule table (first matching rule wins).

    Parameters
    ----------
    features
        OSM features, one column per tag key.
    geom_types
        Geometry type name of each feature, aligned to ``features.index``.
    rules
        Ordered rules.

    Returns
    -------
    codes, labels : pandas.Series
        The type code given by the first matching rule (``NaN`` when none matches) and the
        matched tag (``key=value``), both aligned to ``features.index``.

    Examples
    --------
    >>> import pandas as pd
    >>> feats = pd.DataFrame({"amenity": ["parking", "school", None]})
    >>> kinds = pd.Series(["Polygon", "Point", "Point"])
    >>> codes, labels = classify(feats, kinds, SITE_RULES)
    >>> codes.tolist()
    ['parking', 'ecole', nan]
    >>> labels.tolist()
    ['amenity=parking', 'amenity=school', nan]
    """
    codes = pd.Series(np.nan, index=features.index, dtype=object)
    labels = pd.Series(np.nan, index=features.index, dtype=object)
    for rule in rules:
        mask = _rule_mask(features, geom_types, rule) & codes.isna()
        if mask.any():
            codes[mask] = rule.code
            labels[mask] = rule.key + "=" + tag(features, rule.key)[mask]
    return codes, labels


def query_tags() -> dict[str, bool | str | list[str]]:
    """The Overpass tag query that fetches every feature the rule tables can use.

    Examples
    --------
    >>> tags = query_tags()
    >>> "rail" in tags["railway"] and tags["building"] is True
    True
    """
    wanted: dict[str, set[str] | None] = {BRIDGE_KEY: None, BATIMENT_KEY: None}
    for rule in (*BREAK_RULES, *SITE_RULES, *GREEN_RULES):
        if rule.values is None or wanted.get(rule.key, set()) is None:
            wanted[rule.key] = None
        else:
            current = wanted.get(rule.key) or set()
            wanted[rule.key] = current | set(rule.values)
    return {k: True if v is None else sorted(v) for k, v in sorted(wanted.items())}


# ---------------------------------------------------------------------------------------------
# From OSM features to layers

CRS = "EPSG:2154"

LAYER_COLUMNS: dict[str, tuple[str, ...]] = {
    "coupures": ("osm_type", "osm_id", "type", "nom", "sous_type", "ref", "etiquette_osm"),
    "sites": (
        "osm_type",
        "osm_id",
        "type",
        "nom",
        "surface_m2",
        "proprietaire",
        "acces",
        "etiquette_osm",
    ),
    "rues": ("osm_type", "osm_id", "osm_ids", "nom", "highway", "longueur_m", "pont"),
    "batiments": ("osm_type", "osm_id", "type", "nom", "hauteur_m", "niveaux", "surface_m2"),
    "espaces_verts": (
        "osm_type",
        "osm_id",
        "type",
        "nom",
        "surface_m2",
        "acces",
        "etiquette_osm",
    ),
}
"""Columns of each OSM layer, in order (geometry last)."""

_FLOAT_COLUMNS = {"surface_m2", "hauteur_m", "longueur_m", "niveaux"}


def features_to_layers(features: gpd.GeoDataFrame | None) -> dict[str, gpd.GeoDataFrame]:
    """Coupures, sites, batiments and espaces_verts from osmnx features (any CRS).

    The layers are in EPSG:2154, not yet conformed (see :func:`conform`).
    """
    feats = prepare_features(features)
    gtypes = feats.geom_type
    coupures = _coupures(feats, gtypes)
    return {
        "coupures": coupures,
        "sites": _sites(feats, gtypes, coupures),
        "batiments": _batiments(feats, gtypes),
        "espaces_verts": _espaces_verts(feats, gtypes),
    }


def prepare_features(features: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Flatten osmnx's ``(element, id)`` index into ``osm_type``/``osm_id``, in Lambert-93.

    A frame already flattened (``element`` and ``id`` columns) is accepted too.
    """
    if features is None or len(features) == 0:
        return gpd.GeoDataFrame({"osm_type": [], "osm_id": []}, geometry=[], crs=CRS)
    if isinstance(features.index, pd.MultiIndex) and features.index.nlevels == 2:
        feats = features.reset_index(names=["osm_type", "osm_id"])
    else:
        feats = features.rename(columns={"element": "osm_type", "id": "osm_id"})
        feats = feats.reset_index(drop=True)
    if "osm_id" not in feats or "osm_type" not in feats:
        msg = "OSM features need an (element, id) index or 'element' and 'id' columns"
        raise ValueError(msg)
    feats["osm_type"] = feats["osm_type"].astype(str)
    feats["osm_id"] = pd.to_numeric(feats["osm_id"], errors="coerce").astype("Int64")
    if feats.crs is None:
        feats = feats.set_crs("EPSG:4326")
    feats = feats.to_crs(CRS)
    return feats[~(feats.geometry.isna() | feats.geometry.is_empty)].reset_index(drop=True)


def _base(feats: gpd.GeoDataFrame, mask: pd.Series) -> gpd.GeoDataFrame:
    out = feats.loc[mask, ["osm_type", "osm_id", "geometry"]].copy()
    out["nom"] = tag(feats, "name")[mask]
    return out


def _area(gdf: gpd.GeoDataFrame) -> pd.Series:
    """Area in m² of polygons, NaN for points and lines."""
    polygonal = gdf.geom_type.isin(POLYGON)
    return gdf.geometry.area.where(polygonal, np.nan).round(1)


def _coupures(feats: gpd.GeoDataFrame, gtypes: pd.Series) -> gpd.GeoDataFrame:
    codes, labels = classify(feats, gtypes, BREAK_RULES)
    mask = codes.notna() & ~is_tunnel(feats)
    out = _base(feats, mask)
    out["type"] = codes[mask]
    out["etiquette_osm"] = labels[mask]
    out["sous_type"] = labels[mask].str.split("=", n=1).str[1]
    out["ref"] = tag(feats, "ref")[mask]
    out["nom"] = out["nom"].fillna(out["ref"])
    return out


def _sites(
    feats: gpd.GeoDataFrame, gtypes: pd.Series, coupures: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    codes, labels = classify(feats, gtypes, SITE_RULES)
    mask = codes.notna()
    out = _base(feats, mask)
    out["type"] = codes[mask]
    out["etiquette_osm"] = labels[mask]
    bridges = _bridges(feats, gtypes, coupures, exclude=mask)
    out = pd.concat([out, bridges]) if len(bridges) else out
    owner = tag(feats, "operator").fillna(tag(feats, "owner"))
    out["proprietaire"] = owner.reindex(out.index)
    out["acces"] = tag(feats, "access").reindex(out.index)
    out["surface_m2"] = _area(out)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=CRS)


def _bridges(
    feats: gpd.GeoDataFrame, gtypes: pd.Series, coupures: gpd.GeoDataFrame, *, exclude: pd.Series
) -> gpd.GeoDataFrame:
    """Highways on a bridge that cross an urban break (rail, road, water): ``pont`` sites."""
    bridge = tag(feats, BRIDGE_KEY)
    mask = (
        tag(feats, "highway").notna()
        & bridge.notna()
        & (bridge != "no")
        & gtypes.isin(LINE)
        & ~exclude
    )
    if not mask.any() or coupures.empty:
        return _base(feats, mask & False)
    candidates = _base(feats, mask)
    crossing = candidates.sjoin(coupures[["geometry"]], how="inner", predicate="crosses")
    out = candidates.loc[candidates.index.isin(crossing.index)].copy()
    out["type"] = "pont"
    out["etiquette_osm"] = (
        "highway=" + tag(feats, "highway")[out.index] + " + bridge=" + bridge[out.index]
    )
    return out


def _batiments(feats: gpd.GeoDataFrame, gtypes: pd.Series) -> gpd.GeoDataFrame:
    building = tag(feats, BATIMENT_KEY)
    mask = building.notna() & (building != "no") & gtypes.isin(POLYGON)
    out = _base(feats, mask)
    out["type"] = building[mask]
    out["hauteur_m"] = _number(tag(feats, "height")[mask])
    out["niveaux"] = _number(tag(feats, "building:levels")[mask])
    out["surface_m2"] = _area(out)
    return out


def _espaces_verts(feats: gpd.GeoDataFrame, gtypes: pd.Series) -> gpd.GeoDataFrame:
    codes, labels = classify(feats, gtypes, GREEN_RULES)
    mask = codes.notna()
    out = _base(feats, mask)
    out["type"] = codes[mask]
    out["etiquette_osm"] = labels[mask]
    out["acces"] = tag(feats, "access")[mask]
    out["surface_m2"] = _area(out)
    return out


def _number(values: pd.Series) -> pd.Series:
    """Leading number of OSM values such as ``12``, ``12.5 m`` or ``3,5``."""
    text = values.astype(object).where(values.notna(), "").astype(str)
    found = text.str.extract(r"(\d+(?:[.,]\d+)?)", expand=False).str.replace(",", ".")
    return pd.to_numeric(found, errors="coerce").astype(float)


def conform(kind: str, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give a layer its columns, in order, with stable dtypes, in Lambert-93."""
    columns = LAYER_COLUMNS[kind]
    gdf = gdf.reset_index(drop=True)
    data: dict[str, Any] = {}
    for col in columns:
        values = gdf[col] if col in gdf.columns else pd.Series(np.nan, index=gdf.index)
        if col == "osm_id":
            data[col] = pd.to_numeric(values, errors="coerce").astype("Int64")
        elif col == "pont":
            data[col] = values.fillna(False).astype(bool)
        elif col in _FLOAT_COLUMNS:
            data[col] = pd.to_numeric(values, errors="coerce").astype(float)
        else:
            data[col] = values.astype(object).where(values.notna(), None)
    out = gpd.GeoDataFrame(
        data, geometry=gdf.geometry.values, crs=gdf.crs or CRS, index=pd.RangeIndex(len(gdf))
    )
    return out if out.crs == CRS else out.to_crs(CRS)
