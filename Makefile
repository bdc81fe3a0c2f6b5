# The template repository's two entry points (see README.md):
#   make demo   render a demo project from this checkout and run its pipeline locally
#   make test   the template's own test suite (renders projects and runs their tests)
PYTHON ?= python3.11
VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python
DEMO := build/demo
export NO_MKDOCS_2_WARNING := 1

.DEFAULT_GOAL := help
.PHONY: help check-java setup setup-parts demo test test-static test-spark docs bench runtime-check clean

help:
	@echo "make demo   render a demo project into $(DEMO) and run its pipeline locally"
	@echo "make test   run the template's test suite: both tiers"
	@echo "make test-static  the static tier only (no JVM; a few minutes)"
	@echo "make test-spark   the Spark tier only (generated suite, stand-in, pipelines)"
	@echo "make docs   build the documentation site into site/"
	@echo "make bench  print the benchmark tables (foundation, lifecycle, update)"
	@echo "make runtime-check  the demo project on the stand-in Databricks runtime (table per task)"

check-java:
	@java -version 2>&1 | grep -Eq 'version "17[."]' || { \
	  echo "error: Java 17 is required (Spark 4 runs on it): install a JDK 17 and put its java on PATH" >&2; \
	  exit 1; }
	@command -v git >/dev/null || { echo "error: git is required" >&2; exit 1; }

# uv installs the environments below: it downloads in parallel and installs from its
# cache, minutes faster than pip on a fresh machine (make setup's longest part). Pinned
# exactly, installed from PyPI with the machine's Python 3.11 (nothing else needed).
UV_VERSION := 0.13.9
# The machine's certificate store, as pip's (a proxy's CA is there, not in uv's own list).
export UV_SYSTEM_CERTS := 1
UV_BIN := .tools/uv/bin/uv
UV := $(CURDIR)/$(UV_BIN)
$(UV_BIN):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --target .tools/uv uv==$(UV_VERSION)

# One environment for the template's tools and for every rendered project's tests. It
# keeps pip (--seed): the tests build wheels with it, as the generated project does.
$(VENV)/.installed: requirements-dev.txt | $(UV_BIN)
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(UV) venv --quiet --seed --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip install --quiet --python $(PY) -r requirements-dev.txt
	touch $@

# dbx in its own environment (it needs pydantic v1): the deployment-file tests read
# rendered files with dbx's own ConfigReader through it.
DBX_VENV := .venv-dbx
$(DBX_VENV)/.installed: template/scripts/dbx-requirements.lock
	$(PYTHON) -m venv $(DBX_VENV)
	$(DBX_VENV)/bin/python -m pip install --quiet --require-hashes -r template/scripts/dbx-requirements.lock
	touch $@

# actionlint, built from source with the machine's Go, judges every workflow file.
ACTIONLINT_VERSION := v1.7.7
.tools/actionlint:
	@command -v go >/dev/null || { echo "error: Go is required to build actionlint" >&2; exit 1; }
	GOBIN=$(CURDIR)/.tools go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

# The stand-in runtimes' environments (.venv-runtime/<runtime>, one per runtimes/*.yml, on
# the runtime's Python): built once here, so that no test pays for them. Beside .venv,
# not after it: the script needs only PyYAML, which uv provides for this one run.
RUNTIME_ENVS := .venv-runtime/.prepared
$(RUNTIME_ENVS): $(wildcard runtimes/*.yml) scripts/runtime_standin.py | $(UV_BIN)
	UV=$(UV) $(UV) run --quiet --no-project --python $(PYTHON) --with 'pyyaml>=6,<7' \
	  scripts/runtime_standin.py --prepare
	touch $@

# The environments build side by side (they download, mostly): about half the time.
setup: check-java
	@$(MAKE) --no-print-directory -j4 setup-parts

setup-parts: $(VENV)/.installed $(DBX_VENV)/.installed .tools/actionlint $(RUNTIME_ENVS)

# The demo needs only the shared environment (not dbx, actionlint or the runtimes).
demo: check-java $(VENV)/.installed
	rm -rf $(DEMO)
	MLOPS_ALLOW_SUBFOLDER=1 $(PY) -m copier copy --trust --defaults --quiet --vcs-ref HEAD "$(CURDIR)" $(DEMO)
	$(MAKE) -C $(DEMO) run drift-demo PY=$(PY)

# Two tiers (docs/contributing.md): static (no JVM) and Spark (tests marked `spark`, which
# tests/conftest.py requires of any test that starts a JVM, and the benchmarks' runs,
# marked `bench`). xdist runs TEST_JOBS workers and gives each a whole file, so that a
# file's fixtures (the stand-in's project) are built once, in the order tests/conftest.py
# gives (not by size). (Not `loadgroup`: it does not group on pytest 9.2,
# pytest-dev/pytest-xdist#1386.)
TEST_JOBS ?= 2
PYTEST := $(PY) -m pytest -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder

test: setup
	$(PYTEST) tests

# No file of the static tier shares an expensive fixture: tests go out one by one.
test-static: setup
	$(PY) -m pytest -n $(TEST_JOBS) --dist load -m "not spark and not bench" tests

test-spark: setup
	$(PYTEST) -m "spark or bench" tests

docs: setup
	$(PY) -m mkdocs build --strict

# The stand-in for a Databricks Runtime ML job cluster (scripts/runtime_standin.py): the
# runtime's Python (found on PATH or in pyenv) and preinstalled libraries in
# .venv-runtime/, built on first use. tests/test_runtime_standin.py runs it in `make test`.
runtime-check: setup
	rm -rf build/runtime-demo
	MLOPS_ALLOW_SUBFOLDER=1 $(PY) -m copier copy --trust --defaults --quiet --vcs-ref HEAD "$(CURDIR)" build/runtime-demo \
	  --data sp_staging_client_id=00000000-0000-4000-8000-000000000001 \
	  --data sp_prod_client_id=00000000-0000-4000-8000-000000000002
	cd build/runtime-demo && git add -A && git -c user.name=demo -c user.email=demo@example.com commit -qm demo
	$(PY) scripts/runtime_standin.py build/runtime-demo

bench: setup
	$(PY) bench/bench_foundation.py
	$(PY) bench/bench_lifecycle.py
	$(PY) bench/bench_update.py
	$(PY) bench/bench_inner_loop.py

clean:
	rm -rf build site
