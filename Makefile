# `make demo` and `make test` work on a fresh machine: they create .venv/
# and install the pinned dependency set before doing anything else.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

export DAGSTER_HOME ?= $(CURDIR)/.ampelios/dagster_home
export AMPELIOS_OUTPUT_DIR ?= $(CURDIR)/.ampelios/data

DEMO_EVENTS := init-data/events.csv
# The real Retailrocket events.csv has this many visitors.
DEMO_VISITORS := 1407580

.PHONY: install postgresql chromium demo test test-fast dev benchmark clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable '.[test]'
	touch $@

# The tests start a PostgreSQL server of their own from Debian's binaries.
postgresql:
	sh scripts/install-postgresql.sh

chromium:
	@if [ ! -x $(CHROMIUM) ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; fi

demo: $(INSTALLED)
	@if [ ! -f $(DEMO_EVENTS) ]; then \
		echo "no $(DEMO_EVENTS); generating $(DEMO_VISITORS) visitors of synthetic events there"; \
		$(BIN)/ampelios generate --visitors $(DEMO_VISITORS) --out $(DEMO_EVENTS); \
	fi
	$(BIN)/ampelios run --events $(DEMO_EVENTS) --source-id 1

# The HTML report test opens the report in headless Chromium (Debian's package).
CHROMIUM := /usr/bin/chromium

test: $(INSTALLED) postgresql chromium
	$(BIN)/python -m pytest -q

# Skip the full-size tests while iterating.
test-fast: $(INSTALLED) postgresql
	$(BIN)/python -m pytest -q -m 'not slow'

dev: $(INSTALLED)
	$(BIN)/dagster dev -w workspace.yaml --host 127.0.0.1

benchmark: $(INSTALLED)
	$(BIN)/python benchmarks/pipeline.py

clean:
	rm -rf .ampelios
