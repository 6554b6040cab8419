"""The continuous spectrum of Eq. (14) for a continuous alpha^2F (FFT operators): its edges
(:func:`continuum_edges`), which computed gamma are modes and which samples of it (:func:`discrete_mask`), and
the exact number of discrete modes below an edge by Sylvester's law on the shifted pencil (:func:`n_discrete`,
SLEPc on a shell Mat, options ``-stab_count_``)."""

from __future__ import annotations

import numpy as np

from ephkin.pde.errors import InputError

from ..bridge import comm, destroy, gather, scatter
from ..eps import create_eps, solve
from ..petsc_env import init_petsc
from .common import CONTINUUM_MARGIN, PREFIX

__all__ = ["continuum_edges", "discrete_gammas", "discrete_mask", "n_discrete"]


class _ShiftedPencil:
    """Shell context of H_hat = W (M_hat - g A_hat) W, W = d^-1/2, d = diag(M_hat) - g diag(A_hat) > 0: the
    pencil of Eq. (14) shifted to g and scaled by its own diagonal, two FFT products per application."""

    def __init__(self, problem, g, d):
        self.p, self.g, self.w = problem, float(g), 1.0 / np.sqrt(d)

    def mult(self, mat, x, y):
        u = self.w * gather(x)
        scatter(self.w * (self.p.m_matvec(u, scaled=True) - self.g * self.p.ahat_matvec(u)), y)


def continuum_edges(problem):
    """The edges of the continuous spectrum of Eq. (14) for a continuous alpha^2F: (gamma_pos, gamma_neg).

    With many grid phonon frequencies both forms are a multiplication plus a smoothing integral operator,
    M_hat = diag(D_hat) - K_q and A_hat = diag(Z0^-1) + sqrt(f0') K sqrt(f0') (docs/theory.md, "The
    continuous spectrum"): a vector localised at one energy E relaxes at its own local rate
    gamma_loc(E) = D_hat(E)/Z0^-1(E) -- the out-scattering rate over Z0^-1 -- and these rates form the
    continuous spectrum of the continuum problem; on a grid they are a cluster of grid-scale eigenvectors
    whose number grows like 1/eps.  On the grid, gamma_loc = diag(M_hat)/diag(A_hat) (the Rayleigh quotient
    of a unit vector): gamma_pos = min over diag(A_hat) > 0, gamma_neg = max over diag(A_hat) < 0 (None
    where there is no such energy).  Discrete modes lie in (0, gamma_pos) and (gamma_neg, 0)."""
    loc = problem.m_diagonal(scaled=True) / problem.ahat_diagonal()
    pos, neg = loc[loc > 0], loc[loc < 0]
    return (float(pos.min()) if pos.size else None), (float(neg.max()) if neg.size else None)


def discrete_gammas(problem, g):
    """``g`` without the samples of the continuous spectrum for a continuous alpha^2F (:func:`discrete_mask`)."""
    g = np.asarray(g, dtype=float)
    return g[discrete_mask(problem, g)]


def discrete_mask(problem, g, edges=None):
    """Which gamma of ``g`` are modes, not samples of the continuous spectrum (:func:`continuum_edges`, or
    ``edges`` if given): those in (0, (1 - CONTINUUM_MARGIN) gamma_pos) and ((1 - CONTINUUM_MARGIN) gamma_neg,
    0); all of them for combs."""
    g = np.asarray(g, dtype=float)
    if not problem.ep_fft:
        return np.ones(g.size, bool)
    pos, neg = continuum_edges(problem) if edges is None else edges
    keep = np.zeros(g.size, bool)
    if pos is not None:
        keep |= (g > 0) & (g < (1.0 - CONTINUUM_MARGIN) * pos)
    if neg is not None:
        keep |= (g < 0) & (g > (1.0 - CONTINUUM_MARGIN) * neg)
    if neg is None:
        keep |= g < 0  # no negative continuum: every negative gamma is a mode
    if pos is None:
        keep |= g > 0
    return keep


def n_discrete(problem, g, kmax, tol=1e-10):
    """The number of gamma of Eq. (14) strictly between 0 and ``g`` (capped at kmax + 1), exactly.

    Sylvester: M_hat - g A_hat = M_hat^1/2 (I - g S) M_hat^1/2 with S's eigenvalues mu = 1/gamma, so its
    number of negative eigenvalues is that of gamma in (0, g) for g > 0 (in (g, 0) for g < 0); so is that of
    the congruent H_hat = W (M_hat - g A_hat) W (:class:`_ShiftedPencil`), whose spectrum inside the
    continuum edges is 1 minus a compact part: its few negative eigenvalues are outliers that Krylov-Schur
    finds without inner solves.  ``g`` must lie between the continuum edges (d > 0)."""
    PETSc, _ = init_petsc()
    d = problem.m_diagonal(scaled=True) - g * problem.ahat_diagonal()
    if not np.all(d > 0):
        raise InputError(f"the shift {g:g} lies in the continuous spectrum of Eq. (14)", "target")
    L = problem.grid.L
    k = min(kmax + 1, L - 1)
    H = eps = None
    try:
        H = PETSc.Mat().createPython([[PETSc.DECIDE, L], [PETSc.DECIDE, L]], context=_ShiftedPencil(problem, g, d),
                                     comm=comm())
        H.setUp()
        eps = create_eps(H, prefix=PREFIX + "count_", problem_type="HEP", eps_type="krylovschur",
                         which="SMALLEST_REAL", nev=k, tol=tol, max_it=2000, conv_abs=True)
        solve(eps, k)  # fewer than k converged: SolverFailed (status solver_failed)
        vals = np.array([eps.getEigenvalue(i).real for i in range(eps.getConverged())])
    finally:
        destroy(eps, H)
    if vals.size < k:
        raise RuntimeError(f"SLEPc converged {vals.size} of the {k} smallest eigenvalues of the shifted pencil "
                           "(raise -stab_count_eps_max_it)")
    return int(np.sum(np.sort(vals)[:k] < 0))
