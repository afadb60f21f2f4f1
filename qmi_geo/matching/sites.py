"""Candidate deployment sites of a quarter.

:func:`candidate_sites` gathers every place where a solution could be installed, as one
GeoDataFrame in EPSG:2154 with the columns ``site_id``, ``type`` (a code of
:data:`qmi_geo.style.SITE_KINDS`), ``nom``, ``surface_m2``, ``surface_source`` (« mesurée »,
« estimée » or « inconnue »), ``source`` and ``geometry``:

* the ``sites`` layer (car parks, squares, school yards, parks, public buildings, collèges…);
  a kind it already holds (``gare``, ``rue``, ``pont``) is not derived again below;
* stations of the ``gares`` layer, one site per station (the IDFM file has one point per station
  *per line*), for forecourt uses;
* streets: the problem streets of ``rues_citees`` (FUB) and the named streets of ``rues``
  (one site per street name; a street already in ``rues_citees`` is kept once);
* break crossings: where a street of ``rues`` (or, without it, of ``rues_citees``) crosses a line
  of ``coupures`` — bridges, underpasses and level crossings — one site per crossing;
* an optional user GeoDataFrame (``extra``) with at least ``type`` and a geometry.

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
[['rue', 'Rue Haute'], ['pont', 'Rue Haute × voie ferrée RER C']]
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
    "SITE_COLUMNS",
    "STREET_WIDTH_M",
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
    "geometry",
]

#: Width (m) used to estimate the usable surface of a street from its length.
STREET_WIDTH_M = 8.0

#: Crossings closer than this (m) are one site.
_CROSSING_MERGE_M = 40.0
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
    layers: Mapping[str, gpd.GeoDataFrame], *, extra: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Gather the candidate deployment sites of a quarter.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layers by kind (``sites``, ``gares``, ``rues_citees``, ``rues``, ``coupures``; absent
        kinds are skipped), in EPSG:2154 with the canonical fields of
        :mod:`qmi_geo.layers._schemas`.
    extra : GeoDataFrame, optional
        User sites with at least ``type`` (a SITE_KINDS code or label) and a geometry, and
        optionally ``nom``, ``surface_m2``, ``proprietaire``. Rows with an unknown type or no
        geometry are dropped with a :class:`SiteRejectedWarning` giving the row and the reason
        (the reasons are also in ``result.attrs["rejets"]``).

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
    # kinds the sites layer already holds are not derived again (no duplicates)
    given = (
        set(sites["type"].map(normalise_site_kind)) if sites is not None and len(sites) else set()
    )
    if (gares := layers.get("gares")) is not None and len(gares) and "gare" not in given:
        parts.append(_from_stations(gares))
    if "rue" not in given:
        streets = _from_streets(layers.get("rues_citees"), layers.get("rues"))
        if streets is not None:
            parts.append(streets)
    coupures = layers.get("coupures")
    lines = layers.get("rues") if layers.get("rues") is not None else layers.get("rues_citees")
    if (
        coupures is not None
        and len(coupures)
        and lines is not None
        and len(lines)
        and "pont" not in given
    ):
        parts.append(_crossings(lines, coupures))
    if extra is not None and len(extra):
        if extra.crs is not None and crs is not None and not extra.crs.equals(crs):
            extra = extra.to_crs(crs)
        part, bad = _from_sites(extra, "fichier utilisateur")
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
    out["site_id"] = _site_ids(out)
    out = out[SITE_COLUMNS]
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
    source: str,
    geometry: object,
    crs: object,
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "type": types,
            "nom": names,
            "surface_m2": surface,
            "surface_source": surface_source,
            "proprietaire": owner,
            "source": source,
        },
        geometry=gpd.GeoSeries(geometry, crs=crs).to_numpy(),
        crs=crs,
    )


def _from_sites(sites: gpd.GeoDataFrame, source: str) -> tuple[gpd.GeoDataFrame, list[str]]:
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
        keep["nom"].astype(object).where(keep["nom"].notna(), None)
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
    street_area = (
        keep.geometry.length.where(
            (kinds == "rue") & keep.geometry.geom_type.isin(["LineString", "MultiLineString"])
        )
        * STREET_WIDTH_M
    )
    surface = given.fillna(geom_area).fillna(street_area)
    surface_source = np.where(
        given.notna() | geom_area.notna(),
        _MEASURED,
        np.where(street_area.notna(), _ESTIMATED, _UNKNOWN),
    )
    owner = (
        keep["proprietaire"]
        if "proprietaire" in keep.columns
        else pd.Series(None, index=keep.index, dtype=object)
    )
    return (
        _frame(
            kinds.to_numpy(),
            names.to_numpy(),
            surface.to_numpy(),
            surface_source,
            owner.to_numpy(),
            source,
            keep.geometry,
            keep.crs,
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
    parts = []
    cited_names: set[str] = set()
    crs = None
    if cited is not None and len(cited):
        c = cited[~(cited.geometry.isna() | cited.geometry.is_empty)]
        crs = cited.crs
        names = c["nom"].astype(str) if "nom" in c.columns else pd.Series("Rue", index=c.index)
        cited_names = set(names.map(_fold))
        length = c.geometry.length
        is_line = c.geometry.geom_type.isin(["LineString", "MultiLineString"])
        surface = (length * STREET_WIDTH_M).where(is_line)
        parts.append(
            _frame(
                "rue",
                names.to_numpy(),
                surface.to_numpy(),
                np.where(is_line, _ESTIMATED, _UNKNOWN),
                None,
                "rues_citees",
                c.geometry,
                crs,
            )
        )
    if streets is not None and len(streets) and "nom" in streets.columns:
        s = streets[streets["nom"].notna() & ~streets.geometry.is_empty]
        s = s.assign(nom=s["nom"].map(_clean_name))
        crs = crs or streets.crs
        s = s[~s["nom"].astype(str).map(_fold).isin(cited_names)]
        if len(s):
            grouped = s.geometry.groupby(s["nom"].astype(str)).agg(
                lambda geoms: shapely.line_merge(shapely.union_all(geoms.to_numpy()))
            )
            geoms = gpd.GeoSeries(grouped.to_numpy(), crs=streets.crs)
            parts.append(
                _frame(
                    "rue",
                    grouped.index.to_numpy(),
                    (geoms.length * STREET_WIDTH_M).to_numpy(),
                    _ESTIMATED,
                    None,
                    "rues",
                    geoms,
                    streets.crs,
                )
            )
    if not parts:
        return None
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs)


def _break_label(kind: object, name: object) -> str:
    label = BREAK_KINDS[str(kind)].label if str(kind) in BREAK_KINDS else "coupure"
    short = {"rail": "voie ferrée", "route": "voie rapide", "eau": "cours d'eau"}
    text = short.get(str(kind), label.lower())
    return f"{text} {name}" if isinstance(name, str) and name.strip() else text


def _crossings(lines: gpd.GeoDataFrame, coupures: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Points where a street crosses a break, merged within a few tens of metres."""
    street_geoms = lines.geometry.to_numpy()
    break_geoms = shapely.boundary(coupures.geometry.to_numpy())
    is_line = coupures.geometry.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    break_geoms = np.where(is_line, coupures.geometry.to_numpy(), break_geoms)
    tree = shapely.STRtree(break_geoms)
    s_idx, b_idx = tree.query(street_geoms, predicate="crosses")
    if len(s_idx) == 0:
        return _frame([], [], [], [], [], "franchissements", [], lines.crs)
    inter = shapely.intersection(street_geoms[s_idx], break_geoms[b_idx])
    parts, owner = shapely.get_parts(inter, return_index=True)
    points = shapely.get_type_id(parts) == 0
    parts, owner = parts[points], owner[points]
    if len(parts) == 0:
        return _frame([], [], [], [], [], "franchissements", [], lines.crs)
    street_name = (
        lines["nom"].to_numpy() if "nom" in lines.columns else np.full(len(lines), None)
    )[s_idx[owner]]
    kinds = coupures["type"].to_numpy()[b_idx[owner]]
    bnames = (
        coupures["nom"].to_numpy() if "nom" in coupures.columns else np.full(len(coupures), None)
    )[b_idx[owner]]
    rows = []
    for members in _cluster(parts, _CROSSING_MERGE_M):
        i = members[0]
        brk = _break_label(kinds[i], bnames[i])
        streets_here = sorted(
            {str(_clean_name(n)) for n in street_name[members] if isinstance(n, str)}
        )
        label = (
            f"{' / '.join(streets_here[:2])} × {brk}" if streets_here else f"Franchissement : {brk}"
        )
        rows.append(
            (label, shapely.centroid(shapely.multipoints(shapely.get_coordinates(parts[members]))))
        )
    return _frame(
        "pont",
        [r[0] for r in rows],
        np.nan,
        _UNKNOWN,
        None,
        "franchissements",
        [r[1] for r in rows],
        lines.crs,
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
