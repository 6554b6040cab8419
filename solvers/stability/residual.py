"""The residual of a computed eigenpair of Eq. (14), the same quantity on every path (dense LAPACK, matrix-free
SLEPc, shift-and-invert): the backward error of gamma A phi = M phi in the scaled variables x = phi/s that both
solvers work with (docs/theory.md §3),

    res = ||M_hat x - gamma A_hat x|| / ((||M_hat|| + |gamma| ||A_hat||) ||x||),

2-norms, with M_hat = S M S and A_hat = S A S.  It is computed from the returned vector with one product of each
matrix, never from the solver's transformed problem (1/gamma, shift-and-invert, the deflated pencil): it is also
the backward error of A_hat x = mu M_hat x, mu = 1/gamma (the same ratio, multiplied through by |mu|), so it does
not depend on the form that was solved.  The unscaled pencil is not used: its entries span f0'(E) from the Fermi
level to the cutoff (e^-42 at cutoff 8.4, T0 = 0.2), so its norms see only the Fermi level."""

from __future__ import annotations

import numpy as np

from .common import RESIDUAL_TOL

__all__ = ["pencil_norms", "eigen_residuals", "flagged"]

# power iterations for the norms: a lower bound that converges like (|lambda_2|/|lambda_1|)^(2k); the norm is
# only the residual's scale, so a few per cent (an overestimate of the residual) is all that is needed
_POWER_ITERATIONS = 50


def _power_norm(apply, L, iterations=_POWER_ITERATIONS):
    """||B||_2 of the symmetric ``apply`` by power iteration from a fixed pseudo-random start (a lower bound)."""
    x = np.random.default_rng(0x5EED).standard_normal(L)
    x /= np.linalg.norm(x)
    est = 0.0
    for _ in range(iterations):
        y = apply(x)
        est = float(np.linalg.norm(y))
        if est == 0.0:
            return 0.0
        x = y / est
    return est


def pencil_norms(problem, Ah=None):
    """(||M_hat||_2, ||A_hat||_2) of ``problem`` by power iteration (``Ah``: the dense A_hat, if at hand, is used
    in place of the FFT product)."""
    L = problem.grid.L
    a_apply = (lambda v: Ah @ v) if Ah is not None else problem.ahat_matvec
    return (_power_norm(lambda v: problem.m_matvec(v, scaled=True), L), _power_norm(a_apply, L))


def eigen_residuals(problem, gammas, phis, norms=None, Ah=None):
    """The backward error (module docstring) of each pair (gammas[j], phis[:, j]), phi = S x the eigenvectors
    as the summaries return them (any normalisation).  ``norms``: (||M_hat||, ||A_hat||) if known
    (:func:`pencil_norms`), ``Ah`` the dense A_hat if at hand."""
    g = np.asarray(gammas, dtype=float)
    if g.size == 0:
        return np.zeros(0)
    X = np.asarray(phis, dtype=float).reshape(problem.grid.L, g.size) / problem.s[:, None]
    nm, na = pencil_norms(problem, Ah) if norms is None else norms
    AX = Ah @ X if Ah is not None else problem.ahat_matvec(X)
    R = problem.m_matvec(X, scaled=True) - AX * g[None, :]
    den = (nm + np.abs(g) * na) * np.linalg.norm(X, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        res = np.linalg.norm(R, axis=0) / den
    return np.where(den > 0, res, np.inf)


def flagged(gammas, residuals, tol=RESIDUAL_TOL):
    """The gamma whose residual exceeds ``tol`` (RESIDUAL_TOL): not eigenvalues to the solvers' accuracy."""
    return [float(g) for g, r in zip(gammas, residuals) if not r <= tol]
