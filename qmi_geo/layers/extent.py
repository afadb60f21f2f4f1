"""Where each source is complete (its declared extent) and how much of a quarter it covers.

A catalogue entry declares ``extent``: a named coverage, a list of names (their
intersection) or a polygon file. Named coverages are built from the bundled commune outlines
(ADMIN EXPRESS 2018, with the 2026 mergers applied through :func:`commune_parts`):

==========================  ====================================================
``ile-de-france``           the whole region
``paris-92-93-94``          Paris, Hauts-de-Seine, Seine-Saint-Denis, Val-de-Marne
``metropole``               the 130 communes of the Métropole du Grand Paris
``metropole-qmi-1km``       the Métropole and the 10 QMI communes, + 1 km
``qmi-communes``            the 10 QMI communes
``qmi-1km``                 the 10 QMI communes + 1 km
``departement:NN``          one département
``commune:NNNNN``           one commune
``communes:<field>``        the communes named in ``<field>`` of the source file
==========================  ====================================================

Examples
--------
>>> from qmi_geo.layers.catalogue import load_catalogue
>>> cat = load_catalogue()
>>> extent_label(cat["artificialisation_mos_iris_idf"])
'Paris + 92/93/94'
>>> extent_label(cat["cours_eau_ddt95"])
'10 communes QMI + 1 km'
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import shapely

from qmi_geo.layers.catalogue import Source, bundled_layers_dir

__all__ = ["NAMED_EXTENTS", "QMI_COMMUNES", "extent_geometry", "extent_label", "quarter_share"]

QMI_COMMUNES = (
    "93005",
    "92048",
    "93051",
    "92071",
    "93001",
    "94071",
    "94033",
    "95018",
    "91027",
    "92040",
)

NAMED_EXTENTS: dict[str, str] = {
    "ile-de-france": "Île-de-France",
    "paris-92-93-94": "Paris + 92/93/94",
    "metropole": "Métropole du Grand Paris",
    "metropole-qmi-1km": "Métropole du Grand Paris et communes QMI + 1 km",
    "qmi-communes": "10 communes QMI",
    "qmi-1km": "10 communes QMI + 1 km",
}


def _names(src: Source) -> tuple[str, ...]:
    if src.extent is None:
        return ()
    return (src.extent,) if isinstance(src.extent, str) else tuple(src.extent)


def _label(name: str) -> str:
    if name in NAMED_EXTENTS:
        return NAMED_EXTENTS[name]
    kind, _, arg = name.partition(":")
    if kind == "departement":
        return f"département {arg}"
    if kind == "commune":
        from qmi_geo.layers.communes import communes_2026

        table = communes_2026()
        return f"commune de {table.at[arg, 'nom']}" if arg in table.index else f"commune {arg}"
    if kind == "communes":
        return "communes présentes dans la source"
    return Path(name).name


def extent_label(src: Source) -> str:
    """The French name of a source's declared coverage (« Paris + 92/93/94 »…)."""
    names = _names(src)
    if not names:
        return "étendue non déclarée"
    return " ∩ ".join(_label(n) for n in names)


@lru_cache(maxsize=1)
def _communes() -> dict[str, shapely.Geometry]:
    from qmi_geo.layers._read import read_vector_cached

    # the pipeline reads the same file for the perimeter: one read per process
    path = bundled_layers_dir() / "admin_express_2018_gregoiredavid/communes_ile-de-france.geojson"
    gdf = read_vector_cached(str(path), None, None, path.stat().st_mtime).to_crs(2154)
    geoms = shapely.make_valid(gdf.geometry.values)
    return dict(zip(gdf["code"].astype(str), geoms, strict=True))


@lru_cache(maxsize=1)
def _commune_bounds() -> dict[str, tuple[float, float, float, float]]:
    polys = _communes()
    bounds = shapely.bounds(list(polys.values())).tolist()
    return {code: tuple(b) for code, b in zip(polys, bounds, strict=True)}


def _parts_of(codes: list[str]) -> list[str]:
    from qmi_geo.layers.communes import commune_parts

    polys = _communes()
    return [p for c in codes for p in commune_parts(c) if p in polys]


#: named coverages that extend 1 km beyond their communes
_BUFFERED = {"metropole-qmi-1km": 1000.0, "qmi-1km": 1000.0}


@lru_cache(maxsize=64)
def _keys(name: str, path: str) -> tuple[str, ...] | None:
    """The commune outlines whose union makes a named coverage; None for a polygon file."""
    from qmi_geo.layers.communes import communes_2026, metropole_communes

    polys = _communes()
    if name == "ile-de-france":
        return tuple(polys)
    if name == "paris-92-93-94":
        return tuple(c for c in polys if c[:2] in ("75", "92", "93", "94"))
    if name == "metropole":
        return tuple(_parts_of(metropole_communes()))
    if name == "metropole-qmi-1km":
        return tuple(_parts_of(metropole_communes() + list(QMI_COMMUNES)))
    if name in ("qmi-communes", "qmi-1km"):
        return tuple(_parts_of(list(QMI_COMMUNES)))
    kind, _, arg = name.partition(":")
    if kind == "departement":
        return tuple(c for c in polys if c.startswith(arg))
    if kind == "commune":
        return tuple(_parts_of([arg]))
    if kind == "communes":
        import pyogrio

        df = pyogrio.read_dataframe(path, read_geometry=False, columns=[arg])
        codes = {c.strip() for v in df[arg].dropna().astype(str) for c in v.split(",")}
        table = communes_2026()
        return tuple(_parts_of([c for c in codes if c in table.index or c in polys]))
    file = Path(name) if Path(name).is_absolute() else bundled_layers_dir() / name
    if file.exists():
        return None
    from qmi_geo.errors import SpecError

    known = ", ".join(NAMED_EXTENTS)
    raise SpecError(
        f"Couverture « {name} » inconnue. Couvertures nommées : {known}, departement:NN, "
        "commune:NNNNN, communes:<champ>, ou un fichier de polygones."
    )


def _union(codes: list[str]) -> shapely.Geometry:
    """The outline of these 2026 communes (their parts before mergers included)."""
    return _union_keys(tuple(_parts_of(codes)), 0.0)


def _union_keys(keys: tuple[str, ...], buffer_m: float) -> shapely.Geometry:
    polys = _communes()
    geom = shapely.union_all([polys[k] for k in keys]) if keys else shapely.Polygon()
    return geom.buffer(buffer_m) if buffer_m else geom


@lru_cache(maxsize=64)
def _named(name: str, path: str) -> shapely.Geometry:
    keys = _keys(name, path)
    if keys is None:
        import geopandas as gpd

        file = Path(name) if Path(name).is_absolute() else bundled_layers_dir() / name
        return shapely.union_all(gpd.read_file(file).to_crs(2154).geometry.values)
    return _union_keys(keys, _BUFFERED.get(name, 0.0))


@lru_cache(maxsize=256)
def _near(name: str, path: str, window: tuple[float, float, float, float]) -> shapely.Geometry:
    """The coverage ``name`` as it is inside ``window``: only the outlines that can reach it.

    A point of the window is in the union (or within its buffer) exactly when it is in (or
    near) an outline whose bounding box meets the window, widened by the buffer: the union
    of those few outlines equals the whole coverage there, without uniting the region.
    """
    keys = _keys(name, path)
    if keys is None:
        return _named(name, path)
    buffer_m = _BUFFERED.get(name, 0.0)
    x0, y0, x1, y1 = window
    pad = buffer_m + 1.0
    bounds = _commune_bounds()
    near = tuple(
        k
        for k in dict.fromkeys(keys)
        if bounds[k][0] <= x1 + pad
        and bounds[k][2] >= x0 - pad
        and bounds[k][1] <= y1 + pad
        and bounds[k][3] >= y0 - pad
    )
    return _union_keys(near, buffer_m)


def extent_geometry(src: Source) -> shapely.Geometry | None:
    """The polygon (EPSG:2154) where ``src`` is complete; None when it declares no extent."""
    names = _names(src)
    if not names:
        return None
    return _combined(names, str(src.path) if any(n.startswith("communes:") for n in names) else "")


@lru_cache(maxsize=64)
def _combined(names: tuple[str, ...], path: str) -> shapely.Geometry:
    geom = _named(names[0], path)
    for name in names[1:]:
        geom = geom.intersection(_named(name, path))
    shapely.prepare(geom)
    return geom


def quarter_share(src: Source, quarter: shapely.Geometry) -> float | None:
    """Share (0–1) of ``quarter`` inside the source's declared extent; None if undeclared.

    Computed on the part of the coverage near the quarter (:func:`_near`), the same
    polygon there as :func:`extent_geometry`'s, at a fraction of its cost.
    """
    names = _names(src)
    if not names:
        return None
    path = str(src.path) if any(n.startswith("communes:") for n in names) else ""
    x0, y0, x1, y1 = (float(v) for v in quarter.buffer(10).bounds)
    window = (x0, y0, x1, y1)
    geom = _near(names[0], path, window)
    for name in names[1:]:
        geom = geom.intersection(_near(name, path, window))
    if quarter.area == 0:
        return None
    if geom.contains(quarter):
        return 1.0
    near = shapely.clip_by_rect(geom, *window)
    share = float(shapely.intersection(quarter, near).area / quarter.area)
    return min(1.0, share)
