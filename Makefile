# ephkin: two commands on a fresh Debian machine -- `make run` and `make test`.
# Each installs whatever is missing first (Debian packages, a venv that sees
# them, the package in editable mode), then does its job.  With everything
# present nothing is installed: apt-get runs only for packages that are really
# missing, and pip never touches the network (--no-deps: `deps` checked them)
# except once for the pinned lint tools ($(LINT_PINS), not in Debian 12).

SHELL := /bin/bash
.DEFAULT_GOAL := help

# The interpreter petsc4py/slepc4py were built for (Debian's, unless you bring your own).
PYTHON_SYS ?= /usr/bin/python3
VENV       ?= .venv
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.ephkin-installed
OUT        ?= out
MPIRUN     ?= mpirun
NP         ?= 2

# `make lint`: ruff and mypy from PyPI at these versions (Debian 12 has no ruff), installed into
# the venv by $(STAMP) only when these exact versions are missing (so offline is fine once installed).
LINT_PINS    ?= ruff==0.17.6 mypy==2.4.1
# `ruff format --check` covers only these for now (solvers/ is being edited on other branches): grow it.
FORMAT_PATHS ?= __init__.py solvers/studies solvers/api.py solvers/cli tests/test_version.py tests/test_studies.py tests/test_studies_equilibrium.py tests/test_studies_nac_avalanche.py
# mypy checks pyproject's [tool.mypy] files (those that exist) as ephkin.* modules through this link to
# the checkout (mypy cannot follow package-dir's mapping of pde/ and solvers/ into ephkin).
MYPY_SRC     := $(abspath $(VENV))/mypy-src
MYPY_FILES    = $(PY) -c 'import os, sys; t = __import__("tomllib" if sys.version_info >= (3, 11) else "tomli"); \
                print(" ".join("ephkin/" + p for p in t.load(open("pyproject.toml", "rb"))["tool"]["mypy"]["files"] \
                if os.path.exists(p)))'

# Debian's PETSc/SLEPc trees, unless the user already set PETSC_DIR/SLEPC_DIR
# (deferred: the trees may appear only after the apt step below).
PETSC_DIR ?= $(lastword $(sort $(wildcard /usr/lib/petscdir/petsc*/*-real)))
SLEPC_DIR ?= $(lastword $(sort $(wildcard /usr/lib/slepcdir/slepc*/*-real)))
export PETSC_DIR SLEPC_DIR

# What `deps` checks: import:Debian-package and command:Debian-package pairs.
# Keep in sync with pyproject.toml (the venv gets ephkin with --no-deps).
# The check runs the interpreter the venv will use ($(VENV)/bin/python once it
# exists, else $(PYTHON_SYS)) with $(PETSC_DIR)/$(SLEPC_DIR)'s dist-packages on
# its path, as ephkin.solvers.petsc_env does at run time.  It only looks modules
# up (importlib.util.find_spec): nothing is initialised, no MPI is spawned.
DEP_IMPORTS ?= petsc4py:python3-petsc4py-real slepc4py:python3-slepc4py-real mpi4py:python3-mpi4py \
               numpy:python3-numpy scipy:python3-scipy matplotlib:python3-matplotlib \
               meshio:python3-meshio h5py:python3-h5py mpmath:python3-mpmath pytest:python3-pytest \
               hypothesis:python3-hypothesis \
               setuptools:python3-setuptools wheel:python3-wheel
DEP_COMMANDS ?= $(MPIRUN):openmpi-bin
CHECK_PY = $(if $(wildcard $(PY)),$(PY),$(PYTHON_SYS))
# venv creation needs ensurepip (python3-venv) only while there is no venv
DEP_IMPORTS_ALL = $(DEP_IMPORTS) $(if $(wildcard $(PY)),,ensurepip:python3-venv)

# Open MPI refuses to run as root unless told to.
ifeq ($(shell id -u),0)
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
endif
export OMPI_MCA_rmaps_base_oversubscribe := 1
export MPLBACKEND := Agg

.PHONY: help run test lint test-slow test-pip test-mpi bench deps clean

help:
	@echo "make run        install what is missing, run the default job, results + PNGs in $(OUT)/"
	@echo "make test       install what is missing, run make lint and the test suite (serial + mpirun -n $(NP))"
	@echo "make lint       ruff check, ruff format --check (FORMAT_PATHS), mypy (pyproject's [tool.mypy] files)"
	@echo "make test-slow  also the slow tests"
	@echo "make test-pip   the pip route on the newest numpy: a fresh venv, pip install . 'numpy>=2.4' (PyPI), the pure-Python commands"
	@echo "make bench      benchmarks (figures for docs/benchmarks.md)"

deps:
	@set -u; py="$(CHECK_PY)"; \
	pp="$(PETSC_DIR)/lib/python3/dist-packages:$(SLEPC_DIR)/lib/python3/dist-packages$${PYTHONPATH:+:$$PYTHONPATH}"; \
	missing=$$(PYTHONPATH="$$pp" "$$py" -c 'import importlib.util as u, sys; \
	  print(" ".join(sorted({p for m, p in (a.split(":", 1) for a in sys.argv[1:]) if u.find_spec(m) is None})))' \
	  $(DEP_IMPORTS_ALL) 2>/dev/null) || missing="python3 $(foreach d,$(DEP_IMPORTS_ALL),$(lastword $(subst :, ,$(d))))"; \
	for c in $(DEP_COMMANDS); do command -v "$${c%%:*}" >/dev/null || missing="$$missing $${c##*:}"; done; \
	missing=$$(echo $$missing | tr ' ' '\n' | sort -u | tr '\n' ' '); missing=$${missing% }; \
	[ -z "$$missing" ] && exit 0; \
	own=""; \
	case "$(PETSC_DIR)" in ""|/usr/lib/petscdir/*) ;; *) case " $$missing " in *" python3-petsc4py-real "*) \
	  own="petsc4py is not importable with your PETSC_DIR=$(PETSC_DIR) (looked in $(PETSC_DIR)/lib/python3/dist-packages and $$py's site-packages): build/install petsc4py for it, or unset PETSC_DIR to use Debian's";; esac;; esac; \
	case "$(SLEPC_DIR)" in ""|/usr/lib/slepcdir/*) ;; *) case " $$missing " in *" python3-slepc4py-real "*) \
	  own="$${own:+$$own; }slepc4py is not importable with your SLEPC_DIR=$(SLEPC_DIR): build/install slepc4py for it, or unset SLEPC_DIR";; esac;; esac; \
	case "$$(readlink -f "$(PYTHON_SYS)" 2>/dev/null)" in /usr/bin/python3*) ;; *) [ -x "$(PYTHON_SYS)" ] || missing="$(PYTHON_SYS) (not found)"; \
	  own="$${own:+$$own; }your PYTHON_SYS=$(PYTHON_SYS) is not Debian's python3, so apt cannot provide its modules: pip install them for it ($$missing are the Debian names)";; esac; \
	if [ -n "$$own" ]; then echo "ephkin deps: $$own" >&2; exit 1; fi; \
	apt_line="apt-get install -y --no-install-recommends $$missing"; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "ephkin deps: missing Debian packages $$missing and you are not root (no passwordless sudo): have an administrator run 'apt-get update && $$apt_line', or use your own PETSc: make $(MAKECMDGOALS) PETSC_DIR=/path/to/petsc SLEPC_DIR=/path/to/slepc PYTHON_SYS=/path/to/python3 (petsc4py/slepc4py/mpi4py built for that python)" >&2; exit 1; fi; \
	echo "== installing missing Debian packages: $$missing"; \
	$$sudo apt-get update -q && $$sudo env DEBIAN_FRONTEND=noninteractive $$apt_line -q \
	  || { echo "ephkin deps: '$$apt_line' failed (see above)" >&2; exit 1; }

$(STAMP): pyproject.toml | deps
	@test -x $(PY) || $(PYTHON_SYS) -m venv --system-site-packages $(VENV)
	@# Pin whatever numpy/scipy/matplotlib the system has: pip must never replace them.
	@$(PY) -c "import numpy, scipy, matplotlib; print(f'numpy=={numpy.__version__}\nscipy=={scipy.__version__}\nmatplotlib=={matplotlib.__version__}')" > $(VENV)/constraints.txt
	@# --no-deps: `deps` has checked every dependency, so pip needs no network and replaces nothing.
	$(PY) -m pip install -q --no-deps --no-build-isolation -c $(VENV)/constraints.txt -e .
	@# the lint tools: pip (network) only when the pinned versions are not installed; numpy stays pinned
	@$(PY) -c 'import sys, importlib.metadata as m; sys.exit(any(m.version(p.split("==")[0]) != p.split("==")[1] \
	  for p in sys.argv[1:]))' $(LINT_PINS) 2>/dev/null || $(PY) -m pip install -q -c $(VENV)/constraints.txt $(LINT_PINS)
	@$(VENV)/bin/ephkin info >/dev/null
	@touch $@

run: $(STAMP)
	$(VENV)/bin/ephkin run -o $(OUT)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check $(wildcard $(FORMAT_PATHS))
	@set -o pipefail; files=$$($(MYPY_FILES)) || exit 1; \
	if [ -z "$$files" ]; then echo "mypy: none of [tool.mypy] files exists, skipped"; exit 0; fi; \
	mkdir -p $(MYPY_SRC) && ln -sfn $(CURDIR) $(MYPY_SRC)/ephkin && echo "mypy $${files//ephkin\//}" && \
	cd $(MYPY_SRC) && MYPYPATH=. $(abspath $(VENV))/bin/mypy --config-file $(CURDIR)/pyproject.toml $$files 2>&1 \
	  | sed 's|^ephkin/||'

# the tests' temporary files (pytest's tmp_path, tempfile's, an in-process MPI's session directory) go to build/tmp
# in the checkout, not /tmp: a shared machine's /tmp gains nothing, and another user's files there cannot collide
# (mpirun's own session directory stays in /tmp, where MPI removes it at exit)
TEST_TMP = $(CURDIR)/build/tmp

test: $(STAMP) lint
	@rm -rf $(TEST_TMP) && mkdir -p $(TEST_TMP)
	TMPDIR=$(TEST_TMP) $(PY) -m pytest -q -m "not slow and not mpi"
	$(MPIRUN) -n $(NP) --oversubscribe -x TMPDIR=$(TEST_TMP) $(PY) -m pytest -q --color=no -p no:cacheprovider -m mpi tests/test_mpi.py

test-slow: $(STAMP)
	$(PY) -m pytest -q -m "slow and not mpi"
	HYPOTHESIS_PROFILE=slow $(PY) -m pytest -q tests/test_cli_properties.py

# A venv without the system's packages, `pip install . 'numpy>=2.4'` from PyPI and the commands that need no PETSc
# (tests/test_install.py; network, about a minute).  Apart from `make test`, whose pip never uses the network.
test-pip: $(STAMP)
	EPHKIN_REQUIRE_PYPI=1 $(PY) -m pytest -q -p no:cacheprovider -m slow tests/test_install.py -k pip_install

bench: $(STAMP)
	@# the IDA baseline of benchmarks/evolve_ida.py (a binary wheel; numpy stays pinned)
	$(PY) -m pip install -q -c $(VENV)/constraints.txt scikit-sundae
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OUT) *.egg-info .pytest_cache
