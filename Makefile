# ephkin: two commands on a fresh Debian machine -- `make run` and `make test`.
# Each installs whatever is missing first (Debian packages, a venv that sees
# them, the package in editable mode), then does its job.

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

# Debian's PETSc/SLEPc trees, unless the user already set PETSC_DIR/SLEPC_DIR
# (deferred: the trees may appear only after the apt step below).
PETSC_DIR ?= $(lastword $(sort $(wildcard /usr/lib/petscdir/petsc*/*-real)))
SLEPC_DIR ?= $(lastword $(sort $(wildcard /usr/lib/slepcdir/slepc*/*-real)))
export PETSC_DIR SLEPC_DIR

DEB_PKGS := python3-petsc4py-real python3-slepc4py-real python3-mpi4py openmpi-bin \
            python3-numpy python3-scipy python3-matplotlib python3-meshio python3-h5py \
            python3-mpmath python3-pytest python3-venv python3-setuptools python3-wheel
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Open MPI refuses to run as root unless told to.
ifeq ($(shell id -u),0)
export OMPI_ALLOW_RUN_AS_ROOT := 1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM := 1
endif
export OMPI_MCA_rmaps_base_oversubscribe := 1
export MPLBACKEND := Agg

.PHONY: help run test test-slow test-mpi bench deps clean

help:
	@echo "make run        install what is missing, run the default job, results + PNGs in $(OUT)/"
	@echo "make test       install what is missing, run the test suite (serial + mpirun -n $(NP))"
	@echo "make test-slow  also the slow tests"
	@echo "make bench      benchmarks (figures for docs/benchmarks.md)"

deps:
	@if ! $(PYTHON_SYS) -c "import petsc4py, slepc4py, mpi4py, numpy, scipy, matplotlib, meshio, mpmath, pytest" 2>/dev/null \
	    || ! command -v $(MPIRUN) >/dev/null; then \
	  echo "== installing Debian packages: $(DEB_PKGS)"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $(DEB_PKGS); \
	fi

$(STAMP): pyproject.toml | deps
	@test -x $(PY) || $(PYTHON_SYS) -m venv --system-site-packages $(VENV)
	@# Pin whatever numpy/scipy/matplotlib the system has: pip must never replace them.
	@$(PY) -c "import numpy, scipy, matplotlib; print(f'numpy=={numpy.__version__}\nscipy=={scipy.__version__}\nmatplotlib=={matplotlib.__version__}')" > $(VENV)/constraints.txt
	$(PY) -m pip install -q --no-build-isolation -c $(VENV)/constraints.txt -e '.[test]'
	@$(VENV)/bin/ephkin info >/dev/null
	@touch $@

run: $(STAMP)
	$(VENV)/bin/ephkin run -o $(OUT)

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not mpi"
	$(MPIRUN) -n $(NP) --oversubscribe $(PY) -m pytest -q --color=no -p no:cacheprovider -m mpi tests/test_mpi.py

test-slow: $(STAMP)
	$(PY) -m pytest -q -m "slow and not mpi"

bench: $(STAMP)
	@# the IDA baseline of benchmarks/evolve_ida.py (a binary wheel; numpy stays pinned)
	$(PY) -m pip install -q -c $(VENV)/constraints.txt scikit-sundae
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OUT) *.egg-info .pytest_cache
