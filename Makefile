# Two commands matter: `make reproduce` (regenerate the paper's figures and tables, CPU profile)
# and `make test` (the whole test suite). Both create the environment in .venv when needed.

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.lmf-installed
KERNEL  := $(VENV)/.lmf-kernel
PROFILE ?= cpu
# extra pytest arguments, e.g. make test PYTEST_ARGS='-m "not slurm"' (skip the SLURM cluster)
PYTEST_ARGS ?=

.PHONY: setup reproduce test lab bench lint clean

setup: $(STAMP) $(KERNEL)
	@:

# Re-install only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "Installing lmf and its dependencies into $(VENV) (first time: a few minutes)..."
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# A Jupyter kernel "Python (lmf)" for this environment, in the user's Jupyter folder, so the
# notebooks find lmf from any Jupyter (remove: jupyter kernelspec remove lmf).
$(KERNEL): $(STAMP)
	@$(PY) -m ipykernel install --user --name lmf --display-name "Python (lmf)" >/dev/null
	@echo "Registered the Jupyter kernel 'Python (lmf)' ($(VENV))"
	@touch $@

reproduce: setup
	$(VENV)/bin/lmf reproduce --profile $(PROFILE)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# JupyterLab at the repository root: notebooks/, README.md, figures/ and data/ side by side.
lab: setup
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)"

bench: setup
	$(PY) benchmarks/run_all.py

lint: setup
	$(VENV)/bin/ruff check .

# Only what git does not track: the run store, caches, figures of other profiles. Tracked files
# (figures/cpu/, data/paper/) and the raw datasets under data/ stay.
clean:
	rm -rf results/ .pytest_cache/ .ruff_cache/ data/cache/
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then git clean -fdxq -- figures/; fi
