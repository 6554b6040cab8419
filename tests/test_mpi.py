"""Run by `make test` under `mpirun -n 2`: the package imports and computes identically on every rank."""

import os

import pytest

pytestmark = pytest.mark.mpi


def test_ranks_agree_on_lambda_c():
    from solvers.petsc_env import init_petsc

    PETSc, _ = init_petsc()
    comm = PETSc.COMM_WORLD.tompi4py()
    launched = int(os.environ.get("OMPI_COMM_WORLD_SIZE", os.environ.get("PMI_SIZE", "1")))
    assert comm.Get_size() == launched  # really running on the ranks mpirun started
    from pde.instability import lambda_c
    from pde.spectra import parse_spectrum

    lc = lambda_c(parse_spectrum("einstein"), 0.20)["lambda_c"]
    every = comm.allgather(lc)
    assert len(set(every)) == 1 and round(lc, 4) == 1.2716


def test_rank_local_slepc_solves_agree():
    # every rank solves its own problem on COMM_SELF (the layout of the sweeps): same answer everywhere
    from solvers.petsc_env import init_petsc
    from solvers.stability import lambda_c_linear
    from pde.spectra import parse_spectrum

    PETSc, _ = init_petsc()
    comm = PETSc.COMM_WORLD.tompi4py()
    lc = lambda_c_linear(parse_spectrum("modes:40-60"), 0.204, solver="slepc")["lambda_c"]
    assert len(set(comm.allgather(round(lc, 12)))) == 1 and round(lc, 3) == 1.557
