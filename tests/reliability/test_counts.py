"""``accepted + rejected == read`` for every reader, over every walk fixture."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import pytest

from qmi_geo.walks import import_walks

from .conftest import DEMO_WALKS, kobo_personal_csv
from .test_keep_what_can_be_kept import GARE, KML_SCHEMA, PARVIS, _umap


def _fixtures(folder: Path) -> list[Path]:
    files = sorted(p for p in DEMO_WALKS.iterdir() if p.suffix != ".md")
    files.append(kobo_personal_csv(folder / "kobo_personnes_synthetique.csv"))
    files.append(_umap(folder))
    kml = KML_SCHEMA.format(lat=GARE[0], lon=GARE[1], lat2=PARVIS[0], lon2=PARVIS[1])
    (folder / "schema_synthetique.kml").write_text(kml, encoding="utf-8")
    with zipfile.ZipFile(folder / "schema_synthetique.kmz", "w") as z:
        z.writestr("doc.kml", kml)
    files += [folder / "schema_synthetique.kml", folder / "schema_synthetique.kmz"]
    mixed = folder / "melange_synthetique.csv"
    mixed.write_text(
        "date;latitude;longitude;theme\n"
        f"31/02/2023;{GARE[0]};{GARE[1]};bruit\n"
        ";;;bruit\n"
        "15/06/2024;43.2965;5.3698;chaleur\n"
        "15/06/2024;45,0;-30,0;chaleur\n"
        "15/06/2024;48°55'55\"N;2°29'44\"E;chaleur\n"
        "15/06/2024;abc;def;chaleur\n",
        encoding="utf-8",
    )
    header = folder / "entete_synthetique.csv"
    header.write_text("latitude;longitude;theme\n", encoding="utf-8")
    files += [mixed, header]
    return files


def test_accepted_plus_rejected_is_read_for_every_fixture(tmp_path: Path, aulnay) -> None:
    files = _fixtures(tmp_path)
    assert {p.suffix for p in files} >= {".csv", ".gpx", ".geojson", ".kml", ".kmz"}
    for path in files:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the header-only file warns, on purpose
            res = import_walks(path, perimeter=aulnay)
        for s in res.summary:
            assert s.lus == s.acceptes + s.rejetes, path.name
            assert s.acceptes == (res.annotations["source_fichier"] == s.fichier).sum()
            assert s.rejetes == (res.rejects["fichier"] == s.fichier).sum()
    mixed = import_walks(tmp_path / "melange_synthetique.csv", perimeter=aulnay).summary[0]
    assert (mixed.lus, mixed.acceptes, mixed.rejetes) == (6, 2, 4)


@pytest.fixture
def aulnay():
    import geopandas as gpd

    from .conftest import REPO

    communes = gpd.read_file(
        REPO / "layers" / "admin_express_2018_gregoiredavid" / "communes_qmi.gpkg",
        layer="communes_qmi",
    )
    return communes[communes["code"] == "93005"].reset_index(drop=True)
