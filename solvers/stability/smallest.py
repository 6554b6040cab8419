"""mu_min(A_hat), the smallest eigenvalue of A_hat = S A S: matrix-free with SLEPc on a shell Mat whose product is
the FFT kernel (:func:`ahat_shell`), preconditioned by |diagonal| and warm-started across calls
(:class:`SmallestEigenvalue`), or by dense LAPACK (:class:`DenseSmallest`, the reference)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ..bridge import comm, destroy, gather, scatter
from ..eps import create_eps, solve
from ..petsc_env import init_petsc
from .common import JACOBI_SHIFT, PREFIX

__all__ = ["SmallestEigenvalue", "DenseSmallest", "mu_min_dense", "ahat_shell"]


class _AhatShell:
    """Python context of a PETSc shell Mat: y = A_hat x by FFT, diagonal for Jacobi."""

    def __init__(self, problem):
        self.p = problem

    def mult(self, mat, x, y):
        scatter(self.p.ahat_matvec(gather(x)), y)

    def getDiagonal(self, mat, d):
        scatter(self.p.ahat_diagonal(), d)


class _AbsJacobi:
    """Preconditioner 1/(|diag A_hat| + JACOBI_SHIFT): SPD even where Z0^-1 < 0 makes the diagonal indefinite."""

    def __init__(self, diagonal):
        self.update(diagonal)

    def update(self, diagonal):
        self.inv = 1.0 / (np.abs(diagonal) + JACOBI_SHIFT)

    def apply(self, pc, x, y):
        lo, hi = x.getOwnershipRange()
        y.array[:] = self.inv[lo:hi] * x.array_r


class SmallestEigenvalue:
    """mu_min(A_hat) matrix-free with SLEPc (Generalized Davidson + |diagonal| preconditioner).

    One EPS is kept across calls with the same L and warm-started from the
    previous eigenvector (the root-finder in lambda calls it repeatedly); call
    :meth:`destroy` when done (or use it as a context manager: ``with SmallestEigenvalue() as mu:``),
    in the ``finally`` of the ``try`` it was created in.  Options under ``-stab_lc_`` (e.g.
    ``-stab_lc_eps_type lobpcg``, ``-stab_lc_eps_tol``).
    """

    def __init__(self, tol=1e-8):
        # residual tolerance: for a Hermitian matrix the eigenvalue error is ~ tol^2/gap
        self.tol = tol
        self.L = None
        self.eps = self.A = self.v = None

    def _setup(self, problem):
        PETSc, _ = init_petsc()
        self.destroy()
        L = self.L = problem.grid.L
        self.shell, self.pcctx = _AhatShell(problem), _AbsJacobi(problem.ahat_diagonal())
        self.A = PETSc.Mat().createPython([L, L], context=self.shell, comm=comm())
        self.A.setUp()
        # absolute residual test: near lambda_c, mu_min -> 0 and a relative test never converges
        self.eps = create_eps(self.A, prefix=PREFIX + "lc_", problem_type="HEP", eps_type="gd",
                              which="SMALLEST_REAL", nev=1, conv_abs=True, tol=self.tol, max_it=5000,
                              st_type="precond", pc_type="python", pc_context=self.pcctx)
        self.v = None

    def __call__(self, problem):
        if self.L != problem.grid.L:
            self._setup(problem)
        else:
            self.shell.p = problem
            self.pcctx.update(problem.ahat_diagonal())
            self.eps.setOperators(self.A)
        if self.v is None:
            # cold start: the lowest mode sits where Z0^-1 (the diagonal) dips
            self.v = self.A.createVecRight()
            d = problem.ahat_diagonal()
            k = np.arange(d.size)
            scatter(np.exp(-0.5 * ((k - np.argmin(d)) / max(2.0, 0.02 * d.size)) ** 2), self.v)
        self.eps.setInitialSpace([self.v])
        solve(self.eps, 1)  # none converged: SolverFailed (status solver_failed)
        return float(self.eps.getEigenpair(0, self.v).real)

    def vector(self):
        """The eigenvector of the last call (ndarray, unit norm)."""
        return gather(self.v)

    def destroy(self):
        destroy(self.v, self.eps, self.A)
        self.eps = self.A = self.v = None
        self.L = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()


def mu_min_dense(problem):
    """Smallest eigenvalue of the dense A_hat (LAPACK)."""
    return DenseSmallest()(problem)


class DenseSmallest:
    """mu_min(A_hat) and its eigenvector by LAPACK ``syevr`` on the dense A_hat (L <= DENSE_MAX):
    the same interface as :class:`SmallestEigenvalue`, without PETSc."""

    v = None

    def __call__(self, problem):
        mu, v = sla.eigh(problem.ahat_dense(), subset_by_index=[0, 0], driver="evr")
        self.v = v[:, 0]
        return float(mu[0])

    def vector(self):
        return self.v

    def destroy(self):
        self.v = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()


def ahat_shell(problem):
    """A_hat = S A S as a PETSc shell Mat on :func:`comm`: the FFT Toeplitz-minus-Hankel product of
    Eq. (S20) (``LinearizedProblem.ahat_matvec``, O(L log L)) with its diagonal; nothing L x L."""
    PETSc, _ = init_petsc()
    L = problem.grid.L
    A = PETSc.Mat().createPython([[PETSc.DECIDE, L], [PETSc.DECIDE, L]], context=_AhatShell(problem), comm=comm())
    try:
        A.setUp()
    except BaseException:
        A.destroy()
        raise
    return A
