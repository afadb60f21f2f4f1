"""Build ``layers/reference_metropole.csv``: every indicator of the 130 communes, median, rank.

Usage::

    python scripts/build_reference_metropole.py            # runs qmi metropole (2 workers)
    python scripts/build_reference_metropole.py maps/metropole   # from an earlier run

The table is one ``qmi metropole`` run over the 130 communes of the Métropole (each commune
diagnosed as ``qmi diagnose`` does): ``insee;code;valeur;rang;mediane;n``. ``qmi diagnose``
reads it to put each quarter's figures beside its commune and the Métropole; the test
``tests/metropole/test_batch.py`` checks it against a fresh computation (a few communes in
the default run, all 130 in ``make test-long``). Rebuild it when an indicator changes.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from qmi_geo.layers.catalogue import bundled_layers_dir
from qmi_geo.layers.communes import metropole_communes


def main() -> None:
    """Run (or reuse) the metropolitan batch and copy its reference table into layers/."""
    target = bundled_layers_dir() / "reference_metropole.csv"
    if len(sys.argv) > 1:
        source = Path(sys.argv[1]) / "reference_metropole.csv"
    else:
        from qmi_geo.metropole import run_metropole

        out = Path(tempfile.mkdtemp(prefix="qmi_metropole_"))
        result = run_metropole(metropole_communes(), out, n_workers=2)
        if result.failures:
            raise SystemExit(f"{len(result.failures)} commune(s) en échec : {result.failures}")
        source = out / "reference_metropole.csv"
    shutil.copyfile(source, target)
    print(f"{target} ({target.stat().st_size / 1e3:.0f} ko)")


if __name__ == "__main__":
    main()
