"""Candidate deployment sites of a quarter.

:func:`candidate_sites` gathers every place where a solution could be installed, as one
GeoDataFrame in EPSG:2154 with the columns ``site_id``, ``type`` (a code of
:data:`qmi_geo.style.SITE_KINDS`), ``nom``, ``surface_m2``, ``surface_source`` (« mesurée »,
« estimée » or « inconnue »), ``source`` and ``geometry``:

* the ``sites`` layer (car parks, squares, school yards, parks, public buildings, collèges…);
  a kind it already holds (``gare``, ``rue``, ``pont``) is not derived again below;
* stations of the ``gares`` layer, one site per station (the IDFM file has one point per station
  *per line*), for forecourt uses;
* streets: the problem streets of ``rues_citees`` (FUB) and the named streets of ``rues``;
  street segments of every channel are merged into **one site per street name**;
* break crossings: where a street of ``rues`` (or, without it, of ``rues_citees``) crosses a line
  of ``coupures``. A street segment tagged as a bridge (OSM ``bridge=*``, or the ``pont``
  flag of the OSM layer) makes a ``pont``. Without a tag, two kinds of crossing can only be
  bridges and are ``pont`` labelled « pont présumé » with the reason: over a navigable
  waterway (the Seine, the Marne, the Oise, a canal: nothing crosses them at grade), or by a
  street whose own name is a bridge (« Pont de … »). Any other intersection is a
  ``croisement`` (level crossing, a culverted stream such as the Morée, or a grade nobody
  recorded) and is never called a bridge;
* an optional user GeoDataFrame (``extra``) with at least ``type`` and a geometry.

The channels are merged and deduplicated: two sites of the same kind closer than
:data:`DEDUP_M` (or polygons overlapping by half) are one site, kept from the most direct
channel — workshop (``origine`` « atelier ») before the commune's inventory (« commune »),
OpenStreetMap (« osm ») and the other layers (« couche »). Streets have no area (their length
is in ``longueur_m``): a street's surface is « inconnue », never length × a width.

Only sites that touch the quarter grown by :data:`SITE_MARGIN_M` are ranked
(``dans_quartier``); the others stay in the frame, listed as outside.

Nothing is read from files here: the layers come from :func:`qmi_geo.pipeline.load_layers`.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> rues = gpd.GeoDataFrame(
...     {"nom": ["Rue Haute"]}, geometry=[LineString([(0, 0), (0, 200)])], crs=2154
... )
>>> rail = gpd.GeoDataFrame(
...     {"type": ["rail"], "nom": ["RER C"]},
...     geometry=[LineString([(-100, 100), (100, 100)])],
...     crs=2154,
... )
>>> sites = candidate_sites({"rues": rues, "coupures": rail})
>>> sites[["type", "nom"]].to_numpy().tolist()
[['croisement', 'Rue Haute × voie ferrée RER C (sans pont connu)'], ['rue', 'Rue Haute']]
"""

from __future__ import annotations

import ast
import hashlib
import unicodedata
import warnings
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from qmi_geo.errors import LayerError, QmiGeoWarning
from qmi_geo.style import BREAK_KINDS, SITE_KINDS

__all__ = [
    "DEDUP_M",
    "SITE_COLUMNS",
    "SITE_MARGIN_M",
    "SiteRejectedWarning",
    "candidate_sites",
    "normalise_site_kind",
]

#: Columns of the candidate sites frame, in order.
SITE_COLUMNS = [
    "site_id",
    "type",
    "nom",
    "surface_m2",
    "surface_source",
    "proprietaire",
    "source",
    "origine",
    "longueur_m",
    "dans_quartier",
    "geometry",
]

#: Margin (m) around the quarter within which a site is still ranked: a car park across the
#: boundary street or a bridge on the commune limit serves the quarter; a collège in the
#: next commune does not.
SITE_MARGIN_M = 100.0
#: Sites of the same kind closer than this (m) are the same site seen by two channels.
DEDUP_M = 30.0
#: Channel priority when deduplicating (lower wins).
ORIGIN_PRIORITY = {"atelier": 0, "commune": 1, "osm": 2, "couche": 3, "derive": 4}

#: Crossings closer than this (m) are one site.
_CROSSING_MERGE_M = 40.0
#: Crossings of the same street and break with the same name closer than this (m) are one.
_SAME_NAME_CROSSING_M = 400.0
#: Stations of the same name closer than this (m) are one site.
_STATION_MERGE_M = 400.0

_MEASURED, _ESTIMATED, _UNKNOWN = "mesurée", "estimée", "inconnue"


class SiteRejectedWarning(QmiGeoWarning):
    """Some user-supplied sites were rejected (unknown type, no geometry)."""


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(text.lower().replace("_", " ").replace("-", " ").replace("'", " ").split())


_KIND_ALIASES: dict[str, str] = {
    **{_fold(code): code for code in SITE_KINDS},
    **{_fold(kind.label): code for code, kind in SITE_KINDS.items()},
    "parc de stationnement": "parking",
    "car park": "parking",
    "parking lot": "parking",
    "stationnement": "parking",
    "square": "place",
    "parvis": "place",
    "esplanade": "place",
    "college": "ecole",
    "colleges": "ecole",
    "lycee": "ecole",
    "ecole elementaire": "ecole",
    "ecole maternelle": "ecole",
    "groupe scolaire": "ecole",
    "school": "ecole",
    "cour d ecole": "ecole",
    "cour de recreation": "ecole",
    "toit": "toiture",
    "roof": "toiture",
    "mur": "facade",
    "pignon": "facade",
    "batiment": "batiment_public",
    "mairie": "batiment_public",
    "equipement public": "batiment_public",
    "mediatheque": "batiment_public",
    "jardin": "parc",
    "jardin partage": "parc",
    "espace vert": "parc",
    "bois": "parc",
    "park": "parc",
    "garden": "parc",
    "cemetery": "cimetiere",
    "brownfield": "friche",
    "terrain vague": "friche",
    "passerelle": "pont",
    "franchissement": "pont",
    "bridge": "pont",
    "station": "gare",
    "pole d echanges": "gare",
    "parvis de gare": "gare",
    "gymnase": "equipement_sportif",
    "stade": "equipement_sportif",
    "piscine": "equipement_sportif",
    "rue": "rue",
    "voie": "rue",
    "street": "rue",
    "voirie": "rue",
}


def _clean_name(value: object) -> object:
    """OSM multi-valued names come as Python-list strings: « ['A', 'B'] » -> « A / B »."""
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            items = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
        if isinstance(items, list):
            return " / ".join(str(i) for i in items)
    return value


def normalise_site_kind(value: object) -> str | None:
    """Return the SITE_KINDS code of a site type as users write it, ``None`` if unknown.

    Examples
    --------
    >>> (
    ...     normalise_site_kind("Collège"),
    ...     normalise_site_kind("Parc, jardin"),
    ...     normalise_site_kind("?"),
    ... )
    ('ecole', 'parc', None)
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return _KIND_ALIASES.get(_fold(str(value)))


def candidate_sites(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    extra: gpd.GeoDataFrame | None = None,
    perimeter: gpd.GeoDataFrame | None = None,
    margin_m: float = SITE_MARGIN_M,
) -> gpd.GeoDataFrame:
    """Gather, merge and deduplicate the candidate deployment sites of a quarter.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layers by kind (``sites``, ``gares``, ``rues_citees``, ``rues``, ``coupures``,
        ``quartier``; absent kinds are skipped), in EPSG:2154 with the canonical fields of
        :mod:`qmi_geo.layers._schemas`. A ``sites`` layer may carry ``origine`` (« atelier »,
        « commune », « osm », « couche ») and its features' ``source``.
    extra : GeoDataFrame, optional
        User sites with at least ``type`` (a SITE_KINDS code or label) and a geometry, and
        optionally ``nom``, ``surface_m2``, ``proprietaire``. Rows with an unknown type or no
        geometry are dropped with a :class:`SiteRejectedWarning` giving the row and the reason
        (the reasons are also in ``result.attrs["rejets"]``).
    perimeter : GeoDataFrame, optional
        The quarter (default: the ``quartier`` layer); sites farther than ``margin_m`` from it
        get ``dans_quartier = False``.
    margin_m : float
        See :data:`SITE_MARGIN_M`.

    Returns
    -------
    GeoDataFrame
        Columns :data:`SITE_COLUMNS`, EPSG:2154, one row per site, stable ``site_id``.
    """
    crs = _common_crs(layers, extra)
    parts: list[gpd.GeoDataFrame] = []
    rejects: list[str] = []
    if (sites := layers.get("sites")) is not None and len(sites):
        part, bad = _from_sites(sites, "sites")
        parts.append(part)
        rejects += bad
    given = set(parts[0]["type"]) if parts else set()
    if (gares := layers.get("gares")) is not None and len(gares) and "gare" not in given:
        parts.append(_from_stations(gares))
    streets = _from_streets(layers.get("rues_citees"), layers.get("rues"))
    if streets is not None:
        parts.append(streets)
    coupures = layers.get("coupures")
    lines = layers.get("rues") if layers.get("rues") is not None else layers.get("rues_citees")
    if coupures is not None and len(coupures) and lines is not None and len(lines):
        parts.append(_crossings(lines, coupures))
    if extra is not None and len(extra):
        if extra.crs is not None and crs is not None and not extra.crs.equals(crs):
            extra = extra.to_crs(crs)
        part, bad = _from_sites(extra, "fichier utilisateur", origin="commune")
        parts.append(part)
        rejects += bad
    if rejects:
        warnings.warn(
            f"{len(rejects)} site(s) ignoré(s) : "
            + " ; ".join(rejects[:5])
            + (" ; …" if len(rejects) > 5 else ""),
            SiteRejectedWarning,
            stacklevel=2,
        )
    parts = [p for p in parts if len(p)]
    if parts:
        out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs)
    else:
        out = gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in SITE_COLUMNS[:-1]},
            geometry=gpd.GeoSeries([], crs=crs),
            crs=crs,
        )
    out["surface_m2"] = pd.to_numeric(out["surface_m2"], errors="coerce").astype(float)
    out["longueur_m"] = pd.to_numeric(out["longueur_m"], errors="coerce").astype(float)
    out = _merge_streets(out)
    out = _deduplicate(out)
    per = perimeter if perimeter is not None else layers.get("quartier")
    if per is not None and len(per):
        zone = shapely.buffer(shapely.union_all(per.geometry.to_numpy()), margin_m)
        out["dans_quartier"] = shapely.intersects(out.geometry.to_numpy(), zone)
    else:
        out["dans_quartier"] = True
    out["site_id"] = _site_ids(out)
    out = out[SITE_COLUMNS].reset_index(drop=True)
    out.attrs["rejets"] = rejects
    return out


def _common_crs(layers: Mapping[str, gpd.GeoDataFrame], extra: gpd.GeoDataFrame | None) -> object:
    crs = None
    for kind in ("sites", "gares", "rues_citees", "rues", "coupures"):
        layer = layers.get(kind)
        if layer is None or layer.crs is None:
            continue
        if crs is None:
            crs = layer.crs
        elif not layer.crs.equals(crs):
            raise LayerError(
                f"Couche « {kind} » en {layer.crs.to_string()}, les autres en {crs}: "
                "toutes les couches doivent être dans le même système (EPSG:2154)."
            )
    if crs is None and extra is not None:
        crs = extra.crs
    return crs if crs is not None else "EPSG:2154"


def _frame(
    types: object,
    names: object,
    surface: object,
    surface_source: object,
    owner: object,
    source: object,
    geometry: object,
    crs: object,
    *,
    origin: object = "derive",
    length: object = np.nan,
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "type": types,
            "nom": names,
            "surface_m2": surface,
            "surface_source": surface_source,
            "proprietaire": owner,
            "source": source,
            "origine": origin,
            "longueur_m": length,
        },
        geometry=gpd.GeoSeries(geometry, crs=crs).to_numpy(),
        crs=crs,
    )


def _origin_of(sources: pd.Series) -> np.ndarray:
    """Channel of each site from its source name when the layer does not say it."""
    text = sources.astype(str)
    return np.where(
        text.str.startswith("osm"),
        "osm",
        np.where(text.str.contains("atelier"), "atelier", "couche"),
    ).astype(object)


def _from_sites(
    sites: gpd.GeoDataFrame, source: str, *, origin: str | None = None
) -> tuple[gpd.GeoDataFrame, list[str]]:
    if "type" not in sites.columns:
        raise LayerError(
            f"Sites ({source}) : colonne « type » manquante. Ajoutez une colonne type "
            f"({', '.join(SITE_KINDS)})."
        )
    kinds = sites["type"].map(normalise_site_kind)
    empty = sites.geometry.isna() | sites.geometry.is_empty
    bad = kinds.isna() | empty
    rejects = []
    for pos in np.flatnonzero(bad.to_numpy()):
        row = sites.iloc[pos]
        line = row["source_ligne"] if "source_ligne" in sites.columns else pos + 1
        reason = (
            "géométrie vide"
            if empty.iloc[pos]
            else f"type « {row['type']} » inconnu (types possibles : {', '.join(SITE_KINDS)})"
        )
        rejects.append(f"{source}, ligne {line} : {reason}")
    keep = sites.loc[~bad.to_numpy()]
    kinds = kinds[~bad]
    names = (
        keep["nom"].astype(object).where(keep["nom"].notna(), None).map(_clean_name)
        if "nom" in keep.columns
        else pd.Series(None, index=keep.index, dtype=object)
    )
    names = names.fillna(kinds.map(lambda k: SITE_KINDS[k].label))
    given = (
        pd.to_numeric(keep["surface_m2"], errors="coerce")
        if "surface_m2" in keep.columns
        else pd.Series(np.nan, index=keep.index)
    )
    geom_area = keep.geometry.area.where(keep.geometry.geom_type.isin(["Polygon", "MultiPolygon"]))
    surface = given.fillna(geom_area)
    surface_source = np.where(surface.notna(), _MEASURED, _UNKNOWN)
    is_line = keep.geometry.geom_type.isin(["LineString", "MultiLineString"])
    length = keep.geometry.length.where(is_line)
    owner = (
        keep["proprietaire"]
        if "proprietaire" in keep.columns
        else pd.Series(None, index=keep.index, dtype=object)
    )
    src = (
        keep["source"].fillna(source).astype(str)
        if "source" in keep.columns
        else pd.Series(source, index=keep.index)
    )
    if origin is not None:
        origins = np.full(len(keep), origin, dtype=object)
    elif "origine" in keep.columns:
        origins = keep["origine"].fillna(pd.Series(_origin_of(src), index=keep.index)).to_numpy()
    else:
        origins = _origin_of(src)
    return (
        _frame(
            kinds.to_numpy(),
            names.to_numpy(),
            surface.to_numpy(),
            surface_source,
            owner.to_numpy(),
            src.to_numpy(),
            keep.geometry,
            keep.crs,
            origin=origins,
            length=length.to_numpy(),
        ),
        rejects,
    )


def _from_stations(gares: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One site per station: points of the same name within a few hundred metres merge."""
    g = gares[~(gares.geometry.isna() | gares.geometry.is_empty)]
    names = g["nom"].fillna("Gare") if "nom" in g.columns else pd.Series("Gare", index=g.index)
    lines = g["ligne"].astype(object) if "ligne" in g.columns else pd.Series(None, index=g.index)
    gpe = (
        (g["reseau"] == "grand_paris_express")
        if "reseau" in g.columns
        else pd.Series(False, index=g.index)
    )
    key = names.map(_fold) + np.where(gpe, "|gpe", "")
    rows = []
    for _, idx in key.groupby(key).groups.items():
        pts = g.geometry.loc[idx]
        # split a homonym group whose points are far apart into clusters
        clusters = _cluster(pts.to_numpy(), _STATION_MERGE_M)
        for members in clusters:
            sub = idx[members]
            lines_txt = ", ".join(sorted({str(v) for v in lines.loc[sub].dropna()}))
            name = str(names.loc[sub[0]])
            label = f"Gare {name}" if not _fold(name).startswith("gare") else name
            if bool(gpe.loc[sub[0]]):
                label += " (future gare du Grand Paris Express)"
            elif lines_txt:
                label += f" ({lines_txt})"
            rows.append(
                (
                    label,
                    shapely.centroid(
                        shapely.multipoints(shapely.get_coordinates(g.geometry.loc[sub].to_numpy()))
                    ),
                )
            )
    return _frame(
        "gare",
        [r[0] for r in rows],
        np.nan,
        _UNKNOWN,
        None,
        "gares",
        [r[1] for r in rows],
        gares.crs,
    )


def _cluster(geoms: np.ndarray, distance: float) -> list[np.ndarray]:
    """Group geometries whose buffers touch (single linkage), as index arrays."""
    if len(geoms) == 1:
        return [np.array([0])]
    merged = shapely.get_parts(shapely.union_all(shapely.buffer(geoms, distance / 2)))
    tree = shapely.STRtree(merged)
    owner = tree.query(geoms, predicate="intersects")
    label = np.empty(len(geoms), dtype=int)
    label[owner[0]] = owner[1]
    return [np.flatnonzero(label == k) for k in np.unique(label)]


def _from_streets(
    cited: gpd.GeoDataFrame | None, streets: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame | None:
    """FUB streets and named OSM streets as street sites (merged by name afterwards)."""
    parts = []
    for layer, default in ((cited, "rues_citees"), (streets, "rues")):
        if layer is None or not len(layer) or "nom" not in layer.columns:
            continue
        s = layer[layer["nom"].notna() & ~(layer.geometry.isna() | layer.geometry.is_empty)]
        if not len(s):
            continue
        src = s["source"].astype(str) if "source" in s.columns else pd.Series(default, s.index)
        parts.append(
            _frame(
                "rue",
                s["nom"].map(_clean_name).astype(str).to_numpy(),
                np.nan,
                _UNKNOWN,
                "voirie publique",
                src.to_numpy(),
                s.geometry,
                layer.crs,
                origin=_origin_of(src),
                length=s.geometry.length.to_numpy(),
            )
        )
    if not parts:
        return None
    return gpd.GeoDataFrame(
        pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs
    )


def _merge_streets(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One site per street name: segments of every channel merged (best channel kept)."""
    is_street = (sites["type"] == "rue").to_numpy()
    if not is_street.any():
        return sites
    streets = sites[is_street].copy()
    streets["_key"] = streets["nom"].astype(str).map(_fold)
    streets["_prio"] = streets["origine"].map(ORIGIN_PRIORITY).fillna(9)
    streets = streets.sort_values(["_key", "_prio"], kind="stable")
    geoms = streets.geometry.groupby(streets["_key"], sort=False).agg(
        lambda g: shapely.line_merge(shapely.union_all(g.to_numpy())) if len(g) > 1 else g.iloc[0]
    )
    first = streets.groupby("_key", sort=False).head(1).set_index("_key")
    merged = first.drop(columns=["geometry", "_prio"]).assign(
        longueur_m=[float(shapely.length(g)) for g in geoms.loc[first.index]],
    )
    merged = gpd.GeoDataFrame(
        merged.reset_index(drop=True),
        geometry=gpd.GeoSeries(geoms.loc[first.index].to_numpy(), crs=sites.crs).to_numpy(),
        crs=sites.crs,
    )
    rest = sites[~is_street]
    return gpd.GeoDataFrame(
        pd.concat([rest, merged], ignore_index=True), geometry="geometry", crs=sites.crs
    )


def _deduplicate(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Same kind within DEDUP_M (polygons: overlapping by half) → one site, best channel kept."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    n = len(sites)
    if n < 2:
        return sites
    geoms = sites.geometry.to_numpy()
    src, tgt = sites.sindex.query(geoms, predicate="dwithin", distance=DEDUP_M)
    keep = (src < tgt) & (sites["type"].to_numpy()[src] == sites["type"].to_numpy()[tgt])
    keep &= sites["type"].to_numpy()[src] != "rue"  # streets are merged by name
    src, tgt = src[keep], tgt[keep]
    poly = sites.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    both = poly[src] & poly[tgt]
    if both.any():
        inter = shapely.area(shapely.intersection(geoms[src[both]], geoms[tgt[both]]))
        smaller = np.minimum(shapely.area(geoms[src[both]]), shapely.area(geoms[tgt[both]]))
        ok = np.ones(len(src), dtype=bool)
        ok[np.flatnonzero(both)] = inter >= 0.5 * smaller
        src, tgt = src[ok], tgt[ok]
    if len(src) == 0:
        return sites
    graph = coo_array((np.ones(len(src)), (src, tgt)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    prio = sites["origine"].map(ORIGIN_PRIORITY).fillna(9).to_numpy()
    has_area = sites["surface_m2"].notna().to_numpy()
    order = np.lexsort((np.arange(n), ~has_area, prio, label))
    first = np.r_[True, label[order][1:] != label[order][:-1]]
    chosen = np.sort(order[first])
    return sites.iloc[chosen].reset_index(drop=True)


def _break_label(kind: object, name: object) -> str:
    label = BREAK_KINDS[str(kind)].label if str(kind) in BREAK_KINDS else "coupure"
    short = {"rail": "voie ferrée", "route": "voie rapide", "eau": "cours d'eau"}
    text = short.get(str(kind), label.lower())
    return f"{text} {name}" if isinstance(name, str) and name.strip() else text


#: Waterways nothing crosses at grade (folded names): a street over them is a bridge.
_NAVIGABLE = ("seine", "marne", "oise", "canal")


def _presumed_bridge(kind: object, break_name: object, street: object) -> str | None:
    """Why an untagged crossing can only be a bridge, or None.

    >>> _presumed_bridge("eau", "La Seine", "Rue de Vaugirard")
    "voie d'eau navigable, qui ne se franchit pas à niveau"
    >>> _presumed_bridge("rail", "RER C", "Pont de Sèvres")
    "la rue porte le nom d'un pont"
    >>> _presumed_bridge("eau", "La Morée", "Rue Jacques Duclos") is None  # culverted stream
    True
    """
    words = _fold(str(break_name or "")).split()
    if str(kind) == "eau" and any(w in _NAVIGABLE for w in words):
        return "voie d'eau navigable, qui ne se franchit pas à niveau"
    if isinstance(street, str) and _fold(street).startswith("pont "):
        return "la rue porte le nom d'un pont"
    return None


def _tagged(values: pd.Series) -> np.ndarray:
    """Where an OSM tag value says yes (anything but empty/``no``; booleans as they are)."""
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip().str.lower()
    return (~text.isin(["", "no", "false", "nan", "none", "0", "[]"])).to_numpy()


def _crossings(lines: gpd.GeoDataFrame, coupures: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Where a street crosses a break: ``pont`` if the street is on a bridge, else ``croisement``.

    Grade separation is read from the street segment's own tags only.
    """
    street_geoms = lines.geometry.to_numpy()
    break_geoms = shapely.boundary(coupures.geometry.to_numpy())
    is_line = coupures.geometry.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    break_geoms = np.where(is_line, coupures.geometry.to_numpy(), break_geoms)
    tree = shapely.STRtree(break_geoms)
    s_idx, b_idx = tree.query(street_geoms, predicate="crosses")
    empty = _frame([], [], [], [], [], "franchissements", [], lines.crs)
    if len(s_idx) == 0:
        return empty
    inter = shapely.intersection(street_geoms[s_idx], break_geoms[b_idx])
    parts, owner = shapely.get_parts(inter, return_index=True)
    points = shapely.get_type_id(parts) == 0
    parts, owner = parts[points], owner[points]
    if len(parts) == 0:
        return empty
    bridge = np.zeros(len(lines), dtype=bool)
    for col in ("pont", "bridge"):
        if col in lines.columns:
            bridge |= _tagged(lines[col])
    on_bridge = bridge[s_idx[owner]]
    street_name = (
        lines["nom"].to_numpy() if "nom" in lines.columns else np.full(len(lines), None)
    )[s_idx[owner]]
    kinds = coupures["type"].to_numpy()[b_idx[owner]]
    bnames = (
        coupures["nom"].to_numpy() if "nom" in coupures.columns else np.full(len(coupures), None)
    )[b_idx[owner]]
    src = (
        lines["source"].astype(str).to_numpy()
        if "source" in lines.columns
        else np.full(len(lines), "rues", dtype=object)
    )[s_idx[owner]]
    presumed = np.array(
        [
            _presumed_bridge(k, b, _clean_name(n)) if not tagged else None
            for k, b, n, tagged in zip(kinds, bnames, street_name, on_bridge, strict=True)
        ],
        dtype=object,
    )
    # 0: tagged bridge, 1: presumed bridge, 2: plain intersection (never merged together)
    is_presumed = np.array([p is not None for p in presumed], dtype=bool)
    grade = np.where(on_bridge, 0, np.where(is_presumed, 1, 2))
    rows = []
    for flag in (0, 1, 2):
        sel = np.flatnonzero(grade == flag)
        if not len(sel):
            continue
        for members in _cluster(parts[sel], _CROSSING_MERGE_M):
            m = sel[members]
            brk = _break_label(kinds[m[0]], bnames[m[0]])
            streets_here = sorted(
                {str(_clean_name(n)) for n in street_name[m] if isinstance(n, str)}
            )
            where = " / ".join(streets_here[:2])
            if flag < 2:
                over = f"sur le {brk}" if brk.startswith("cours") else f"sur la {brk}"
                label = (
                    f"{where} {over}"
                    if _fold(where).startswith("pont ")
                    else f"Pont {where} {over}"
                    if where
                    else f"Pont {over}"
                )
                if flag == 1:
                    label += f" (pont présumé : {presumed[m[0]]})"
            else:
                label = (
                    f"{where} × {brk} (sans pont connu)"
                    if where
                    else f"Croisement : {brk} (sans pont connu)"
                )
            rows.append(("pont" if flag < 2 else "croisement", label, parts[m], src[m[0]]))
    # one bridge over two arms of a river (the Pont d'Issy over both arms of the Seine) is
    # one site: crossings with the same name close together are merged
    merged: dict[tuple[str, str], list[tuple[np.ndarray, str]]] = {}
    for kind, label, pts, source in rows:
        merged.setdefault((kind, label), []).append((pts, source))
    rows = []
    for (kind, label), groups in merged.items():
        centres = np.array([shapely.centroid(shapely.multipoints(g[0])) for g in groups])
        for members in _cluster(centres, _SAME_NAME_CROSSING_M):
            pts = np.concatenate([groups[k][0] for k in members])
            centre = shapely.centroid(shapely.multipoints(shapely.get_coordinates(pts)))
            rows.append((kind, label, centre, groups[members[0]][1]))
    return _frame(
        [r[0] for r in rows],
        [r[1] for r in rows],
        np.nan,
        _UNKNOWN,
        None,
        [r[3] for r in rows],
        [r[2] for r in rows],
        lines.crs,
        origin=_origin_of(pd.Series([r[3] for r in rows], dtype=object)),
    )


def _site_ids(sites: gpd.GeoDataFrame) -> np.ndarray:
    """Stable ids: type + hash of source, name and rounded geometry."""
    wkb = shapely.to_wkb(shapely.set_precision(sites.geometry.to_numpy(), 1.0))
    ids = [
        f"{t}-{hashlib.sha1(f'{s}|{n}|'.encode() + (w or b'')).hexdigest()[:8]}"
        for t, s, n, w in zip(sites["type"], sites["source"], sites["nom"], wkb, strict=False)
    ]
    arr = np.array(ids, dtype=object)
    dup = pd.Series(arr).duplicated(keep=False).to_numpy()
    if dup.any():  # identical rows: keep ids unique and deterministic
        counter = pd.Series(arr[dup]).groupby(arr[dup]).cumcount().to_numpy()
        arr[dup] = [f"{a}-{c}" for a, c in zip(arr[dup], counter, strict=False)]
    return arr
