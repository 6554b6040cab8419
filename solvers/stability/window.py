"""A_hat split at its window: the exact inertia (the number of unstable modes) and A_hat^-1 above DENSE_MAX without
assembling A_hat (docs/theory.md §3, "The window of A_hat").

A_hat = diag(Z0^-1) + sqrt(-f0') K sqrt(-f0') (Eq. (S20) scaled, (T8)) is indefinite only where Z0^-1 dips below 0
(and, through the kernel, near there): its negative eigenvalues, about one per grid point with Z0^-1 < 0, come from
an energy window W, the hull of the points with diag(A_hat) < WINDOW_TAU.  The grid is split three ways
(:func:`window_split`, from the diagonal alone):

* N, the points of W with diag(A_hat) < -delta (the core where Z0^-1 < 0), A_hat_NN certified negative definite;
* P, the points outside W and those of W's upper flank with diag(A_hat) > delta, A_hat_PP certified positive
  definite (both by their extreme eigenvalue, matrix-free, beyond WINDOW_MARGIN);
* M, the rest: a band of |diag(A_hat)| <= delta at each zero of Z0^-1 and W's lower flank (below the core, where
  A_hat restricted to P plus that flank has a bound state: a negative eigenvalue, so it cannot join P).

X = N + P: A_hat_XX is quasi-definite, so In(A_hat_XX) = (|N|, 0, |P|) (its Schur complement on P,
A_PP - A_PN A_NN^-1 A_NP = A_PP + A_PN |A_NN|^-1 A_NP, is positive definite), and its eigenvalues avoid
(lambda_max(A_NN), lambda_min(A_PP)).  With S = A_hat_MM - A_hat_MX A_hat_XX^-1 A_hat_XM (Haynsworth),

  In(A_hat) = In(A_hat_XX) + In(S):  n_negative(A_hat) = |N| + n_negative(S),

the number of negative gamma by Sylvester's law, whatever a_ee; S (|M| x |M|, |M| ~ 0.017 L against |W| ~ 0.146 L
for modes:40-60 at lambda = 5, T0 = 0.2) is counted by its LDL^T (LAPACK ``sytrf``).  A_hat^-1 b is block elimination
(solves with A_hat_XX, one LU solve with S): the shift-and-invert operator of the poles of Fig. 2.

The plain window split -- N empty, M = W, A_hat_XX = A_hat outside W positive definite (its threshold doubled where
it is not) -- is the special case delta = None.  It is taken first while its S is small (16 |W|^2 <=
WINDOW_PLAIN_MAX): its solves converge in 5 iterations where the quasi-definite split's take 50-170, so below that
size it is as fast and its poles are faster; above it the quasi-definite split keeps S ~70x smaller (refine 64:
|M| = 862 against |W| = 7400, 12 MB against 0.9 GB).  A quasi-definite split that cannot be certified (delta doubled
up to 4 times) falls back to the plain one, whose memory is checked again before anything is built.

The solves with A_hat_XX are preconditioned MINRES (a block of right-hand sides at a time, each its own recurrence;
A_hat_XX is indefinite, conjugate gradients could break down), the preconditioner SPD: the exact block of A_hat
below the window (Cholesky, from the kernel's Toeplitz and Hankel sequences; near the Fermi level the kernel weight
sqrt(f0'_i f0'_j) is largest) up to _BELOW_MAX points, |diag(A_hat)| elsewhere.  A_hat is applied by FFT only
(``LinearizedProblem.ahat_matvec``).  Memory (:func:`window_memory`, known from the diagonal before anything is
built): S twice (16 |M|^2 bytes), the block below the window (8 n_below^2), a block of right-hand sides
(O(L x block)), and for the poles the solves of S's columns while they are small; nothing L x L.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import scipy.linalg as sla
from numpy.lib.stride_tricks import as_strided

from ephkin.pde.grids import available_memory

from .. import progress as engine_progress
from ..failures import SolverFailed
from .smallest import SmallestEigenvalue

__all__ = ["WINDOW_TAU", "WINDOW_DELTA", "WINDOW_MARGIN", "WINDOW_MEM_MAX", "WINDOW_PLAIN_MAX", "AhatWindow",
           "window_split", "window_indices", "window_memory", "window_fits", "window_budget", "sytrf_negatives"]

# the window is the hull of the grid points with diag(A_hat) < WINDOW_TAU: outside it the diagonal (~ Z0^-1 -> 1 away
# from the Fermi level) dominates.  0.5 made A_hat outside definite for modes:40-60 (lambda 5, T0 0.2, refine 2-32:
# lambda_min ~ 0.03); where it does not, the threshold is doubled
WINDOW_TAU = 0.5
# the band |diag(A_hat)| <= WINDOW_DELTA around each zero of Z0^-1 stays in the Schur complement; below -delta the
# window's core is negative definite (modes:40-60, lambda 5: lambda_max(A_NN) = -0.010 at delta 0.02 and refine 4,
# +0.0005 at delta 0.005; -0.027, -0.025, -0.024 at delta 0.04 and refine 8, 16, 32), doubled where it is not.
# A wider band is a larger S and a wider gap of A_hat_XX, fewer MINRES iterations (refine 16, delta 0.02, 0.04,
# 0.08, 0.16: |M| 167, 215, 312, 512 with 73, 62, 50, 39 iterations): 0.04 took the least time
WINDOW_DELTA = 0.04
# lambda_min(A_hat_PP) and -lambda_max(A_hat_NN) must exceed this (absolute; A_hat's diagonal is O(1)): definite with
# a margin far above the eigensolver's tolerance (1e-8), and conditioned enough for MINRES
WINDOW_MARGIN = 1e-3
#: largest memory (bytes) the window split may use (also <= half of MemAvailable)
WINDOW_MEM_MAX = 4e9
_RTOL = 1e-12  # relative residual of every A_hat_XX solve
_MAXIT = 5000
# the exact block below the window is the preconditioner up to this many points (128 MB); beyond, |diag| alone.
# Its triangular solves cost O(n_below^2) per iteration and column against the FFT's O(L log L), n_below ~ 0.088 L:
# measured per MINRES solve at refine 16 (n_below 1120), 56 iterations 2.4 s with it against 147 iterations 3.2 s
# without (a block of 32 columns); at refine 64 (n_below 4472) 77 iterations 10.5 s against 164 in 11.1 s
_BELOW_MAX = 4096
#: the plain window split (S on all of W, A_hat_XX definite: 5 MINRES iterations where the quasi-definite split
#: takes 48-71) is used while its S takes at most this many bytes (|W| <= 4000, refine 34 of modes:40-60 at lambda 5):
#: time per point, the window split at refine 8, 16 took 1.9, 7.3 s plain against 1.6, 5.3 s quasi-definite, and a
#: solve for the poles 3-4x less
WINDOW_PLAIN_MAX = 2.56e8
# the solves A_hat_XX^-1 A_hat_XM of S's columns are kept for A_hat^-1 (the poles) up to this many bytes: each
# application then takes one MINRES solve, not two (refine 32: 431 x 25 464, 88 MB; the poles took 62 s of 144)
_KEEP_Y_MAX = 2.6e8
_BLOCK = 64  # right-hand sides per block of FFT products, at most ...
_WORK_BYTES = 1.6e8  # ... and so many bytes of their work arrays (MINRES keeps ~12 arrays of block x L)


def _block_size(L):
    return int(max(4, min(_BLOCK, _WORK_BYTES // (8 * 12 * max(L, 1)))))


def window_indices(problem, tau=WINDOW_TAU):
    """The window W (the hull of the grid points with diag(A_hat) < tau) and its complement O, index arrays."""
    s = window_split(problem.ahat_diagonal(), tau, None)
    return s.W, s.X


def window_split(d, tau=WINDOW_TAU, delta=WINDOW_DELTA):
    """The split of the grid by the diagonal ``d`` of A_hat (module docstring): a namespace of index arrays W (the
    window, hull of d < tau), N (d < -delta in W; empty for ``delta`` None), M (the Schur complement's points), X
    (the rest, N + P), P, and below (the points below W: the exact block of the preconditioner; empty beyond
    _BELOW_MAX of them)."""
    L = d.size
    low = np.nonzero(d < tau)[0]
    empty = np.zeros(0, dtype=np.int64)
    if low.size == 0:
        return SimpleNamespace(W=empty, N=empty, M=empty, X=np.arange(L), P=np.arange(L), below=empty)
    W = np.arange(low[0], low[-1] + 1)
    N = empty if delta is None else W[d[W] < -delta]
    inM = np.zeros(L, bool)
    inM[W] = True
    if N.size:
        inM[N] = False
        upper = W[(W > N[-1]) & (d[W] > delta)]  # the upper flank, above the core: definite, joins P
        inM[upper] = False
    inN = np.zeros(L, bool)
    inN[N] = True
    return SimpleNamespace(W=W, N=N, M=np.nonzero(inM)[0], X=np.nonzero(~inM)[0], P=np.nonzero(~inM & ~inN)[0],
                           below=np.arange(int(W[0]) if W[0] <= _BELOW_MAX else 0))


def _kept_y(L, nm):
    """Bytes of S's columns' solves kept for A_hat^-1 (0: not kept)."""
    y = 8.0 * nm * L
    return y if y <= _KEEP_Y_MAX else 0.0


def window_memory(L, nm, nlow, count=True, kept=0.0):
    """Bytes of :class:`AhatWindow` with a Schur complement on nm points and nlow points below the window: S and
    (``count``) its LDL^T copy (the LU in place of S), the Cholesky factor of the block below the window, the work
    arrays of a block of right-hand sides, and ``kept`` bytes of solves kept for A_hat^-1 (:func:`_kept_y`)."""
    return (16.0 if count else 8.0) * nm * nm + 8.0 * nlow * nlow + 8.0 * 12 * L * _block_size(L) + kept


def _first_split(d, tau=WINDOW_TAU, delta=WINDOW_DELTA, plain_max=None):
    """The split tried first: the plain window (delta None) while its S takes at most ``plain_max`` bytes
    (WINDOW_PLAIN_MAX), else the quasi-definite one; (split, delta)."""
    plain = window_split(d, tau, None)
    limit = WINDOW_PLAIN_MAX if plain_max is None else plain_max
    if delta is None or 16.0 * plain.M.size**2 <= limit:
        return plain, None
    return window_split(d, tau, delta), delta


def window_budget():
    """Bytes the window split may use: min(WINDOW_MEM_MAX, half of MemAvailable)."""
    return min(WINDOW_MEM_MAX, 0.5 * (available_memory() or 0))


def window_fits(problem, count=True, lu=True):
    """(fits, bytes): whether :class:`AhatWindow` with the first quasi-definite split fits in min(WINDOW_MEM_MAX,
    half of MemAvailable), and its memory (from the diagonal alone: nothing is built).  If the split's certificates
    then fail and it falls back to the plain window, :class:`AhatWindow` checks again before building."""
    s, delta = _first_split(problem.ahat_diagonal())
    L = problem.grid.L
    need = window_memory(L, s.M.size, s.below.size, count, _kept_y(L, s.M.size) if lu and delta else 0.0)
    return need <= window_budget(), need


class _Restricted:
    """sign x A_hat on the indices ``idx`` as the 'problem' of :class:`SmallestEigenvalue` (the products and the
    diagonal it uses): sign -1 gives -lambda_max."""

    def __init__(self, problem, idx, sign=1.0):
        self.p, self.idx, self.sign = problem, idx, sign
        self.grid = SimpleNamespace(L=idx.size)

    def ahat_matvec(self, x):
        full = np.zeros((self.p.grid.L,) + np.shape(x)[1:])
        full[self.idx] = x
        return self.sign * self.p.ahat_matvec(full)[self.idx]

    def ahat_diagonal(self):
        return self.sign * self.p.ahat_diagonal()[self.idx]


class AhatWindow:
    """A_hat split at its window (module docstring): the exact inertia, and A_hat^-1 b (:meth:`solve`).

    Attributes: ``W`` (the window), ``N``, ``M``, ``X`` (index arrays: the negative definite core, the Schur
    complement's points, N + P), ``tau``, ``delta`` (the thresholds used; delta None: the plain split),
    ``lambda_min_P`` (of A_hat_PP, > WINDOW_MARGIN), ``lambda_max_N`` (of A_hat_NN, < -WINDOW_MARGIN; None if N is
    empty), ``lambda_min_OO`` (min(lambda_min_P, -lambda_max_N): A_hat_XX has no eigenvalue in (-it, it)),
    ``n_negative`` (|N| + that of S, so of A_hat), ``iterations`` (most MINRES iterations of one column),
    ``residual_bound`` (bound on ||S_computed - S||_2 from the MINRES residuals) and ``margin`` (the smallest
    |eigenvalue| of S: the count is certified when residual_bound < margin).  ``lu=False``: the count only (no LU
    kept); ``count=False``: A_hat^-1 only (no LDL^T copy of S; ``n_negative`` None).  ``budget`` (bytes): when the
    certified split needs more, nothing is built and ``need`` says how much (``fits`` False).
    """

    def __init__(self, problem, lu=True, count=True, tau=WINDOW_TAU, delta=WINDOW_DELTA, max_doublings=4,
                 budget=None, plain_max=None):
        self.p = problem
        self.d = problem.ahat_diagonal()
        self._choose_split(tau, _first_split(self.d, tau, delta, plain_max)[1], max_doublings)
        L = problem.grid.L
        kept = _kept_y(L, self.M.size) if lu and self.delta is not None else 0.0
        self.need = window_memory(L, self.M.size, self.below.size, count, kept)
        self.fits = budget is None or self.need <= budget
        self.iterations = 0
        self._max_rel_res = 0.0
        self.n_negative = self.lu = self.margin = None
        self.residual_bound = 0.0
        if not self.fits:
            return
        mask = np.zeros(L)
        mask[self.X] = 1.0
        self.mask = mask
        self.dinv = mask / np.where(mask > 0, np.abs(self.d), 1.0)  # |Jacobi| on X (|d| > delta there), 0 on M
        self.below_chol = self._below_block()
        nm = self.M.size
        self.Y = np.empty((nm, L)) if kept else None
        S = self._schur() if nm else np.zeros((0, 0))
        if count:
            self.n_negative = int(self.N.size) + self._inertia(S)
        if nm:
            self.lu = sla.lu_factor(S, overwrite_a=True, check_finite=False)
            del S
            self.margin = self._smallest_abs_eig()
        # ||dS||_2 <= ||A_hat_MX|| ||A_hat_XX^-1|| ||R||_F, ||R||_F <= sqrt(|M|) max ||r_j|| (columns of A_hat_XM,
        # each of norm <= ||A_hat||), ||A_hat_XX^-1|| <= 1/lambda_min_OO (quasi-definite): a bound with
        # ||A_hat_MX|| <= ||A_hat|| (power iteration, a few per cent)
        from .residual import pencil_norms

        an = pencil_norms(problem)[1] if nm else 0.0
        self.residual_bound = an * an * np.sqrt(nm) * self._max_rel_res / self.lambda_min_OO
        if not lu:
            self.lu = self.Y = None

    # ------------------------------------------------------------------ the split
    def _choose_split(self, tau, delta, max_doublings):
        """The first split whose blocks are certified definite: delta doubled while A_hat_NN is not negative definite
        (a narrower core); the plain split (N empty) when A_hat_PP is not positive definite with a core, and then
        tau doubled while it is not."""
        lmax_n = lmin_p = None
        for _ in range(3 * max_doublings + 3):
            s = window_split(self.d, tau, delta)
            lmax_n = -self._lambda_min(s.N, -1.0) if s.N.size else None
            if lmax_n is not None and lmax_n >= -WINDOW_MARGIN:
                delta = 2.0 * delta if delta < WINDOW_DELTA * 2**max_doublings else None
                continue
            lmin_p = self._lambda_min(s.P, 1.0)
            if lmin_p > WINDOW_MARGIN:
                break
            if s.N.size:
                delta = None  # a core, but the rest is not definite: the plain split
            elif tau < WINDOW_TAU * 2**max_doublings:
                tau *= 2.0
            else:
                raise SolverFailed("WINDOW_NOT_DEFINITE", f"A_hat outside its window (diag(A_hat) >= {tau:g}) is not "
                                   f"positive definite (lambda_min = {lmin_p:.3g}); use the LDL^T of the assembled "
                                   "A_hat on a coarser grid")
        else:  # pragma: no cover - the loop ends by break or raise
            raise SolverFailed("WINDOW_NOT_DEFINITE", "no definite window split of A_hat")
        self.tau, self.delta = tau, (delta if s.N.size else None)
        self.W, self.N, self.M, self.X, self.below = s.W, s.N, s.M, s.X, s.below
        self.lambda_min_P, self.lambda_max_N = lmin_p, lmax_n
        self.lambda_min_OO = min(lmin_p, -lmax_n) if lmax_n is not None else lmin_p

    def _lambda_min(self, idx, sign):
        """lambda_min(sign A_hat on idx), matrix-free (SLEPc GD, |diagonal| preconditioner:
        :class:`SmallestEigenvalue`)."""
        if idx.size == 0:
            return np.inf
        mu = None
        try:
            mu = SmallestEigenvalue()
            return mu(_Restricted(self.p, idx, sign))
        finally:
            if mu is not None:
                mu.destroy()

    # ------------------------------------------------------------------ pieces
    def _below_block(self):
        """The Cholesky factor of A_hat on the points below the window (a principal block of the definite A_hat_PP,
        so definite), from the kernel's sequences t(|i - j|) - h(i + j) (``KernelOperator.dense``), no FFT.  Below
        the window lies the Fermi level, where the kernel weight sqrt(f0'_i f0'_j) is largest (1/4T0): with |diag|
        alone there MINRES takes 147, 151, 164 iterations at refine 16, 32, 64 (modes:40-60, lambda 5, delta 0.04),
        with this block 56, 69, 77; on the plain split (A_hat outside W definite) 5."""
        n = self.below.size
        if n == 0:
            return None
        K = self.p.K
        L = K.t.size
        tv = np.concatenate((K.t[:0:-1], K.t))  # t(|m|), m = -(L-1) .. L-1
        s = tv.strides[0]
        toeplitz = as_strided(tv[L - 1 :], shape=(n, n), strides=(-s, s), writeable=False)
        hankel = as_strided(K.h, shape=(n, n), strides=(s, s), writeable=False)
        B = np.subtract(toeplitz, hankel, order="F")
        q = self.p.sqfp[:n]
        B *= q[:, None]
        B *= q[None, :]
        B[np.diag_indices(n)] += self.p.zinv[:n]
        return sla.cho_factor(B, lower=True, overwrite_a=True, check_finite=False)

    def _unit_blocks(self, idx):
        """(j0, E): the unit vectors e_idx[j0..j0+m) as the rows of E, a block at a time (bounded work arrays)."""
        m = _block_size(self.p.grid.L)
        for j0 in range(0, idx.size, m):
            k = min(m, idx.size - j0)
            E = np.zeros((k, self.p.grid.L))
            E[np.arange(k), idx[j0 : j0 + k]] = 1.0
            yield j0, E

    def _precondition(self, R):
        """The SPD preconditioner on the rows of R: the exact block of A_hat below the window (:meth:`_below_block`),
        |diag| elsewhere on X, 0 on M."""
        Z = self.dinv * R
        if self.below_chol is not None:
            n = self.below.size
            Z[:, :n] = sla.cho_solve(self.below_chol, R[:, :n].T, check_finite=False).T
        return Z

    def _ahat_rows(self, X):
        """A_hat applied to each row of X (m x L): the FFT product of ``LinearizedProblem.ahat_matvec`` in the row
        layout of ``ToeplitzHankel.apply_rows`` (no transposed copies)."""
        q = self.p.sqfp
        return self.p.zinv * X + q * self.p.K.apply_rows(q * X)[0]

    def solve_x(self, B):
        """A_hat_XX^-1 B for the rows of B (m x L, zero on M) by preconditioned MINRES (Paige-Saunders, one
        recurrence per row, vectorised), each row to _RTOL relative in the preconditioner's norm.  Vectors on X are
        kept at full length with zeros on M: A_hat_XX x = mask (A_hat x).  A_hat_XX is quasi-definite, not
        definite: conjugate gradients could break down."""
        B = np.asarray(B, dtype=float)
        m = B.shape[0]
        X = np.zeros_like(B)
        r1 = B.copy()
        y = self._precondition(r1)
        beta1 = np.sqrt(np.maximum(np.einsum("ij,ij->i", r1, y), 0.0))
        beta, oldb = beta1.copy(), np.zeros(m)
        dbar, epsln, phibar = np.zeros(m), np.zeros(m), beta1.copy()
        cs, sn = -np.ones(m), np.zeros(m)
        w, w2, r2 = np.zeros_like(B), np.zeros_like(B), r1.copy()
        it = 0
        while True:
            act = phibar > _RTOL * beta1
            if not act.any():
                break
            if it == _MAXIT:
                raise SolverFailed("DIVERGED_ITS", f"MINRES on A_hat outside its Schur complement did not reach "
                                   f"{_RTOL:g} in {_MAXIT} iterations")
            it += 1
            v = y * np.where(act, 1.0 / np.where(act, beta, 1.0), 0.0)[:, None]  # finished rows stay put
            y = self._ahat_rows(v)
            y *= self.mask
            if it >= 2:
                y -= (beta / np.where(oldb > 0, oldb, 1.0))[:, None] * r1
            alfa = np.einsum("ij,ij->i", v, y)
            y -= (alfa / np.where(beta > 0, beta, 1.0))[:, None] * r2
            r1, r2 = r2, y
            y = self._precondition(r2)
            oldb, beta = beta, np.sqrt(np.maximum(np.einsum("ij,ij->i", r2, y), 0.0))
            oldeps = epsln
            delta = cs * dbar + sn * alfa
            gbar = sn * dbar - cs * alfa
            epsln, dbar = sn * beta, -cs * beta
            gamma = np.maximum(np.hypot(gbar, beta), np.finfo(float).tiny)
            cs, sn = gbar / gamma, beta / gamma
            phi = np.where(act, cs * phibar, 0.0)
            phibar = np.where(act, sn * phibar, phibar)
            w1, w2 = w2, w
            w = (v - oldeps[:, None] * w1 - delta[:, None] * w2) / gamma[:, None]
            w[~act] = 0.0  # a finished row's recurrence may run out of range: it is not used
            X += phi[:, None] * w
        self.iterations = max(self.iterations, it)
        true = np.linalg.norm(B - self.mask * self._ahat_rows(X), axis=1)
        bn = np.linalg.norm(B, axis=1)
        nz = bn > 0
        if nz.any():
            self._max_rel_res = max(self._max_rel_res, float(np.max(true[nz] / bn[nz])))
        return X

    def _schur(self):
        """S = A_hat_MM - A_hat_MX A_hat_XX^-1 A_hat_XM, a block of columns (unit vectors on M) at a time."""
        M = self.M
        nm = M.size
        S = np.empty((nm, nm), order="F")
        t0 = time.perf_counter()
        for j0, E in self._unit_blocks(M):
            m = E.shape[0]
            AE = self._ahat_rows(E)  # rows M[j0:j0+m] of the symmetric A_hat
            Y = self.solve_x(AE * self.mask)
            if self.Y is not None:
                self.Y[j0 : j0 + m] = Y
            S[:, j0 : j0 + m] = (AE[:, M] - self._ahat_rows(Y)[:, M]).T
            if time.perf_counter() - t0 > 2.0:
                engine_progress.report(f"window Schur complement: column {j0 + m}/{nm}")
        S += S.T  # symmetric up to the MINRES residuals
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

        nm = self.M.size
        if nm <= 8:
            return float(np.min(np.abs(1.0 / np.linalg.eigvals(sla.lu_solve(self.lu, np.eye(nm))))))
        op = spla.LinearOperator((nm, nm), matvec=lambda v: sla.lu_solve(self.lu, v), dtype=float)
        v0 = np.random.default_rng(0x5EED).standard_normal(nm)
        w = spla.eigsh(op, k=1, which="LM", v0=v0, tol=1e-6, return_eigenvectors=False)
        return float(1.0 / np.max(np.abs(w)))

    # ------------------------------------------------------------------ A_hat^-1
    def solve(self, b):
        """A_hat^-1 b (vector) by block elimination: y = A_XX^-1 b_X, S z = b_M - A_MX y, x_X = y - A_XX^-1 A_XM z."""
        b = np.asarray(b, dtype=float)
        y = self.solve_x((b * self.mask)[None, :])[0]
        if self.M.size == 0:
            return y
        M = self.M
        z = sla.lu_solve(self.lu, b[M] - self._ahat_rows(y[None, :])[0, M], check_finite=False)
        if self.Y is not None:  # A_XX^-1 A_XM kept from S's columns
            x = y - z @ self.Y
        else:
            full = np.zeros_like(b)
            full[M] = z
            x = y - self.solve_x(self.mask * self._ahat_rows(full[None, :]))[0]
        x[M] = z
        return x

    def certified(self):
        """True when the MINRES residual bound on ||S_computed - S|| is below S's smallest |eigenvalue| (the count
        of the computed S is then that of the exact one)."""
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
