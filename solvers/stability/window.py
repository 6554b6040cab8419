"""A_hat split at its window: the exact inertia (the number of unstable modes) and A_hat^-1 above DENSE_MAX without
assembling A_hat (docs/theory.md §3, "The window of A_hat").

A_hat = diag(Z0^-1) + sqrt(-f0') K sqrt(-f0') (Eq. (S20) scaled, (T8)) is indefinite only where Z0^-1 dips below 0
(and, through the kernel, near there): its negative eigenvalues, about one per grid point with Z0^-1 < 0, come from
an energy window W.  Outside it (the set O) the diagonal is >= WINDOW_TAU and A_hat_OO is positive definite and well
conditioned.  With S = A_hat_WW - A_hat_WO A_hat_OO^-1 A_hat_OW (the Schur complement of the window),

* Haynsworth's inertia additivity: In(A_hat) = In(A_hat_OO) + In(S) = (0, 0, |O|) + In(S), so the number of
  negative eigenvalues of A_hat -- the number of negative gamma of Eq. (14) by Sylvester's law, whatever a_ee --
  is that of the |W| x |W| matrix S, counted by its LDL^T (LAPACK ``sytrf``);
* A_hat^-1 b by block elimination: two solves with A_hat_OO (conjugate gradients, Jacobi: its diagonal is >=
  WINDOW_TAU) and one with S (its LU): the shift-and-invert operator of the poles of Fig. 2 (the largest |gamma|,
  mu = 1/gamma nearest 0 of A_hat x = mu M_hat x), which Krylov-Schur converges in a few dozen applications.

A_hat is applied by FFT only (``LinearizedProblem.ahat_matvec``); S is built a block of columns at a time from
products with unit vectors.  Memory: S twice (the LDL^T copy, the LU) -- 16 |W|^2 bytes, |W| ~ 0.15 L for
modes:40-60 at lambda = 5, T0 = 0.2 -- plus O(L x block) work arrays; nothing L x L.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import scipy.linalg as sla

from ephkin.pde.grids import available_memory

from .. import progress as engine_progress
from ..failures import SolverFailed
from .smallest import SmallestEigenvalue

__all__ = ["WINDOW_TAU", "WINDOW_MARGIN", "WINDOW_MEM_MAX", "AhatWindow", "window_indices", "window_memory",
           "window_fits", "sytrf_negatives"]

# the window is the hull of the grid points with diag(A_hat) < WINDOW_TAU: outside it the diagonal (~ Z0^-1 -> 1 away
# from the Fermi level) dominates.  0.5 made A_hat_OO definite for modes:40-60 (lambda 5, T0 0.2, refine 2-32:
# lambda_min(A_hat_OO) ~ 0.03, 16-25 CG iterations to 1e-12); where it does not, the threshold is doubled
WINDOW_TAU = 0.5
# lambda_min(A_hat_OO) must exceed this (absolute; A_hat's diagonal is O(1)) for the split: definite with a margin
# far above the eigensolver's tolerance (1e-8), and conditioned enough for CG
WINDOW_MARGIN = 1e-3
#: largest memory (bytes) the window's Schur complement may use (also <= half of MemAvailable)
WINDOW_MEM_MAX = 4e9
_CG_RTOL = 1e-12  # relative residual of every A_hat_OO solve
_CG_MAXIT = 2000
_BLOCK = 64  # columns of S per block of FFT products


def window_fits(problem, count=True):
    """(fits, bytes): whether :class:`AhatWindow` at the first threshold fits in min(WINDOW_MEM_MAX, half of
    MemAvailable), and its memory."""
    W, _ = window_indices(problem)
    need = window_memory(problem.grid.L, W.size, int(W[0]) if W.size else 0, count)
    return need <= min(WINDOW_MEM_MAX, 0.5 * (available_memory() or 0)), need


def window_indices(problem, tau=WINDOW_TAU):
    """The window W (the hull of the grid points with diag(A_hat) < tau) and its complement O, index arrays."""
    d = problem.ahat_diagonal()
    low = np.nonzero(d < tau)[0]
    L = d.size
    if low.size == 0:
        return np.zeros(0, dtype=np.int64), np.arange(L)
    W = np.arange(low[0], low[-1] + 1)
    return W, np.concatenate([np.arange(low[0]), np.arange(low[-1] + 1, L)])


def window_memory(L, nw, nlow, count=True):
    """Bytes of :class:`AhatWindow` with a window of nw points and nlow points below it: S and (``count``) its LDL^T
    copy (the LU in place of S), the Cholesky factor of the block below the window, the block work arrays."""
    return (16.0 if count else 8.0) * nw * nw + 8.0 * nlow * nlow + 8.0 * L * max(_BLOCK * 12, nlow)


class _Restricted:
    """A_hat_OO as the 'problem' of :class:`SmallestEigenvalue` (the products and the diagonal it uses)."""

    def __init__(self, problem, O):
        self.p, self.O = problem, O
        self.grid = SimpleNamespace(L=O.size)

    def ahat_matvec(self, x):
        full = np.zeros((self.p.grid.L,) + np.shape(x)[1:])
        full[self.O] = x
        return self.p.ahat_matvec(full)[self.O]

    def ahat_diagonal(self):
        return self.p.ahat_diagonal()[self.O]


class AhatWindow:
    """A_hat split at its window (module docstring): the exact inertia, and A_hat^-1 b (:meth:`solve`).

    Attributes: ``W``, ``O`` (index arrays), ``tau`` (the diagonal threshold used), ``lambda_min_OO`` (the
    smallest eigenvalue of A_hat_OO, matrix-free: > WINDOW_MARGIN, the certificate that A_hat_OO has no negative
    eigenvalue), ``n_negative`` (of S, so of A_hat), ``cg_iterations`` (most CG iterations of one column),
    ``residual_bound`` (bound on ||S_computed - S||_2 from the CG residuals) and ``margin`` (the smallest |eigenvalue|
    of S: the count is certified when residual_bound < margin).  ``lu=False``: the count only (no LU kept);
    ``count=False``: A_hat^-1 only (no LDL^T copy of S, half the memory; ``n_negative`` None).
    """

    def __init__(self, problem, lu=True, count=True, tau=WINDOW_TAU, max_doublings=4):
        self.p = problem
        self.d = problem.ahat_diagonal()
        for _ in range(max_doublings + 1):
            self.W, self.O = window_indices(problem, tau)
            self.lambda_min_OO = self._lambda_min(self.O)
            if self.lambda_min_OO > WINDOW_MARGIN:
                break
            tau *= 2.0
        else:
            raise SolverFailed("WINDOW_NOT_DEFINITE", f"A_hat outside its window (diag(A_hat) >= {tau / 2:g}) is not "
                               f"positive definite (lambda_min = {self.lambda_min_OO:.3g}); use the LDL^T of the "
                               "assembled A_hat on a coarser grid")
        self.tau = tau
        self.mask = np.zeros(problem.grid.L)
        self.mask[self.O] = 1.0
        self.dinv = self.mask / np.where(self.mask > 0, self.d, 1.0)  # Jacobi on O (d >= tau > 0 there), 0 on W
        self.low, self.low_chol = self._low_block()
        self.cg_iterations = 0
        self._max_rel_res = 0.0
        nw = self.W.size
        S = self._schur() if nw else np.zeros((0, 0))
        self.n_negative = self._inertia(S) if count else None
        self.lu = None
        self.margin = None
        if nw:
            self.lu = sla.lu_factor(S, overwrite_a=True, check_finite=False)
            del S
            self.margin = self._smallest_abs_eig()
        # ||dS||_2 <= ||A_hat_WO|| ||A_hat_OO^-1|| ||R||_F, ||R||_F <= sqrt(|W|) max ||r_j|| (columns of A_hat_OW,
        # each of norm <= ||A_hat||): a bound with ||A_hat_WO|| <= ||A_hat|| (power iteration, a few per cent)
        from .residual import pencil_norms

        an = pencil_norms(problem)[1] if nw else 0.0
        self.residual_bound = an * an * np.sqrt(nw) * self._max_rel_res / self.lambda_min_OO
        if not lu:
            self.lu = None

    # ------------------------------------------------------------------ pieces
    def _lambda_min(self, O):
        """lambda_min(A_hat_OO), matrix-free (SLEPc GD, |diagonal| preconditioner: :class:`SmallestEigenvalue`)."""
        if O.size == 0:
            return np.inf
        mu = None
        try:
            mu = SmallestEigenvalue()
            return mu(_Restricted(self.p, O))
        finally:
            if mu is not None:
                mu.destroy()

    def _low_block(self):
        """The indices of O below the window and the Cholesky factor of A_hat on them (a principal block of the
        definite A_hat_OO, so definite).  Below the window lies the Fermi level, where the kernel weight
        sqrt(f0'_i f0'_j) is largest (1/4T0) and Jacobi alone leaves CG a spread of eigenvalues that grows with L
        (modes:40-60, lambda 5, refine 2-16: 16, 23, 33, 48 iterations); with this block exact, 5 (refine 8)."""
        if self.W.size == 0:
            return np.zeros(0, dtype=np.int64), None
        low = np.arange(int(self.W[0]))
        if low.size == 0:
            return low, None
        B = np.empty((low.size, low.size))
        for j0, E in self._unit_blocks(low):
            B[j0 : j0 + E.shape[0]] = self._ahat_rows(E)[:, low]
        return low, sla.cho_factor(0.5 * (B + B.T), lower=True, overwrite_a=True, check_finite=False)

    def _unit_blocks(self, idx):
        """(j0, E): the unit vectors e_idx[j0..j0+m) as the rows of E, _BLOCK at a time (bounded FFT work arrays)."""
        for j0 in range(0, idx.size, _BLOCK):
            m = min(_BLOCK, idx.size - j0)
            E = np.zeros((m, self.p.grid.L))
            E[np.arange(m), idx[j0 : j0 + m]] = 1.0
            yield j0, E

    def _precondition(self, R):
        """Block Jacobi on the rows of R: the exact block of A_hat below the window (:meth:`_low_block`), the
        diagonal above it, 0 on W."""
        Z = self.dinv * R
        if self.low_chol is not None:
            Z[:, self.low] = sla.cho_solve(self.low_chol, R[:, self.low].T, check_finite=False).T
        return Z

    def _ahat_rows(self, X):
        """A_hat applied to each row of X (m x L): the FFT product of ``LinearizedProblem.ahat_matvec`` in the row
        layout of ``ToeplitzHankel.apply_rows`` (no transposed copies)."""
        q = self.p.sqfp
        return self.p.zinv * X + q * self.p.K.apply_rows(q * X)[0]

    def cg(self, B):
        """A_hat_OO^-1 B for the rows of B (m x L, zero on W) by conjugate gradients (Jacobi), each row to
        _CG_RTOL relative.  Vectors on O are kept at full length with zeros on W: A_hat_OO x = mask (A_hat x)."""
        B = np.asarray(B, dtype=float)
        X = np.zeros_like(B)
        R = B.copy()
        bn = np.linalg.norm(B, axis=1)
        Z = self._precondition(R)
        P = Z.copy()
        rz = np.einsum("ij,ij->i", R, Z)
        it = 0
        while True:
            act = np.linalg.norm(R, axis=1) > _CG_RTOL * bn
            if not act.any():
                break
            if it == _CG_MAXIT:
                raise SolverFailed("DIVERGED_ITS", f"conjugate gradients on A_hat outside its window did not reach "
                                   f"{_CG_RTOL:g} in {_CG_MAXIT} iterations")
            it += 1
            AP = self._ahat_rows(P)
            AP *= self.mask
            pap = np.einsum("ij,ij->i", P, AP)
            alpha = np.where(act, rz / np.where(act, pap, 1.0), 0.0)[:, None]  # converged rows stay put
            X += alpha * P
            R -= alpha * AP
            Z = self._precondition(R)
            rzn = np.einsum("ij,ij->i", R, Z)
            beta = np.where(act, rzn / np.where(act, rz, 1.0), 0.0)[:, None]
            P *= beta
            P += Z
            rz = rzn
        self.cg_iterations = max(self.cg_iterations, it)
        true = np.linalg.norm(B - self.mask * self._ahat_rows(X), axis=1)
        nz = bn > 0
        if nz.any():
            self._max_rel_res = max(self._max_rel_res, float(np.max(true[nz] / bn[nz])))
        return X

    def _schur(self):
        """S = A_hat_WW - A_hat_WO A_hat_OO^-1 A_hat_OW, a block of columns (unit vectors on W) at a time."""
        W = self.W
        nw = W.size
        S = np.empty((nw, nw), order="F")
        t0 = time.perf_counter()
        for j0, E in self._unit_blocks(W):
            m = E.shape[0]
            AE = self._ahat_rows(E)  # rows W[j0:j0+m] of the symmetric A_hat
            Y = self.cg(AE * self.mask)
            S[:, j0 : j0 + m] = (AE[:, W] - self._ahat_rows(Y)[:, W]).T
            if time.perf_counter() - t0 > 2.0:
                engine_progress.report(f"window Schur complement: column {j0 + m}/{nw}")
        S += S.T  # symmetric up to the CG residuals
        S *= 0.5
        return S

    @staticmethod
    def _inertia(S):
        """The number of negative eigenvalues of the symmetric S from its LDL^T (LAPACK ``sytrf``, Bunch-Kaufman;
        a copy: S is kept for the LU)."""
        if S.shape[0] == 0:
            return 0
        ldu, ipiv, info = sla.lapack.dsytrf(S, lower=1)
        if info < 0:
            raise ValueError(f"LAPACK dsytrf: illegal argument {-info}")
        return sytrf_negatives(ldu, ipiv)

    def _smallest_abs_eig(self):
        """min |eigenvalue| of S: 1/(the largest |eigenvalue| of S^-1), Lanczos on the LU solves."""
        import scipy.sparse.linalg as spla

        nw = self.W.size
        if nw <= 8:
            return float(np.min(np.abs(1.0 / np.linalg.eigvals(sla.lu_solve(self.lu, np.eye(nw))))))
        op = spla.LinearOperator((nw, nw), matvec=lambda v: sla.lu_solve(self.lu, v), dtype=float)
        v0 = np.random.default_rng(0x5EED).standard_normal(nw)
        w = spla.eigsh(op, k=1, which="LM", v0=v0, tol=1e-6, return_eigenvectors=False)
        return float(1.0 / np.max(np.abs(w)))

    # ------------------------------------------------------------------ A_hat^-1
    def solve(self, b):
        """A_hat^-1 b (vector) by block elimination: y = A_OO^-1 b_O, S z = b_W - A_WO y, x_O = y - A_OO^-1 A_OW z."""
        b = np.asarray(b, dtype=float)
        y = self.cg((b * self.mask)[None, :])[0]
        if self.W.size == 0:
            return y
        W = self.W
        z = sla.lu_solve(self.lu, b[W] - self._ahat_rows(y[None, :])[0, W], check_finite=False)
        full = np.zeros_like(b)
        full[W] = z
        x = y - self.cg(self.mask * self._ahat_rows(full[None, :]))[0]
        x[W] = z
        return x

    def certified(self):
        """True when the CG residual bound on ||S_computed - S|| is below S's smallest |eigenvalue| (the count of
        the computed S is then that of the exact one)."""
        return self.margin is None or self.residual_bound < self.margin


def sytrf_negatives(ldu, ipiv):
    """Negative eigenvalues of D in S = L D L^T from LAPACK ``sytrf`` (lower): D has 1x1 blocks and 2x2 blocks
    where ipiv[k] < 0 (then ipiv[k + 1] = ipiv[k]); by Sylvester's law they are S's.  A 2x2 block [[a, b], [b, c]]
    has one negative eigenvalue when ac - b^2 < 0, two when its determinant is positive and a + c < 0."""
    n = ldu.shape[0]
    diag = np.diagonal(ldu)
    two = np.zeros(n, bool)
    k = 0
    piv = np.asarray(ipiv)
    starts = []
    while k < n:  # the 2x2 blocks start where ipiv < 0; a block spans two rows
        if piv[k] < 0:
            starts.append(k)
            k += 2
        else:
            k += 1
    s = np.asarray(starts, dtype=np.int64)
    two[s] = True
    if s.size:
        two[s + 1] = True
    neg = int(np.sum(diag[~two] < 0))
    if s.size:
        a, b, c = diag[s], ldu[s + 1, s], diag[s + 1]
        det = a * c - b * b
        neg += int(np.sum(det < 0)) + 2 * int(np.sum((det > 0) & (a + c < 0)))
    return neg
