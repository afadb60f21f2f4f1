"""Allow ``python -m qmi_geo``."""

from qmi_geo.cli.main import main

main()
