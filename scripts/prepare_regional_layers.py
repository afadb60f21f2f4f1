"""Build the region-wide layers of ``layers/regional_idf/`` from the staged open data.

Not run by the product or the tests: it documents (and reproduces) how the committed files
were made. Usage::

    python scripts/prepare_regional_layers.py /path/to/shared/data [etalab-tarball.tgz]

The optional tarball is ``npm pack @etalab/decoupage-administratif@6.0.0``: its
``data/communes.json`` gives ``communes_france_2026.csv.gz`` (code, name, département and
region of every current French commune), so that a commune outside Île-de-France is told so.

Inputs are the folders ``regional_idf/``, ``etalab_decoupage_administratif/``,
``ipr_icu_cerema_lcz_codes_postaux/`` and ``admin_express_2018_gregoiredavid/`` described in
that folder's SOURCES.md (sections 1, 15, 16, 19). Outputs (all EPSG:2154):

* ``iris_idf.parquet`` (GeoParquet) — the 5,264 IRIS of the region with RP 2021 housing,
  Filosofi 2021, the MOS sealed share (75/92/93/94) and ``population_estimee``: the commune's
  INSEE population (2026 package) distributed over its IRIS in proportion to their dwellings
  (RP 2021), so that it sums to the INSEE figure; ``insee_com`` is the 2026 commune (Paris
  arrondissements -> 75056, Pierrefitte-sur-Seine 93059 -> Saint-Denis 93066), the IRIS's own
  code is kept in ``insee_com_iris``.
* ``ipr_nuisances_500m_mgp.gpkg`` / ``mailles_500m`` — the IPR nuisance grid clipped to the
  Métropole and the ten QMI communes + 1 km (cells intersecting, kept whole).
* ``idfm_gares_idf.gpkg``, ``osm_gares_idf_2026.gpkg``, ``colleges_idf.gpkg`` — region-wide,
  fewer columns.
* ``communes_idf_2026.csv``, ``ept_mgp_2026.csv``, ``cartofriches_communes_idf.csv`` and the
  two heat CSVs per postal code — copied verbatim.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "layers" / "regional_idf"
QMI = ["93005", "92048", "93051", "92071", "93001", "94071", "94033", "95018", "91027", "92040"]


def commune_of_iris(insee_iris: pd.Series, communes: pd.DataFrame) -> pd.Series:
    """The 2026 commune of each IRIS code's commune (arrondissements, absorbed communes)."""
    current = set(communes["insee"])
    old_to_new: dict[str, str] = {}
    for row in communes.itertuples():
        for old in str(row.anciens_codes or "").split():
            if old not in current:
                old_to_new[old] = row.insee
    out = insee_iris.map(lambda c: old_to_new.get(c, c))
    return out.where(~out.str.startswith("751"), "75056")


def estimate_population(iris: pd.DataFrame, communes: pd.DataFrame) -> pd.Series:
    """INSEE commune population spread over its IRIS in proportion to their dwellings."""
    pop = communes.set_index("insee")["population_municipale"].astype(float)
    dwellings = pd.to_numeric(iris["rp2021_total_logements"], errors="coerce").fillna(0.0)
    total = dwellings.groupby(iris["insee_com"]).transform("sum")
    area = iris.geometry.area
    area_total = area.groupby(iris["insee_com"]).transform("sum")
    share = np.where(total > 0, dwellings / total.where(total > 0, 1.0), area / area_total)
    raw = iris["insee_com"].map(pop).to_numpy(dtype=float) * share
    # integers that still sum to the INSEE figure per commune (largest remainders)
    est = np.floor(raw)
    frame = pd.DataFrame({"c": iris["insee_com"].to_numpy(), "raw": raw, "est": est})
    for _, grp in frame.groupby("c"):
        if grp["raw"].isna().all():
            continue
        missing = int(np.rint(grp["raw"].sum() - grp["est"].sum()))
        order = (grp["raw"] - grp["est"]).sort_values(ascending=False).index[:missing]
        frame.loc[order, "est"] += 1
    return pd.Series(frame["est"].to_numpy(), index=iris.index).astype("Int64")


def france_communes(tarball: Path) -> None:
    """Names of every current commune of France, from the Etalab npm package."""
    import json
    import tarfile

    with tarfile.open(tarball) as tar:
        member = tar.extractfile("package/data/communes.json")
        assert member is not None
        data = json.load(member)
    rows = [
        (c["code"], c["nom"], c.get("departement", ""), c.get("region", ""))
        for c in data
        if c.get("type") == "commune-actuelle"
    ]
    frame = pd.DataFrame(rows, columns=["insee", "nom", "departement", "region"])
    frame.to_csv(OUT / "communes_france_2026.csv.gz", sep=";", index=False, compression="gzip")


def main(shared: Path) -> None:
    """Write every file of ``layers/regional_idf/``."""
    OUT.mkdir(parents=True, exist_ok=True)
    reg = shared / "regional_idf"
    etalab = shared / "etalab_decoupage_administratif"
    heat = shared / "ipr_icu_cerema_lcz_codes_postaux"
    communes = pd.read_csv(etalab / "communes_idf_2026.csv", sep=";", dtype=str)
    for f in ("communes_idf_2026.csv", "ept_mgp_2026.csv"):
        shutil.copyfile(etalab / f, OUT / f)
    shutil.copyfile(reg / "cartofriches_communes_idf.csv", OUT / "cartofriches_communes_idf.csv")
    for f in (
        "codes_postaux_heat_stress_ipr_icu.csv",
        "codes_postaux_heat_sensitivity_cerema_lcz.csv",
    ):
        shutil.copyfile(heat / f, OUT / f)

    iris = gpd.read_file(reg / "iris_idf.gpkg", layer="iris_idf")
    iris["insee_com_iris"] = iris["insee_com"]
    iris["insee_com"] = commune_of_iris(iris["insee_com"], communes)
    iris["population_estimee"] = estimate_population(iris, communes)
    iris.to_parquet(OUT / "iris_idf.parquet", compression="zstd")  # half the GeoPackage

    geo = gpd.read_file(shared / "admin_express_2018_gregoiredavid/communes_ile-de-france.geojson")
    geo = geo.to_crs(2154)
    mgp = set(communes.loc[communes["membre_mgp"] == "1", "insee"]) | {"93059"} | set(QMI)
    area = geo[geo["code"].isin(mgp)].geometry.union_all().buffer(1000)
    cells = gpd.read_file(reg / "ipr_nuisances_500m_idf.gpkg", layer="mailles_500m")
    cells = cells[cells.intersects(area)]
    cells.to_file(OUT / "ipr_nuisances_500m_mgp.gpkg", layer="mailles_500m", driver="GPKG")

    keep = ["nom_long", "nom_zdc", "id_ref_zdc", "res_com", "mode", "exploitant", "principal"]
    gares = gpd.read_file(reg / "idfm_gares_idf.gpkg")
    gares[[*keep, "geometry"]].to_file(OUT / "idfm_gares_idf.gpkg", layer="gares_idf")
    shutil.copyfile(reg / "osm_gares_idf_2026.gpkg", OUT / "osm_gares_idf_2026.gpkg")
    cols = [
        "numero_uai",
        "appellation_officielle",
        "secteur_public_prive_libe",
        "nature_uai_libe",
        "etat_etablissement_libe",
        "code_commune",
        "libelle_commune",
        "ips_2023",
        "ips_ecart_type_2023",
    ]
    colleges = gpd.read_file(reg / "colleges_idf.gpkg")
    colleges[[*cols, "geometry"]].to_file(OUT / "colleges_idf.gpkg", layer="colleges_idf")
    for path in sorted(OUT.iterdir()):
        print(f"{path.name:<50} {path.stat().st_size / 1e6:6.2f} Mo")


#: OSM station types kept in the complement (mainline "train" stops are left out: the IDFM
#: file has the Transilien network, and OSM "train" also tags tourist railways)
OSM_MODE = {"metro": "METRO", "rer": "RER", "transilien": "TRAIN", "tram": "TRAM"}
RAIL_FAMILY = ("RER", "TRAIN", "TER")


def osm_complement(
    osm: gpd.GeoDataFrame, idfm: gpd.GeoDataFrame, radius: float = 400.0
) -> gpd.GeoDataFrame:
    """OSM stations the IDFM 2024 file lacks (lines opened since, e.g. metro 14 to Pleyel).

    An OSM station is kept when no IDFM station within ``radius`` serves its mode (for the
    metro: every one of its line numbers).
    """
    import re

    keep = []
    tree = idfm.sindex
    for row in osm.itertuples():
        mode = OSM_MODE.get(str(row.type))
        if mode is None:
            keep.append(False)
            continue
        near = idfm.iloc[tree.query(row.geometry.buffer(radius), predicate="intersects")]
        served = " / ".join(near["res_com"].astype(str))
        if mode == "METRO":
            numbers = re.findall(r"\b(\d{1,2}(?:bis)?)\b", str(row.lines or ""))
            keep.append(any(f"METRO {n}" not in served for n in numbers) if numbers else False)
        else:
            modes = " ".join(near["mode"].astype(str))
            family = RAIL_FAMILY if mode in RAIL_FAMILY else (mode,)
            keep.append(not any(m in modes for m in family))
    out = osm[np.array(keep, dtype=bool)].copy()
    out["res_com"] = [
        f"{OSM_MODE[t]} {ln}".strip()
        for t, ln in zip(out["type"], out["lines"].fillna(""), strict=True)
    ]
    out["mode"] = out["type"].map(OSM_MODE)
    return out


def write_osm_complement() -> None:
    """``osm_gares_complement_2026.gpkg``: OSM stations missing from the IDFM file."""
    osm = gpd.read_file(OUT / "osm_gares_idf_2026.gpkg")
    idfm = gpd.read_file(OUT / "idfm_gares_idf.gpkg")
    out = osm_complement(osm, idfm)
    out.to_file(OUT / "osm_gares_complement_2026.gpkg", layer="osm_gares_complement")
    print(
        f"OSM stations missing from IDFM: {len(out)}: {', '.join(sorted(set(out['name'])))[:600]}"
    )


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        raise SystemExit("usage: python scripts/prepare_regional_layers.py <shared/data> [tgz]")
    if len(sys.argv) == 3:
        france_communes(Path(sys.argv[2]))
    main(Path(sys.argv[1]))
    write_osm_complement()
