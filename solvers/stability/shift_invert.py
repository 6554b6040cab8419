"""gamma of the pencil M x = gamma A x (Eq. (14)) by SLEPc shift-and-invert: the gamma nearest a target
(:func:`gamma_spectrum`, A_hat assembled, L <= DENSE_MAX; default target just below 0 so that the ladder null modes
of M come out as gamma = 0; options ``-stab_``), the negative gamma nearest 0 (:func:`unstable_gammas`, L <=
DENSE_MAX, ``-stab_unstable_``) and the poles of Fig. 2 (:func:`pole_gammas`, above DENSE_MAX too: A_hat^-1 by the
window split of :mod:`.window`, ``-stab_pole_``)."""

from __future__ import annotations

import numpy as np

from ephkin.pde.errors import InputError

from ..bridge import aij, comm, destroy, gather, scatter
from ..eps import solve_eigensystem
from ..petsc_env import init_petsc
from .common import DENSE_MAX, GAMMA_TARGET_REL, PREFIX
from .smallest import ahat_shell
from .window import AhatWindow

__all__ = ["gamma_spectrum", "unstable_gammas", "pole_gammas"]


def gamma_spectrum(problem, nev=6, target=None, tol=1e-12):
    """The nev eigenvalues gamma of M x = gamma A x nearest ``target`` (SLEPc, shift-and-invert).

    Uses the scaled pencil (M_hat, A_hat).  The default target is slightly
    below 0 (-GAMMA_TARGET_REL = -1e-9 of the largest diagonal of M_hat) so that ladder null modes of M
    are found as gamma = 0 and M - target*A stays nonsingular.  Options under
    ``-stab_`` (``-stab_eps_nev``, ``-stab_st_type``, ``-stab_eps_target`` ...).
    Returns (gamma sorted by |gamma - target|, eigenvectors phi = S x as columns).
    """
    if problem.grid.L > DENSE_MAX:
        raise InputError(f"--target: shift-and-invert factorises A_hat, L = {problem.grid.L} > {DENSE_MAX}; "
                         "drop --target or lower --refine", "target")
    Mh = problem.m_matrix(scaled=True)
    Ah = problem.ahat_dense()
    if target is None:
        target = -GAMMA_TARGET_REL * float(Mh.diagonal().max())
    Am = Mm = None
    try:
        Am, Mm = aij(Ah, drop=1e-300), aij(Mh)
        vals, vecs = solve_eigensystem(Mm, Am, prefix=PREFIX, problem_type="GNHEP", eps_type="krylovschur",
                                       which="TARGET_MAGNITUDE", nev=nev, target=target, tol=tol, max_it=1000,
                                       st_type="sinvert", pc_type="lu", mumps=True, scale=problem.s)
    finally:
        destroy(Am, Mm)
    order = np.argsort(np.abs(vals - target))
    vals, vecs = vals[order], vecs[:, order]
    if vecs.size:
        vecs /= np.max(np.abs(vecs), axis=0)
    return vals, vecs


def unstable_gammas(problem, k=3, tol=1e-12):
    """The k negative gamma of smallest |gamma| with eigenvectors (SLEPc, A_hat assembled: L <= DENSE_MAX): the most
    negative mu of A_hat x = mu M_hat x (GHEP, B = M_hat > 0), gamma = 1/mu.  Empty when A > 0."""
    if problem.grid.L > DENSE_MAX:
        raise InputError(f"the unstable gamma by SLEPc on the assembled A_hat need L <= {DENSE_MAX} (here "
                         f"L = {problem.grid.L}); use stability_summary (matrix-free slow modes)", "refine")
    Am = Mm = None
    try:
        Am = aij(problem.ahat_dense(), drop=1e-300)
        Mm = aij(problem.m_matrix(scaled=True))
        mu, vecs = solve_eigensystem(Am, Mm, k=k, prefix=PREFIX + "unstable_", problem_type="GHEP", nev=k, tol=tol,
                                     max_it=1000, scale=problem.s, which="SMALLEST_REAL")
    finally:
        destroy(Am, Mm)
    keep = mu < 0
    return 1.0 / mu[keep], _max_normalised(vecs[:, keep])


def _max_normalised(V):
    return V / np.max(np.abs(V), axis=0) if V.size else V


class _MhatShell:
    """Shell context of M_hat = S M S (Eq. (15): M^ep + a_ee M^ee), its product only (``m_matvec``)."""

    def __init__(self, problem):
        self.p = problem

    def mult(self, mat, x, y):
        scatter(self.p.m_matvec(gather(x), scaled=True), y)


class _WindowInverse:
    """PC context applying A_hat^-1 by the window split (:class:`AhatWindow`): the shift-and-invert at 0."""

    def __init__(self, window):
        self.w = window

    def apply(self, pc, x, y):
        scatter(self.w.solve(gather(x)), y)


def pole_gammas(problem, k=2, window=None, tol=1e-12, vectors=False):
    """The k gamma of largest |gamma| (mu = 1/gamma nearest 0 of A_hat x = mu M_hat x): the pole region of Fig. 2,
    where the gamma diverge at lambda_c.  Largest |gamma| first.

    Shift-and-invert at 0 on the GHEP pencil (A_hat, M_hat): Krylov-Schur on A_hat^-1 M_hat, whose eigenvalues are
    the gamma themselves, so the wanted ones are its largest and converge in a few dozen applications.  A_hat^-1 is
    applied matrix-free by the window split (``window``, an :class:`AhatWindow`, built here if not given:
    conjugate gradients outside the window, the Schur complement's LU inside; docs/theory.md §3), A_hat and M_hat
    by FFT products and stencils.  Options ``-stab_pole_``.  ``vectors``: also the eigenvectors phi = S x
    (max-normalised columns)."""
    PETSc, _ = init_petsc()
    L = problem.grid.L
    own = window is None
    A = B = None
    try:
        if own:
            window = AhatWindow(problem)
        A = ahat_shell(problem)
        B = PETSc.Mat().createPython([[PETSc.DECIDE, L], [PETSc.DECIDE, L]], context=_MhatShell(problem), comm=comm())
        B.setUp()
        mu, X = solve_eigensystem(A, B, k=k, prefix=PREFIX + "pole_", problem_type="GHEP", nev=k, tol=tol,
                                  max_it=1000, target=0.0, which="TARGET_MAGNITUDE", st_type="sinvert",
                                  pc_type="python", pc_context=_WindowInverse(window), scale=problem.s)
    finally:
        destroy(A, B)
    g = 1.0 / mu
    order = np.argsort(-np.abs(g), kind="stable")
    g, X = g[order], _max_normalised(X[:, order])
    return (g, X) if vectors else g
