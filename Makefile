# reviewdesk — every target creates .venv itself, so a fresh clone needs nothing but python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamps record which extras were installed against which pyproject.toml.
RUN_STAMP  := $(VENV)/.stamp-run
TEST_STAMP := $(VENV)/.stamp-test
INSTALLER_STAMP := $(VENV)/.stamp-installer

.PHONY: help demo test lint fmt bench smoke installer dist gui clean

help:
	@echo "make demo       create .venv, install, open the demo project in the GUI"
	@echo "make test       create .venv with test extras, run the whole suite headless"
	@echo "make lint       ruff check, ruff format --check, mypy"
	@echo "make bench      run the benchmarks in benchmarks/ (prints figures and ratios)"
	@echo "make smoke      screenshot tests under a virtual screen"
	@echo "make installer  PyInstaller one-folder build, smoke test, dist/reviewdesk-*.tar.gz"
	@echo "make dist       wheel and sdist into dist/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(RUN_STAMP)

$(INSTALLER_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[installer]'
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

# installer/README.md: build/pyinstaller/ is PyInstaller's work folder, dist/ the results.
installer: $(INSTALLER_STAMP)
	$(BIN)/python installer/build.py

dist: $(TEST_STAMP)
	$(BIN)/hatchling build -t wheel -t sdist -d dist

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
