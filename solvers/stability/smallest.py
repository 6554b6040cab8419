"""mu_min(A_hat), the smallest eigenvalue of A_hat = S A S: matrix-free with SLEPc on a shell Mat whose product is
the FFT kernel (:func:`ahat_shell`), preconditioned by |diagonal| and warm-started across calls
(:class:`SmallestEigenvalue`), or by dense LAPACK (:class:`DenseSmallest`, the reference)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ..bridge import comm, destroy, gather, scatter
from ..eps import create_eps, solve
from ..petsc_env import init_petsc
from .common import DAVIDSON_GAP, PREFIX

__all__ = ["SmallestEigenvalue", "DenseSmallest", "mu_min_dense", "ahat_shell"]


class _AhatShell:
    """Python context of a PETSc shell Mat: y = A_hat x by FFT, diagonal for Jacobi."""

    def __init__(self, problem):
        self.p = problem

    def mult(self, mat, x, y):
        scatter(self.p.ahat_matvec(gather(x)), y)

    def getDiagonal(self, mat, d):
        scatter(self.p.ahat_diagonal(), d)


class _Davidson:
    """Preconditioner 1/(|diag A_hat - sigma| + DAVIDSON_GAP): Davidson's (D - theta)^-1 with theta estimated by
    sigma; positive even where Z0^-1 < 0 makes the diagonal indefinite."""

    def __init__(self, diagonal, sigma):
        self.update(diagonal, sigma)

    def update(self, diagonal, sigma):
        self.inv = 1.0 / (np.abs(diagonal - sigma) + DAVIDSON_GAP)

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
        d = problem.ahat_diagonal()
        self.shell, self.pcctx = _AhatShell(problem), _Davidson(d, float(d.min()))
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
            self.eps.setOperators(self.A)
        d = problem.ahat_diagonal()
        if self.v is None:
            # cold start: the lowest mode sits where Z0^-1 (the diagonal) dips
            self.v = self.A.createVecRight()
            k = np.arange(d.size)
            scatter(np.exp(-0.5 * ((k - np.argmin(d)) / max(2.0, 0.02 * d.size)) ** 2), self.v)
        # Davidson's shift: the start vector's Rayleigh quotient (the last eigenvector's, warm), or the lowest
        # diagonal if that is lower -- at or below mu_min to within the start's error (one FFT product)
        v = gather(self.v)
        rho = float(v @ problem.ahat_matvec(v)) / float(v @ v)
        self.pcctx.update(d, min(rho, float(d.min())))
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
    """mu_min(A_hat) and its eigenvector on the dense A_hat (L <= DENSE_MAX), LAPACK only: the same interface as
    :class:`SmallestEigenvalue`, without PETSc.

    The first call takes ``syevr``.  A later call (the next Newton iterate of lambda_c: A_hat close to the last
    one) is warm-started: inverse iteration from the last eigenvector, shifted below mu_min -- proven below by
    the Cholesky factorisation of A_hat - sigma I running to the end (every eigenvalue > sigma), so that the
    iteration converges to mu_min's eigenvector and no other -- until the residual is at round-off
    (:func:`_warm_smallest`).  ``potrf`` (BLAS 3, L^3/3) and a few triangular solves cost a fraction of
    ``syevr``'s tridiagonal reduction (4L^3/3, half BLAS 2): lambda_c takes 27-45% less time at L = 451-1499
    (measured in one process, interleaved).  When the shift cannot be proven or the iteration is slow (a start
    far from the eigenvector and a small gap) the call falls back to ``syevr``; a vector of another size (a
    problem on another grid) is not used."""

    v = None
    mu = None

    def __call__(self, problem):
        A = problem.ahat_dense()
        warm = _warm_smallest(A, self.v) if self.v is not None and self.v.size == A.shape[0] else None
        if warm is None:
            mu, v = sla.eigh(A, subset_by_index=[0, 0], driver="evr")
            warm = float(mu[0]), v[:, 0]
        self.mu, self.v = warm
        return self.mu

    def vector(self):
        return self.v

    def destroy(self):
        self.v = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.destroy()


#: Inverse iteration stops at a residual ||A v - rho v|| <= WARM_RTOL max(1, max|diag A|) (the eigenvalue is then
#: exact to ~residual^2/gap, far below round-off), or gives up after WARM_MAXIT steps (syevr takes over).
WARM_RTOL, WARM_MAXIT = 1e-11, 60


def _warm_smallest(A, v):
    """(mu_min, unit eigenvector) of the symmetric ``A`` by shifted inverse iteration from ``v`` (an eigenvector of
    a nearby matrix), or None.  Some eigenvalue lies within the residual r = ||A v - rho v|| of the Rayleigh
    quotient rho; the shift sigma starts at rho - r and moves down (r x 10, x 100 ...) until A - sigma I is
    positive definite (Cholesky): then every eigenvalue exceeds sigma, and (A - sigma I)^-1 amplifies mu_min's
    eigenvector most, by (mu_2 - sigma)/(mu_min - sigma) per step."""
    scale = max(1.0, float(np.max(np.abs(np.diagonal(A)))))
    v = v / np.linalg.norm(v)
    Av = A @ v
    rho = float(v @ Av)
    delta = max(float(np.linalg.norm(Av - rho * v)), 1e-8 * scale)
    for _ in range(3):
        B = np.array(A, order="F")
        B[np.diag_indices_from(B)] -= rho - delta
        c, info = sla.lapack.dpotrf(B, lower=1, clean=0, overwrite_a=1)
        if info == 0:
            break
        delta *= 10.0
    else:
        return None
    for _ in range(WARM_MAXIT):
        w, info = sla.lapack.dpotrs(c, v, lower=1)
        if info != 0:
            return None
        v = w / np.linalg.norm(w)
        Av = A @ v
        rho = float(v @ Av)
        if np.linalg.norm(Av - rho * v) <= WARM_RTOL * scale:
            return rho, v
    return None


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
