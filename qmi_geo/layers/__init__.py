"""Reading, validating and normalising the layers of a diagnostic.

Only this subpackage and :mod:`qmi_geo.walks` read input files. Every layer goes through the
same checks (:mod:`qmi_geo._validate`) and comes out in Lambert-93 with its kind's canonical
fields (:mod:`qmi_geo.layers._schemas`).
"""

from qmi_geo.layers._normalise import clip_to, map_fields, normalise_layer
from qmi_geo.layers._read import RasterInfo, read_csv_points, read_raster_info, read_vector
from qmi_geo.layers._schemas import KINDS, FieldSpec, LayerKind
from qmi_geo.layers.catalogue import Source, bundled_layers_dir, load_catalogue

__all__ = [
    "KINDS",
    "FieldSpec",
    "LayerKind",
    "RasterInfo",
    "Source",
    "bundled_layers_dir",
    "clip_to",
    "load_catalogue",
    "map_fields",
    "normalise_layer",
    "read_csv_points",
    "read_raster_info",
    "read_vector",
]
