# Two commands matter: `make reproduce` (regenerate the paper's figures and tables, CPU profile)
# and `make test` (the whole test suite). Both create the environment in .venv when needed.

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.lmf-installed
PROFILE ?= cpu

.PHONY: setup reproduce test lab bench lint clean

setup: $(STAMP)
	@:

# Re-install only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "Installing lmf and its dependencies into $(VENV) (first time: a few minutes)..."
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

reproduce: setup
	$(VENV)/bin/lmf reproduce --profile $(PROFILE)

test: setup
	$(PY) -m pytest

lab: setup
	$(VENV)/bin/jupyter lab notebooks/

bench: setup
	$(PY) benchmarks/run_all.py

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf results/ .pytest_cache/ figures/*/
