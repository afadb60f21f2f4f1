# qmi_geo — two commands: `make demo` (set up + run a diagnostic) and `make test`.
# Both create a local virtual environment (.venv) from nothing on the first run.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= diagnostics/meudon.toml

.PHONY: demo livrables test test-long install check lint typecheck bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian package python3-venv (needed to create .venv)"; \
	    apt-get update -qq && apt-get install -y -qq python3-venv; \
	  else \
	    echo "Python's venv module is missing: run 'sudo apt-get install python3-venv' and retry."; exit 1; \
	  fi; }
	@{ ls /usr/lib/*/libpangoft2-1.0.so.0 && ls /usr/lib/*/libharfbuzz-subset.so.0; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian packages libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 (PDF livrable)"; \
	    apt-get update -qq && apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; \
	  else \
	    echo "Note: the PDF livrable needs Pango: 'sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0'."; \
	  fi; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all,test]"
	@touch $(STAMP)

install: $(STAMP)

## The main job: a full diagnostic of a bundled pilot commune (outputs in maps/<commune>/).
demo: $(STAMP)
	$(BIN)/qmi diagnose $(DEMO)

## The livrables of the four pilot communes (PDF + HTML each) and the global livrable.
PILOTS := aulnay-sous-bois meudon noisy-le-grand sceaux
livrables: $(STAMP)
	for c in $(PILOTS); do $(BIN)/qmi diagnose diagnostics/$$c.toml || exit 1; done
	$(BIN)/qmi rapport --global $(foreach c,$(PILOTS),diagnostics/$(c).toml) diagnostics/issy-les-moulineaux.toml

lint: $(STAMP)
	$(BIN)/ruff check qmi_geo tests scripts
	$(BIN)/ruff format --check qmi_geo tests scripts

typecheck: $(STAMP)
	$(BIN)/mypy

## The whole test suite (lint, types, unit, integration and headless-browser tests).
test: lint typecheck
	$(BIN)/python -m pytest

## Real-data runs too long for the default test run (CI runs them after `make test`).
test-long: $(STAMP)
	$(BIN)/python -m pytest -m long; status=$$?; [ $$status -eq 0 ] || [ $$status -eq 5 ]

## Benchmarks (not tests): write BENCHMARKS.md.
bench: $(STAMP)
	@status=0; for script in scripts/bench_*.py; do \
	  echo "== $$script"; $(BIN)/python $$script || { echo "FAILED: $$script"; status=1; }; \
	done; exit $$status

clean:
	rm -rf $(VENV) maps .pytest_cache .mypy_cache .ruff_cache
