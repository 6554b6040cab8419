"""The linearised kinetic equation A phi' = -M phi, seed 000 Eqs. (12)-(14), (S15)-(S21).

With delta f = -f0' phi on the folded grid E_i = i eps (``pde.grids``):

* A (Eq. (S16), discretised as (S20) with the corrections of SPEC section 1):
      A_ij = -Z0^-1(E_i) f0'_i delta_ij + f0'_i K_ij f0'_j,
      K_ij = sum_k c_k [1/((i-j)^2 - r_k^2) - 1/((i+j)^2 - r_k^2)]
           = sum_k 4 c_k i j / ([(i-j)^2 - r_k^2][(i+j)^2 - r_k^2]),
  c_k = eps lambda_k r_k^2 ("exact" kernel, grid units) or eps lambda_k omega_k^2
  ("paper": the seed's Table S1 column 2, suppressed by eps^2).  Principal
  values at the poles (i +- j)^2 = r_k^2, two rules (``pv``):
  - "dropped": the pole terms are left out, as in the seed's code; first order
    (error ~ 1/r): the regular partial fraction at the pole, -1/(4r^2), and the
    trapezoid term eps g'(pole) of the subtracted integrand are both lost;
  - "subtracted" (default for the exact kernel): the pole is subtracted
    analytically -- PV sum_j g_j/(j-p) = sum_{j!=p} g_j/(j-p) + (g_{p+1}-g_{p-1})/2 + O(eps^3)
    -- which keeps -1/(4r^2) at |n| = r and adds -+1/(4r) at |n| = r -+ 1 to the
    generators t and h; third order for smooth integrands (tests/test_linear.py).
  K is Toeplitz minus Hankel, applied by FFT in O(L log L) (:class:`KernelOperator`);
  a dense K is built only on request.
* M^ep (Eq. (S17), (S18), discretised as (S21) with N0 inside the sum over k):
  a sparse, symmetric positive semidefinite graph Laplacian; its null space is
  the ladder modes of commensurate spectra (SPEC section 5).
* With e-e collisions (Eq. (15)): M = M^ep + a_ee M^ee, M^ee of Eq. (S25)
  applied matrix-free by FFT in O(L log L) (``pde.electron_electron.MeeOperator``):
  :meth:`LinearizedProblem.m_matvec`, :meth:`~LinearizedProblem.m_operator`,
  :meth:`~LinearizedProblem.m_diagonal`.  Both parts are symmetric PSD with the
  same sign convention, M = -d(I/pi)/d phi, so the pencil (A, M) stays
  Hermitian-definite (semidefinite) for every a_ee >= 0.

Eigen and inertia computations use the symmetric scaling s_i = (-f0'_i)^(-1/2)
(SPEC "Numerics that matter"): A_hat = S A S has diagonal Z0^-1(E_i) and kernel
sqrt(f0'_i f0'_j) K_ij.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .eliashberg import fermi, zinv
from .errors import InputError, require_nonnegative
from .grids import FoldedGrid, project_spectrum
from .spectra import Spectrum

__all__ = ["fermi_prime", "bose", "LinearizedProblem", "KernelOperator", "cel_identity"]

KERNELS = ("exact", "paper")
PV_RULES = ("subtracted", "dropped")


def fermi_prime(E, T):
    """f0'(E) = -1/(4T cosh^2(E/2T)) (< 0), overflow-free."""
    x = np.abs(np.asarray(E, dtype=float)) / T
    e = np.exp(-x)
    return -e / (T * (1.0 + e) ** 2)


def bose(omega, T):
    """N0(omega) = 1/(exp(omega/T) - 1)."""
    return 1.0 / np.expm1(np.asarray(omega, dtype=float) / T)


class KernelOperator:
    """K_ij = t(|i-j|) - h(i+j) on i, j = 1..L, applied by FFT in O(L log L).

    ``t(d) = sum_k c_k/(d^2 - r_k^2)`` and ``h(s) = sum_k c_k/(s^2 - r_k^2)`` with
    the pole terms d = r_k, s = r_k left out.
    """

    def __init__(self, L, r, c, pv="subtracted"):
        if pv not in PV_RULES:
            raise InputError(f"--pv must be one of {PV_RULES} (got {pv!r})")
        self.L = L
        d = np.arange(0, L, dtype=float)
        s = np.arange(2, 2 * L + 1, dtype=float)
        self.t = _pole_free_sum(d, r, c, pv)
        self.h = _pole_free_sum(s, r, c, pv)
        n = 1 << int(math.ceil(math.log2(3 * L)))
        self._n = n
        tfull = np.concatenate([self.t[:0:-1], self.t])  # t(|k - (L-1)|), k = 0..2L-2
        self._T = np.fft.rfft(tfull, n)
        self._H = np.fft.rfft(self.h, n)

    def matvec(self, x):
        """K @ x for a 1-D array x of length L (or L x m block)."""
        x = np.asarray(x, dtype=float)
        L, n = self.L, self._n
        X = np.fft.rfft(x, n, axis=0)
        Xr = np.fft.rfft(x[::-1], n, axis=0)
        shape = (-1,) + (1,) * (x.ndim - 1)
        tx = np.fft.irfft(self._T.reshape(shape) * X, n, axis=0)[L - 1 : 2 * L - 1]
        hx = np.fft.irfft(self._H.reshape(shape) * Xr, n, axis=0)[L - 1 : 2 * L - 1]
        return tx - hx

    def dense(self):
        """The L x L matrix (small-L reference and direct factorisation only)."""
        L = self.L
        return sla.toeplitz(self.t) - sla.hankel(self.h[:L], self.h[L - 1 : 2 * L - 1])

    def diagonal(self):
        i = np.arange(self.L)
        return self.t[0] - self.h[2 * i]


def _pole_free_sum(n, r, c, pv):
    """sum_k c_k/(n^2 - r_k^2) on integers n, with the principal value at n = r_k by rule ``pv``."""
    out = np.zeros_like(n)
    for rk, ck in zip(r, c):
        rk = float(rk)
        den = n * n - rk * rk
        ok = den != 0.0
        out[ok] += ck / den[ok]
        if pv == "subtracted":
            out[n == rk] += -ck / (4.0 * rk * rk)  # the regular partial fraction at the pole
            out[n == rk - 1] -= ck / (4.0 * rk)  # (g_{p+1} - g_{p-1})/2 of each simple pole
            out[n == rk + 1] += ck / (4.0 * rk)
    return out


@dataclass
class LinearizedProblem:
    """A and M^ep of Eq. (14) for one spectrum, temperature and folded grid.

    Construction projects alpha^2F onto the grid frequencies and evaluates
    Z0^-1, f0, f0' on the grid; nothing L x L is formed.
    """

    spectrum: Spectrum
    T0: float
    grid: FoldedGrid
    kernel: str = "exact"
    a_ee: float = 0.0
    p_ee: object = None  # even P(omega) of Eq. (S22) when a_ee > 0
    pv: str = None  # principal-value rule; default "subtracted" (exact kernel), "dropped" (paper kernel)

    def __post_init__(self):
        self.a_ee = require_nonnegative("a_ee", self.a_ee, "the weight of e-e collisions in Eq. (15) is >= 0")
        if self.a_ee > 0:
            if self.p_ee is None:
                raise InputError("a_ee > 0 needs a transition probability p_ee, P(omega) of Eq. (S22) "
                                 "(e.g. electron_electron.gaussian_p(0.3))", "p_ee")
            from .electron_electron import as_transition_probability

            self.p_ee = as_transition_probability(self.p_ee)
        if self.kernel not in KERNELS:
            raise InputError(f"--kernel must be one of {KERNELS} (got {self.kernel!r})")
        g, T = self.grid, self.T0
        self.E = g.E
        self.r, self.lam_r = project_spectrum(self.spectrum, g.eps, h=0.25 * T)
        self.omega_r = self.r * g.eps
        # Z0^-1 from the same (projected) spectrum as the kernel and M: consistent discretisation
        self.proj = Spectrum("projected", omega=self.omega_r, weight=0.5 * self.lam_r * self.omega_r)
        self.zinv = zinv(self.proj, self.E, T)
        self.f0 = fermi(self.E, T)
        self.fp = fermi_prime(self.E, T)
        if np.any(self.fp == 0.0):
            raise InputError(f"cutoff {g.cutoff:g} is so large that f0' underflows at T0 = {T:g}; lower --cutoff")
        self.s = 1.0 / np.sqrt(-self.fp)  # symmetric scaling (SPEC)
        self.sqfp = np.sqrt(-self.fp)
        c = g.eps * self.lam_r * self.r.astype(float) ** 2
        if self.kernel == "paper":
            c = c * g.eps**2
        if self.pv is None:
            self.pv = "dropped" if self.kernel == "paper" else "subtracted"
        self.K = KernelOperator(g.L, self.r, c, self.pv)

    # ---------------------------------------------------------------- A
    @property
    def a_diag(self):
        """-Z0^-1(E_i) f0'(E_i): the diagonal part of A."""
        return -self.zinv * self.fp

    def a_matvec(self, x):
        """A @ x (FFT for the kernel)."""
        return self.a_diag * x + self.fp * self.K.matvec(self.fp * x)

    def ahat_matvec(self, x):
        """A_hat @ x = S A S x: diagonal Z0^-1, kernel sqrt(f0'_i f0'_j) K_ij."""
        x = np.asarray(x, dtype=float)
        q = self.sqfp.reshape((-1,) + (1,) * (x.ndim - 1))
        z = self.zinv.reshape(q.shape)
        return z * x + q * self.K.matvec(q * x)

    def ahat_diagonal(self):
        return self.zinv + self.sqfp**2 * self.K.diagonal()

    def ahat_dense(self):
        """Dense A_hat (reference / direct factorisation at moderate L); built once and cached
        (read-only: callers must not modify it)."""
        if getattr(self, "_ahat", None) is None:
            Kd = self.K.dense()
            Kd *= self.sqfp[:, None]
            Kd *= self.sqfp[None, :]
            Kd[np.diag_indices_from(Kd)] += self.zinv
            Kd.setflags(write=False)
            self._ahat = Kd
        return self._ahat

    def a_dense(self):
        """Dense A = S^-1 A_hat S^-1 (small-L reference)."""
        return self.ahat_dense() / (self.s[:, None] * self.s[None, :])

    # ---------------------------------------------------------------- M
    def m_sparse(self, scaled=False):
        """M^ep (Eq. (S21), N0 inside the sum) as a symmetric CSR matrix; scaled: S M S."""
        L, T, f = self.grid.L, self.T0, self.f0
        rows, cols, vals = [], [], []
        diag = np.zeros(L)
        idx = np.arange(1, L + 1)
        for r, lam in zip(self.r, self.lam_r):
            om = r * self.grid.eps
            n0 = bose(om, T)
            pref = lam * om * n0 * (n0 + 1.0) / T
            f_up = fermi((idx + r) * self.grid.eps, T)  # may lie beyond the cutoff
            w_up = pref * (f - f_up)  # bond E_i -- E_i + omega
            diag += w_up
            inner = idx + r <= L
            i0 = np.nonzero(inner)[0]
            rows += [i0, i0 + r]
            cols += [i0 + r, i0]
            vals += [-w_up[i0], -w_up[i0]]
            diag[i0 + r] += w_up[i0]
            # bonds E_i -- E_i - omega reaching E <= 0: fold with phi(-E) = -phi(E), phi(0) = 0
            low = np.nonzero(idx <= r)[0]
            if low.size:
                f_dn = np.where(idx[low] < r, 1.0 - fermi((r - idx[low]) * self.grid.eps, T), 0.5)
                w_dn = pref * (f_dn - f[low])
                diag[low] += w_dn
                below = idx[low] < r  # E_i - omega = -E_{r-i}: off-diagonal +w (S21, last term)
                fold = low[below]
                rows.append(fold)
                cols.append(r - idx[fold] - 1)
                vals.append(w_dn[below])
        rows.append(np.arange(L))
        cols.append(np.arange(L))
        vals.append(diag)
        M = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(L, L))
        if scaled:
            S = sp.diags(self.s)
            M = (S @ M @ S).tocsr()
        return M

    def m_matrix(self, scaled=False):
        """M = M^ep + a_ee M^ee (Eq. (15)); sparse without e-e collisions, dense (L <= DENSE_MAX) with them.

        The dense M^ee is the small-grid reference; at any L use :meth:`m_matvec` / :meth:`m_operator`.
        """
        M = self.m_sparse(scaled)
        if self.a_ee == 0.0:
            return M
        from .electron_electron import m_ee_folded

        Mee = self.a_ee * m_ee_folded(self.grid, self.T0, self.p_ee)
        if scaled:
            Mee = Mee * (self.s[:, None] * self.s[None, :])
        return M.toarray() + Mee

    @property
    def ee_operator(self):
        """M^ee (Eq. (S25)) as a matrix-free :class:`pde.electron_electron.MeeOperator` (None if a_ee = 0)."""
        if self.a_ee == 0.0:
            return None
        if getattr(self, "_mee", None) is None:
            from .electron_electron import MeeOperator

            self._mee = MeeOperator(self.grid, self.T0, self.p_ee)
        return self._mee

    def _m_ep_cached(self):
        if getattr(self, "_mep", None) is None:
            self._mep = self.m_sparse()
        return self._mep

    def m_matvec(self, x, scaled=False):
        """M @ x with M = M^ep + a_ee M^ee (Eq. (15)), matrix-free: sparse M^ep, FFT M^ee, O(L log L).

        ``scaled``: S M S x with s_i = (-f0'_i)^(-1/2) (the variables of A_hat).  ``x`` may be
        a vector or an L x k block.
        """
        x = np.asarray(x, dtype=float)
        if scaled:
            s = self.s.reshape((-1,) + (1,) * (x.ndim - 1))
            return s * self.m_matvec(s * x)
        y = self._m_ep_cached() @ x
        if self.a_ee > 0:
            y = y + self.a_ee * self.ee_operator.matvec(x)
        return y

    def m_operator(self, scaled=False):
        """M (or S M S) as a symmetric :class:`scipy.sparse.linalg.LinearOperator`, by :meth:`m_matvec`."""
        from scipy.sparse.linalg import LinearOperator

        L = self.grid.L
        return LinearOperator((L, L), matvec=lambda v: self.m_matvec(v, scaled),
                              rmatvec=lambda v: self.m_matvec(v, scaled),
                              matmat=lambda V: self.m_matvec(V, scaled), dtype=float)

    def m_diagonal(self, scaled=False):
        """diag(M) for preconditioners: M^ep exactly, M^ee to O(eps/T0) (its leading, out-scattering part)."""
        d = self._m_ep_cached().diagonal().copy()
        if self.a_ee > 0:
            d += self.a_ee * self.ee_operator.diagonal()
        return d * self.s**2 if scaled else d

    # ------------------------------------------------------------ checks
    def cel_check(self):
        """<E, A E>/(pi^2 T0^2/6) on the grid: the temperature mode (SPEC "Kernel magnitude").

        Equals C_el/C_free = 1 - sum_k lambda_k g(omega_k/2piT0) (Eq. (S14)) in the
        continuum limit with the exact kernel.
        """
        E = self.E
        return self.grid.eps * float(E @ self.a_matvec(E)) / (math.pi**2 * self.T0**2 / 6.0)


def cel_identity(spectrum, T0):
    """The continuum value of :meth:`LinearizedProblem.cel_check`: 1 - int g(w/2piT) 2a2F/w (Eq. (S14))."""
    from .eliashberg import cel_ratio

    return float(cel_ratio(spectrum, np.array([T0]))[0])


class GalerkinProblem:
    """Eq. (14) on a nonuniform grid: Rayleigh-Ritz with hat functions on graded nodes.

    phi(E) = sum_n phi_n N_n(E) with piecewise-linear hats N_n on ``nodes``
    (``pde.grids.graded_nodes``: fine near E = 0 and near the minimum and zeros
    of Z0^-1, coarse where f0' is small).  The bilinear forms are integrated on
    the fine uniform folded grid of ``fine`` (where omega_k are grid multiples
    and A applies by FFT), through the sparse interpolation P (fine <- nodes):
        A_G = P^T A_hat P,   M_G = P^T M_hat P,   G = P^T P,
    in the scaled variables x = phi/s.  Both forms stay symmetric and M_G
    positive semidefinite; mu_min(A_G, G) >= mu_min(A_hat) (variational), and
    Sylvester's law holds for the reduced pencil.  P1 elements: eigenvalue
    errors O(h^2) in the node spacing.
    """

    def __init__(self, fine, nodes):
        from .grids import hat_interpolation

        self.fine = fine
        self.nodes = np.asarray(nodes, dtype=float)
        self.P = hat_interpolation(self.nodes, fine.E)
        self.N = self.nodes.size
        if np.min(np.diff(np.concatenate([[0.0], self.nodes]))) < 2.0 * fine.grid.eps:
            raise InputError("graded grid: node spacing below two steps of the fine grid; refine the fine grid")

    def a_matrix(self):
        """A_G = P^T A_hat P (N x N); A_hat applied by FFT to the N columns of P."""
        AP = self.fine.ahat_matvec(self.P.toarray())
        out = self.P.T @ AP
        return 0.5 * (out + out.T)

    def m_matrix(self):
        """M_G = P^T M_hat P (sparse, symmetric PSD)."""
        return (self.P.T @ self.fine.m_matrix(scaled=True) @ self.P).tocsr()

    def gram(self):
        return (self.P.T @ self.P).tocsr()

    def mu_min(self):
        """Smallest Ritz value of A_hat in the hat space (generalised by the Gram matrix)."""
        return float(sla.eigh(self.a_matrix(), self.gram().toarray(), eigvals_only=True, subset_by_index=[0, 0])[0])
