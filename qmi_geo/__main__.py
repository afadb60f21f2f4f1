"""Allow ``python -m qmi_geo``."""

try:
    from qmi_geo.cli.main import main
except KeyboardInterrupt:  # Ctrl-C while the command line is being imported
    from qmi_geo._interrupt import report_and_exit

    report_and_exit()

main()
