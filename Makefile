# reviewdesk — every target creates .venv itself, so a fresh clone needs nothing but python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamps record which extras were installed against which pyproject.toml.
RUN_STAMP  := $(VENV)/.stamp-run
TEST_STAMP := $(VENV)/.stamp-test

.PHONY: help demo test lint fmt bench smoke installer gui clean

help:
	@echo "make demo       create .venv, install, open the demo project in the GUI"
	@echo "make test       create .venv with test extras, run the whole suite headless"
	@echo "make lint       ruff check, ruff format --check, mypy"
	@echo "make bench      run the benchmarks in benchmarks/ (prints figures and ratios)"
	@echo "make smoke      screenshot tests under a virtual screen"
	@echo "make installer  PyInstaller one-folder build plus its smoke test"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(RUN_STAMP)

demo: $(RUN_STAMP)
	$(BIN)/python -m reviewdesk.ui.preflight
	$(BIN)/reviewdesk demo

test: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

smoke: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -m smoke

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks sample_projects installer
	$(BIN)/ruff format --check src tests benchmarks sample_projects installer
	$(BIN)/mypy

fmt: $(TEST_STAMP)
	$(BIN)/ruff format src tests benchmarks sample_projects installer
	$(BIN)/ruff check --fix src tests benchmarks sample_projects installer

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
