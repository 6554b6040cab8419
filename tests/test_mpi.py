"""Run under `mpirun -n 2`: the package imports and computes identically on every rank."""

import pytest

pytestmark = pytest.mark.mpi


def test_ranks_agree_on_lambda_c():
    from solvers.petsc_env import init_petsc

    PETSc, _ = init_petsc()
    comm = PETSc.COMM_WORLD.tompi4py()
    from pde.instability import lambda_c
    from pde.spectra import parse_spectrum

    lc = lambda_c(parse_spectrum("einstein"), 0.20)["lambda_c"]
    every = comm.allgather(lc)
    assert len(set(every)) == 1 and round(lc, 4) == 1.2716
    assert comm.Get_size() >= 1
