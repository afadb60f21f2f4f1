"""Heavy libraries are imported on use only: the pipeline and the web map stay light."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("sklearn", "matplotlib", "folium")


def _imported(code: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "qmi_geo" in names  # the import really ran and was traced
    return names


def test_pipeline_imports_no_sklearn_matplotlib_or_folium() -> None:
    names = _imported("import qmi_geo.pipeline")
    assert not names & set(HEAVY), sorted(names & set(HEAVY))


@pytest.mark.parametrize(
    ("code", "absent"),
    [
        ("import qmi_geo.maps; import qmi_geo.walks.stage", HEAVY),
        (
            "import qmi_geo.walks.analysis as a, numpy as np; "
            "a.dbscan_labels(np.zeros((5, 2)), eps=1, min_samples=2)",
            ("sklearn",),
        ),
        ("from qmi_geo.maps import build_web_map", ("matplotlib", "sklearn")),
    ],
)
def test_stages_import_heavy_libraries_only_when_drawing(
    code: str, absent: tuple[str, ...]
) -> None:
    names = _imported(code)
    assert not names & set(absent), sorted(names & set(absent))
