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
    import geopandas as gpd

    path = bundled_layers_dir() / "admin_express_2018_gregoiredavid/communes_ile-de-france.geojson"
    gdf = gpd.read_file(path, engine="pyogrio").to_crs(2154)
    geoms = shapely.make_valid(gdf.geometry.values)
    return dict(zip(gdf["code"].astype(str), geoms, strict=True))


def _union(codes: list[str]) -> shapely.Geometry:
    from qmi_geo.layers.communes import commune_parts

    polys = _communes()
    parts = [polys[p] for c in codes for p in commune_parts(c) if p in polys]
    return shapely.union_all(parts) if parts else shapely.Polygon()


@lru_cache(maxsize=64)
def _named(name: str, path: str) -> shapely.Geometry:
    from qmi_geo.layers.communes import communes_2026, metropole_communes

    polys = _communes()
    if name == "ile-de-france":
        return shapely.union_all(list(polys.values()))
    if name == "paris-92-93-94":
        return shapely.union_all([g for c, g in polys.items() if c[:2] in ("75", "92", "93", "94")])
    if name == "metropole":
        return _union(metropole_communes())
    if name == "metropole-qmi-1km":
        return _union(metropole_communes() + list(QMI_COMMUNES)).buffer(1000)
    if name == "qmi-communes":
        return _union(list(QMI_COMMUNES))
    if name == "qmi-1km":
        return _union(list(QMI_COMMUNES)).buffer(1000)
    kind, _, arg = name.partition(":")
    if kind == "departement":
        return shapely.union_all([g for c, g in polys.items() if c.startswith(arg)])
    if kind == "commune":
        return _union([arg])
    if kind == "communes":
        import pyogrio

        df = pyogrio.read_dataframe(path, read_geometry=False, columns=[arg])
        codes = {c.strip() for v in df[arg].dropna().astype(str) for c in v.split(",")}
        table = communes_2026()
        return _union([c for c in codes if c in table.index or c in polys])
    file = Path(name) if Path(name).is_absolute() else bundled_layers_dir() / name
    if file.exists():
        import geopandas as gpd

        return shapely.union_all(gpd.read_file(file).to_crs(2154).geometry.values)
    from qmi_geo.errors import SpecError

    known = ", ".join(NAMED_EXTENTS)
    raise SpecError(
        f"Couverture « {name} » inconnue. Couvertures nommées : {known}, departement:NN, "
        "commune:NNNNN, communes:<champ>, ou un fichier de polygones."
    )


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
    """Share (0–1) of ``quarter`` inside the source's declared extent; None if undeclared."""
    geom = extent_geometry(src)
    if geom is None or quarter.area == 0:
        return None
    if geom.contains(quarter):
        return 1.0
    near = shapely.clip_by_rect(geom, *quarter.buffer(10).bounds)
    share = float(shapely.intersection(quarter, near).area / quarter.area)
    return min(1.0, share)
