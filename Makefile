# Two commands matter: `make reproduce` (regenerate the paper's figures and tables, CPU profile)
# and `make test` (the whole test suite). Both create the environment in .venv when needed.

VENV    := .venv
PY      := $(VENV)/bin/python
# the Python the environment is made with; requirements.lock is resolved for 3.11
PYTHON  ?= python3
LOCK    := requirements.lock
STAMP   := $(VENV)/.lmf-installed
KERNEL  := $(VENV)/.lmf-kernel
PROFILE ?= cpu
# extra pytest arguments, e.g. make test PYTEST_ARGS='-m "not slurm"' (skip the SLURM cluster)
PYTEST_ARGS ?=

.PHONY: setup lock reproduce test lab book bench lint clean

setup: $(STAMP) $(KERNEL)
	@:

# The locked versions exactly, then lmf itself without resolving anything again; re-install
# only when the lock or pyproject.toml changed since the last install.
$(STAMP): $(LOCK) pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	  echo "$(LOCK) is resolved for Python 3.11 and $(VENV) has Python $$($(PY) -c 'import platform; print(platform.python_version())')."; \
	  echo "Remove $(VENV) and run: make setup PYTHON=python3.11"; exit 1; }
	@echo "Installing the locked environment into $(VENV) (first time: a few minutes)..."
	@$(PY) -m pip install --quiet --disable-pip-version-check -r $(LOCK)
	@$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# Resolve requirements.lock again from pyproject.toml (run it after changing a dependency, then
# make setup); tests/core/test_lock.py fails while the two disagree.
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --no-header --quiet -o $(LOCK)

# A Jupyter kernel "Python (lmf)" for this environment, in the user's Jupyter folder, so the
# notebooks find lmf from any Jupyter (remove: jupyter kernelspec remove lmf); it starts with the
# pinned CPU numerics of lmf.core.numerics in its environment.
$(KERNEL): $(STAMP)
	@$(PY) -m ipykernel install --user --name lmf --display-name "Python (lmf)" \
	  $$($(PY) -c 'from lmf.core.numerics import PINNED; print(*(f"--env {k} {v}" for k, v in PINNED.items()))') >/dev/null
	@echo "Registered the Jupyter kernel 'Python (lmf)' ($(VENV))"
	@touch $@

reproduce: setup
	$(VENV)/bin/lmf reproduce --profile $(PROFILE)

# One pytest worker per core (pytest-xdist): the notebooks execute on one of them while the others
# run the rest of the suite (tests/conftest.py groups the tests); PYTEST_ARGS='-n0' runs serially.
test: setup
	$(PY) -m pytest -n auto --dist loadscope $(PYTEST_ARGS)

# JupyterLab at the repository root: notebooks/, README.md, figures/ and data/ side by side.
lab: setup
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)"

# The static website of the committed notebooks (not executed), offline, into _build/book/html/;
# prints its index.html last (lmf/site.py).
book: setup
	$(PY) -m lmf.site

bench: setup
	$(PY) benchmarks/run_all.py

lint: setup
	$(VENV)/bin/ruff check .

# Only what git does not track: the run store, caches, figures of other profiles. Tracked files
# (figures/cpu/, data/paper/) and the raw datasets under data/ stay.
clean:
	rm -rf results/ .pytest_cache/ .ruff_cache/ data/cache/ _build/
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then git clean -fdxq -- figures/; fi
