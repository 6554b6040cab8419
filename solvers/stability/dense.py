"""The gamma spectrum of Eq. (14) by dense LAPACK (small L, no PETSc): every gamma (:func:`gamma_dense`), whether
M_hat is definite (:func:`m_definite`: no ladder null modes), the standard form C = L^-1 A_hat L^-T by banded
Cholesky of M_hat (:func:`_standard_form`), and when the dense path applies (:func:`dense_refusal`)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .common import DENSE_MAX, NULL_GAMMA_REL, NULL_TOL

__all__ = ["gamma_dense", "m_definite", "dense_refusal", "nonzero_gammas"]


def _band_lower(Mh):
    """The lower band of the sparse symmetric M_hat in LAPACK storage, ab[i - j, j] = M_hat[i, j]: the bonds
    of M^ep (Eq. (S18) on the grid) join E_i to E_i +- omega_k (and the folds E_i to -E_{r-i}), so the
    bandwidth is the largest grid phonon frequency in grid steps."""
    c = sp.tril(Mh).tocoo()
    ab = np.zeros((int(np.max(c.row - c.col, initial=0)) + 1, Mh.shape[0]))
    ab[c.row - c.col, c.col] = c.data
    return ab


def m_definite(Mh):
    """True when M_hat (Eq. (S18) on the grid, scaled) has no ladder null modes: M_hat - NULL_TOL dmax I is positive
    definite (LAPACK Cholesky, banded for a sparse M_hat).  Up to round-off (backward error ~ L eps dmax,
    far below NULL_TOL dmax) the same test as :func:`m_null_space`'s -- every eigenvalue of M_hat above
    NULL_TOL dmax -- without its eigendecompositions; the shift keeps a Cholesky of a singular M_hat from
    succeeding in round-off."""
    tol = NULL_TOL * float(Mh.diagonal().max())
    try:
        if sp.issparse(Mh):
            ab = _band_lower(Mh)
            ab[0] -= tol
            sla.cholesky_banded(ab, lower=True)
        else:
            np.linalg.cholesky(Mh - tol * np.eye(Mh.shape[0]))
    except np.linalg.LinAlgError:
        return False
    return True


def _standard_form(Ah, Mh):
    """(C, c): C = L^-1 A_hat L^-T with M_hat = L L^T (sparse, definite M_hat), c = L in LAPACK band storage:
    A_hat x = mu M_hat x becomes C y = mu y, x = L^-T y.  L is banded (:func:`_band_lower`), so C costs two
    banded triangular solves, O(L^2 bandwidth), in place of LAPACK's dense reduction (sygst, O(L^3))."""
    c = sla.cholesky_banded(_band_lower(Mh), lower=True)
    tbtrs = sla.get_lapack_funcs("tbtrs", (c,))
    X, info1 = tbtrs(c, Ah.T, uplo="L")  # L^-1 A_hat
    X, info2 = tbtrs(c, X.T, uplo="L", overwrite_b=1)  # L^-1 (L^-1 A_hat)^T = C (A_hat symmetric)
    if info1 or info2:
        raise np.linalg.LinAlgError(f"banded triangular solve (LAPACK tbtrs): info = {info1}, {info2}")
    return X, c


def gamma_dense(problem):
    """All gamma of M x = gamma A x (Eq. (14)) by dense LAPACK (reference for small L), ascending.

    Uses A_hat x = mu M_hat x with mu = 1/gamma when M_hat is definite (:func:`m_definite`): one symmetric
    eigvalsh of C = L^-1 A_hat L^-T (:func:`_standard_form`, banded Cholesky of the sparse M_hat; with e-e
    collisions, dense M_hat, LAPACK's generalized eigh).  With ladder null modes the general pencil (QZ;
    gamma = 0 for the null space of M).
    """
    Mh = problem.m_matrix(scaled=True)
    Ah = problem.ahat_dense()
    if not m_definite(Mh):
        return np.sort(sla.eigvals(Mh.toarray() if sp.issparse(Mh) else Mh, Ah).real)
    mu = (sla.eigvalsh(_standard_form(Ah, Mh)[0], overwrite_a=True) if sp.issparse(Mh)
          else sla.eigh(Ah, Mh, eigvals_only=True))
    return np.sort(1.0 / mu)


def dense_refusal(problem, Mh=None):
    """Why :func:`dense_summary` does not apply to ``problem`` (a short reason), or None when it does."""
    L = problem.grid.L
    if L > DENSE_MAX:
        return f"L = {L} > {DENSE_MAX}"
    if problem.a_ee > 0:
        return "e-e collisions make M dense"
    if not m_definite(problem.m_matrix(scaled=True) if Mh is None else Mh):
        return "M has ladder null modes (gamma = 0) on this grid"
    return None


def nonzero_gammas(g):
    """``g`` without the ladder null modes of M (gamma = 0 up to round-off, docs/theory.md §5)."""
    g = np.asarray(g)
    return g[np.abs(g) > NULL_GAMMA_REL * max(1.0, float(np.max(np.abs(g)))) if g.size else 1.0]
