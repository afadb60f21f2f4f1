"""The ``qmi`` command line: one module per subcommand, no logic of its own."""
