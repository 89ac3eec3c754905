# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench install dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

## run: migrate a SQLite database under var/, load demo data, start the web app and the scheduler
run: install
	$(BIN)/python -m registry.launcher --host $(HOST) --port $(PORT)

## test: install dev dependencies and run the whole suite (TEST_DATABASE_URL=postgresql://... for PG)
test: dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: synthetic network, gunicorn on 127.0.0.1, load from a second process (docs/performance.md)
## BENCH_SCALE=10 for ten times the people; BENCH_ARGS="--compare ../base" for a side-by-side run
BENCH_SCALE ?= 1
bench: dev
	$(BIN)/python -m bench.run --scale $(BENCH_SCALE) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
