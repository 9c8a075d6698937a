# ehr2omop: the two commands are `make demo` and `make test`. Everything else is optional.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_PATIENTS ?= 200
DEMO_SEED ?= 42
DEMO_EXTRACT := .ehr2omop/demo-extract
# Patient counts of `make bench` (comma-separated); BENCH_ARGS e.g. "--keep --seed 7"
PATIENTS ?= 1000,10000,100000
BENCH_ARGS ?=
export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: help venv demo run bench test pytest lint fmt setup db-start db-stop clean

help:
	@echo "make demo   - install, start the embedded PostgreSQL, build the demo OMOP CDM"
	@echo "make test   - the whole test suite (pytest with real dbt builds, then lint)"
	@echo "make run EXTRACT=<dir|zip> VOCAB=<athena dir|zip>  - build your own extract"
	@echo "make bench [PATIENTS=1000,10000]  - benchmark: generate, load, dbt build vs the copy floor; table + JSON"
	@echo "make lint | fmt | setup | clean"

# The virtual environment, rebuilt when pyproject.toml changes.
venv: $(STAMP)
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: venv
	$(BIN)/ehr2omop db start
	$(BIN)/ehr2omop generate synthea --patients $(DEMO_PATIENTS) --seed $(DEMO_SEED) --out $(DEMO_EXTRACT)
	$(BIN)/ehr2omop run --extract $(DEMO_EXTRACT) --vocab demo

run: venv
	@test -n "$(EXTRACT)" -a -n "$(VOCAB)" || { echo "error: usage: make run EXTRACT=<synthea dir|zip> VOCAB=<athena dir|zip>" >&2; exit 2; }
	$(BIN)/ehr2omop db start
	$(BIN)/ehr2omop run --extract "$(EXTRACT)" --vocab "$(VOCAB)"

bench: venv
	$(BIN)/ehr2omop db start
	$(BIN)/ehr2omop bench --patients $(PATIENTS) $(BENCH_ARGS)

test: venv
	$(BIN)/ehr2omop db start
	$(MAKE) pytest
	$(MAKE) lint

pytest: venv
	$(BIN)/python -m pytest tests/python

lint: venv
	$(BIN)/ruff check scripts tests
	$(BIN)/ruff format --check scripts tests
	$(BIN)/ehr2omop db start >/dev/null
	@# sqlfluff skips (exit 0) a file dbt cannot compile: treat that as a failure
	$(BIN)/sqlfluff lint models tests/dbt analyses --templater dbt 2>&1 | tee .ehr2omop/sqlfluff.log
	@! grep -q "Skipped file .* because dbt raised" .ehr2omop/sqlfluff.log || { echo "error: sqlfluff could not compile some files (see above)" >&2; exit 1; }

fmt: venv
	$(BIN)/ruff check --fix scripts tests
	$(BIN)/ruff format scripts tests
	$(BIN)/ehr2omop db start >/dev/null
	$(BIN)/sqlfluff fix models tests/dbt analyses --templater dbt

setup: venv
	$(BIN)/pre-commit install

db-start: venv
	$(BIN)/ehr2omop db start

db-stop: venv
	$(BIN)/ehr2omop db stop

clean:
	-$(BIN)/ehr2omop db stop
	rm -rf .ehr2omop target logs
