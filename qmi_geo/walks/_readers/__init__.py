"""Readers for the files field tools produce; :func:`read_walk_file` picks one by extension."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qmi_geo.errors import WalkError
from qmi_geo.walks._readers._raw import RawWalk
from qmi_geo.walks._readers._tabular import read_csv_walk, read_xlsx_walk
from qmi_geo.walks._readers._vector import (
    read_geojson_walk,
    read_gpx_walk,
    read_kml_walk,
    read_ogr_walk,
)

__all__ = ["READERS", "RawWalk", "read_walk_file"]

READERS: dict[str, Callable[[Path], RawWalk]] = {
    ".csv": read_csv_walk,
    ".tsv": read_csv_walk,
    ".txt": read_csv_walk,
    ".xlsx": read_xlsx_walk,
    ".xlsm": read_xlsx_walk,
    ".geojson": read_geojson_walk,
    ".json": read_geojson_walk,
    ".umap": read_geojson_walk,
    ".kml": read_kml_walk,
    ".kmz": read_kml_walk,
    ".gpx": read_gpx_walk,
    ".gpkg": read_ogr_walk,
    ".shp": read_ogr_walk,
}


def read_walk_file(path: str | Path) -> RawWalk:
    r"""Read one walk file into its raw rows and route, without validating them.

    Parameters
    ----------
    path : str or pathlib.Path
        A CSV/TSV, XLSX, GeoJSON (uMap), KML/KMZ, GPX, GeoPackage or Shapefile.

    Returns
    -------
    RawWalk
        Attribute table, coordinates as read, source row numbers, route.

    Raises
    ------
    qmi_geo.errors.WalkError
        The file does not exist, has an unsupported extension or cannot be read at all.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "marche_synthetique.csv"
    >>> _ = tmp.write_text("latitude;longitude;theme\n48,9322;2,4955;trop chaud\n")
    >>> raw = read_walk_file(tmp)
    >>> len(raw), float(raw.y[0]), int(raw.lines[0])
    (1, 48.9322, 2)
    """
    path = Path(path)
    if not path.is_file():
        raise WalkError(f"Fichier de marche introuvable : {path}. Vérifiez le chemin.")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise WalkError(
            f"Format non reconnu pour {path.name} (extension « {path.suffix} »). Formats lus : "
            f"{', '.join(sorted(READERS))}."
        )
    return reader(path)
