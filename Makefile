PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck run run-emulator catalog clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: install
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -q

lint: install
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

typecheck: install
	$(BIN)/mypy

catalog: install
	$(BIN)/python -m pycoupa.catalog.build --openapi ../shared/coupa-openapi/R39 --scopes ../shared/seeds/000_939ad20a2dd80c15.txt

run: install
	$(BIN)/pycoupa serve --demo --host 127.0.0.1 --port 8000

run-emulator: install
	$(BIN)/pycoupa emulator serve --host 127.0.0.1 --port 8765 --demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
