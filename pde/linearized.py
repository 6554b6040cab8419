"""The linearised kinetic equation A phi' = -M phi, seed 000 Eqs. (12)-(14), (S15)-(S21).

With delta f = -f0' phi on the folded grid E_i = i eps (``pde.grids``):

* A (Eq. (S16), discretised as (S20) with the corrections of docs/theory.md §2.1, (T8)):
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
* M^ep (Eq. (S17), (S18), discretised on the folded grid as in Sec. S2 with N0 inside the sum over k):
  a sparse, symmetric positive semidefinite graph Laplacian; its null space is
  the ladder modes of commensurate spectra (docs/theory.md §5).
* With e-e collisions (Eq. (15)): M = M^ep + a_ee M^ee, M^ee of Eq. (S25)
  applied matrix-free by FFT in O(L log L) (``pde.electron_electron.MeeOperator``):
  :meth:`LinearizedProblem.m_matvec`, :meth:`~LinearizedProblem.m_operator`,
  :meth:`~LinearizedProblem.m_diagonal`.  Both parts are symmetric PSD with the
  same sign convention, M = -d(I/pi)/d phi, so the pencil (A, M) stays
  Hermitian-definite (semidefinite) for every a_ee >= 0.

Eigen and inertia computations use the symmetric scaling s_i = (-f0'_i)^(-1/2)
(docs/theory.md §3, "Scaling and Sylvester's law"): A_hat = S A S has diagonal Z0^-1(E_i) and kernel
sqrt(f0'_i f0'_j) K_ij.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from numpy.lib.stride_tricks import as_strided

from .eliashberg import fermi, fermi_prime
from .errors import InputError, require_nonnegative, require_positive
from .fftops import ToeplitzHankel, lag_correlate
from .grids import FoldedGrid, check_memory, default_grid, linear_problem_bytes, project_spectrum
from .polygamma import im_trigamma_half, re_tetragamma_half
from .spectra import Spectrum

__all__ = ["fermi_prime", "bose", "LinearizedProblem", "KernelOperator", "CouplingFamily", "cel_identity"]

KERNELS = ("exact", "paper")
PV_RULES = ("subtracted", "dropped")
# above this many grid phonon frequencies (a continuous or tabulated alpha^2F) the sums over modes are
# FFT correlations; combs (Einstein, modes:40-60: 1-21 frequencies) keep the mode-by-mode stencils
FFT_MODES_MIN = 32


def bose(omega, T):
    """N0(omega) = 1/(exp(omega/T) - 1)."""
    return 1.0 / np.expm1(np.asarray(omega, dtype=float) / T)


class KernelOperator(ToeplitzHankel):
    """K_ij = t(|i-j|) - h(i+j) on i, j = 1..L (Eq. (S20), docs/theory.md (T4)).

    ``t(d) = sum_k c_k/(d^2 - r_k^2)`` and ``h(s) = sum_k c_k/(s^2 - r_k^2)``, with the
    principal value at the poles by rule ``pv`` (module docstring); both are samples of one
    function of the integer lag (:func:`_pole_free_sum`).

    The product is the Toeplitz-minus-Hankel product of :class:`pde.fftops.ToeplitzHankel`: one real
    FFT and one inverse real FFT of length n = ``scipy.fft.next_fast_len(2L - 1)``, the floor for a
    Toeplitz product.  T^ and H^ are computed once; the zero-padded input and the spectrum are
    preallocated work arrays.  ``matvecs`` counts products (a block of m vectors counts m);
    ``total_matvecs`` also counts those of the :meth:`scaled` copies sharing this operator's transforms.
    """

    def __init__(self, L, r, c, pv="subtracted"):
        if pv not in PV_RULES:
            raise InputError(f"pv must be one of {PV_RULES} (got {pv!r})", "pv")
        L = int(L)
        if L < 1:
            raise InputError(f"L must be >= 1 (got {L})", "L")
        F = _pole_free_sum(0, 2 * L, r, c, pv)  # F(n), n = 0..2L
        self.t, self.h = F[:L], F[2:]
        super().__init__(L, [(self.t, None, self.h, -1.0)])

    def scaled(self, kappa):
        """kappa K, sharing the work arrays and the product count (no transform recomputed)."""
        new = self._scaled_copy(kappa)
        new.t, new.h = new._kernels[0][0], new._kernels[0][2]
        return new

    def matvec(self, x):
        """K @ x for x of shape (L,), or K @ X for a block X of shape (L, m) (column by column)."""
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            return self.apply_rows(x[None, :])[0, 0]
        if x.ndim != 2 or x.shape[0] != self.L:
            raise InputError(f"x must have shape (L,) or (L, m) with L = {self.L} (got {x.shape})", "x")
        return self.apply_rows(x.T)[0].T

    def dense(self):
        """The L x L matrix: the reference for the FFT product, and the direct (small-L) paths."""
        L = self.L
        tv = np.concatenate((self.t[:0:-1], self.t))  # t(|m|), m = -(L-1) .. L-1
        s = tv.strides[0]
        toeplitz = as_strided(tv[L - 1 :], shape=(L, L), strides=(-s, s), writeable=False)  # t(|i-j|)
        hankel = as_strided(self.h, shape=(L, L), strides=(s, s), writeable=False)  # h(i+j), h[0] = h(2)
        return np.subtract(toeplitz, hankel)  # one pass over L^2, no Toeplitz/Hankel copies

    def diagonal(self):
        i = np.arange(self.L)
        return self.t[0] - self.h[2 * i]


def _pole_free_sum(n0, n1, r, c, pv):
    """F(n) = sum_k c_k/(n^2 - r_k^2) on the integers n = n0..n1, with the principal value at n = r_k by
    rule ``pv``.

    Few grid frequencies (combs): the sum mode by mode.  Many (a continuous alpha^2F): by partial
    fractions, c/(n^2 - r^2) = a [1/(n - r) - 1/(n + r)] with a = c/(2r), F is the correlation of the
    weights a_r with the sequence u(m) = 1/m, one FFT whatever the number of modes
    (:func:`pde.fftops.lag_correlate`); the pole rule lives in u(0) and u(+-1).
    """
    r = np.asarray(r, dtype=np.int64)
    c = np.asarray(c, dtype=float)
    n = np.arange(n0, n1 + 1, dtype=float)
    if r.size <= FFT_MODES_MIN:
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
    R = int(r.max())
    a = c / (2.0 * r)
    kern = np.zeros(2 * R + 1)
    kern[R - r] = a  # a_r u(n - r)
    kern[R + r] = -a  # -a_r u(n + r)
    m = np.arange(n0 - R, n1 + R + 1, dtype=float)
    u = np.divide(1.0, m, out=np.zeros_like(m), where=m != 0)
    # "subtracted": the pole's regular part -a/(2r) stays (u(0) = 0, u(2r) kept) and
    # (g_{p+1} - g_{p-1})/2 adds +-a/2 at n = r +- 1, i.e. u(+-1) = +-3/2; "dropped": no pole term at all
    delta = 0.5 if pv == "subtracted" else 0.0
    u[m == 1] += delta
    u[m == -1] -= delta
    out = lag_correlate(kern, u, R)
    if delta and n0 <= 0 <= n1 and r[0] == 1:
        out[-n0] += a[0] * delta  # u(n + r) at n + r = 1 is 1/(n + r), not the pole rule's value
    if pv == "dropped":
        at = (r >= n0) & (r <= n1)
        out[r[at] - n0] += a[at] / (2.0 * r[at])  # the pole's regular partial fraction dropped too
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
    lam: float = None  # the coupling lambda of ``spectrum`` (only d/dlambda needs it)
    units: str = "g"  # units of ``spectrum`` ("g" or "plain", see Spectrum.with_lambda)
    reuse: LinearizedProblem = None  # same shape at another lambda: rescale its kernel (and Z0^-1 if possible)

    def __post_init__(self):
        self.a_ee = require_nonnegative("a_ee", self.a_ee, "the weight of e-e collisions in Eq. (15) is >= 0")
        if self.a_ee > 0:
            if self.p_ee is None:
                raise InputError("a_ee > 0 needs a transition probability p_ee, P(omega) of Eq. (S22) "
                                 "(e.g. electron_electron.gaussian_p(0.3))", "p_ee")
            from .electron_electron import as_transition_probability

            self.p_ee = as_transition_probability(self.p_ee)
        if self.kernel not in KERNELS:
            raise InputError(f"kernel must be one of {KERNELS} (got {self.kernel!r})", "kernel")
        if self.units not in ("g", "plain"):
            raise InputError(f"units must be 'g' or 'plain' (got {self.units!r})", "units")
        # validated here, where the operator is built, so that every path (CLI, run files, Python) gets it
        self.T0 = T = require_positive("T0", self.T0, "give the phonon (bath) temperature T0 > 0")
        g = self.grid
        if not (g.eps > 0 and g.L >= 1):
            raise InputError(f"grid needs a step > 0 and L >= 1 points (got {g.eps!r}, {g.L!r})", "grid_step")
        if g.eps > T / 4.0:
            raise InputError(
                f"grid step {g.eps:g} does not resolve T0 = {T:g} (need step <= T0/4); use a finer grid "
                "(refine or grid_step)",
                "grid_step",
            )
        check_memory(linear_problem_bytes(g.L), f"the linear problem on L = {g.L} points")
        self.E = g.E
        self.r, self.lam_r = project_spectrum(self.spectrum, g.eps, h=0.25 * T)
        self.omega_r = self.r * g.eps
        # the e-ph operators (M^ep, I_ep, the sums over modes): FFT products for more than FFT_MODES_MIN grid
        # phonon frequencies (a continuous or tabulated alpha^2F), mode-by-mode stencils for combs
        self.ep_fft = bool(self.r.size > FFT_MODES_MIN)
        # Z0^-1 from the same (projected) spectrum as the kernel and M: consistent discretisation
        self.proj = Spectrum("projected", omega=self.omega_r, weight=0.5 * self.lam_r * self.omega_r)
        self.f0 = fermi(self.E, T)
        self.fp = fermi_prime(self.E, T)
        if np.any(self.fp == 0.0):
            raise InputError(f"cutoff {g.cutoff:g} is so large that f0' underflows at T0 = {T:g}; lower the cutoff",
                             "cutoff")
        c = g.eps * self.lam_r * self.r.astype(float) ** 2
        if self.kernel == "paper":
            c = c * g.eps**2
        if self.pv is None:
            self.pv = "dropped" if self.kernel == "paper" else "subtracted"
        self._c = c
        kappa = self._rescaling(self.reuse)
        self.kernel_reused = kappa is not None
        if kappa is None:
            self.K = KernelOperator(g.L, self.r, c, self.pv)
            self.zinv = 1.0 - self._lattice_mode_sum(im_trigamma_half) / (2.0 * math.pi * T)
        else:
            self.K = self.reuse.K.scaled(kappa)
            if self.reuse.grid.eps == g.eps:  # same grid: Z0^-1 - 1 is linear in lambda_k (Eq. (5))
                self.zinv = 1.0 + kappa * (self.reuse.zinv - 1.0)
            else:
                self.zinv = 1.0 - self._lattice_mode_sum(im_trigamma_half) / (2.0 * math.pi * T)

    @functools.cached_property
    def s(self):
        """The symmetric scaling s_i = (-f0'_i)^(-1/2) of A_hat = S A S, M_hat = S M S (docs/theory.md §3);
        computed on first use (the kinetic equation never needs it)."""
        return 1.0 / np.sqrt(-self.fp)

    @functools.cached_property
    def sqfp(self):
        """sqrt(-f0'_i) = 1/s_i, computed on first use."""
        return np.sqrt(-self.fp)

    def _rescaling(self, ref):
        """kappa with K = kappa K(ref) if ``ref`` has the same L, rule, kernel, grid frequencies r_k and
        coefficients c_k proportional to this problem's (e.g. the same shape at another lambda); else None."""
        if ref is None or not isinstance(ref, LinearizedProblem):
            return None
        if (ref.grid.L != self.grid.L or ref.pv != self.pv or ref.kernel != self.kernel or ref.T0 != self.T0
                or not np.array_equal(ref.r, self.r)):
            return None
        kappa = float(self._c[0] / ref._c[0])
        return kappa if np.allclose(self._c, kappa * ref._c, rtol=1e-12, atol=0.0) else None

    def _lattice_mode_sum(self, fn):
        """sum_k w_k [fn(y_i + x_k) - fn(y_i - x_k)] for an odd ``fn``, y_i = E_i/2piT0, x_k = omega_k/2piT0,
        w_k = lambda_k omega_k/2 (the mode sums of Eq. (5), as in ``pde.eliashberg``).

        Because omega_k = r_k eps with integer r_k, every argument is a multiple of eps/2piT0:
        ``fn`` is evaluated at the L + max r_k + 1 lattice points only, not at 2 L x (number of modes).
        """
        L = self.grid.L
        a = self.grid.eps / (2.0 * math.pi * self.T0)
        R = int(np.max(self.r))
        vals = fn(a * np.arange(L + R + 1, dtype=float))
        w = 0.5 * self.lam_r * self.omega_r
        if self.ep_fft:
            # many modes: one FFT correlation of the odd lattice sequence fn(a m), m = 1-R..L+R, with the
            # antisymmetric weights (+w_k at lag +r_k, -w_k at lag -r_k)
            kern = np.zeros(2 * R + 1)
            kern[R + self.r], kern[R - self.r] = w, -w
            odd = np.concatenate([-vals[R - 1:0:-1], vals])  # fn(a m) for m = 1-R..L+R (fn odd)
            return lag_correlate(kern, odd, R)
        i = np.arange(1, L + 1)
        out = np.zeros(L)
        for rk, wk in zip(self.r, w):
            d = i - rk
            out += wk * (vals[i + rk] - np.sign(d) * vals[np.abs(d)])
        return out

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

    def ahat_dense(self, cache=True):
        """Dense A_hat (reference / direct factorisation at moderate L), Fortran-ordered (the same
        symmetric matrix: LAPACK copies it without a transposition).  cache=True: built once and kept,
        read-only (callers must not modify it); False: a fresh writable array, not kept (for a
        factorisation in place)."""
        if not cache:
            return self._build_ahat_dense()
        if getattr(self, "_ahat", None) is None:
            self._ahat = self._build_ahat_dense()
            self._ahat.setflags(write=False)
        return self._ahat

    def _build_ahat_dense(self):
        L = self.grid.L
        check_memory(3 * 8 * L * L, f"the dense A_hat on L = {L} points",
                     "use a coarser grid (a smaller refine or a larger grid_step) or the matrix-free solver")
        Kd = self.K.dense()
        Kd *= self.sqfp[:, None]
        Kd *= self.sqfp[None, :]
        Kd[np.diag_indices_from(Kd)] += self.zinv
        return Kd.T

    # ------------------------------------------------------ d A_hat / d lambda
    def _dlam_parts(self):
        """Pieces of lambda dA_hat/dlambda that need no kernel product (cached): (beta p, diagonal, W).

        Along the coupling family of this problem (module docstring of :class:`CouplingFamily`):
        lambda_k = lambda l_k, omega_k and eps proportional to lambda^-beta (beta = 1/2 in units
        of g, docs/theory.md §0; 0 in plain units), r_k and L fixed.  Then, with D = diag sqrt(-f0'_i),
            lambda dA_hat/dlambda = Zt - beta eps d_eps Zt + (1 - beta p) D K D + beta (W D K D + D K D W),
        Zt = Z0^-1 - 1 (linear in lambda_k, Eq. (5)); eps d_eps Zt = Zt - (2piT0)^-1 sum_k w_k [G(y_i + x_k) -
        G(y_i - x_k)] with G(u) = u Re psi2(1/2 + iu); K scales as eps^p (p = 1 exact, 3 paper kernel, Eq. (S20));
        eps d_eps ln sqrt(-f0'(i eps)) = -W_i, W_i = (E_i/2T0) tanh(E_i/2T0).
        """
        if getattr(self, "_dlam", None) is None:
            if self.lam is None or not self.lam > 0:
                raise InputError("lam (the coupling of this problem's spectrum, > 0) is needed for d/dlambda", "lam")
            beta = 0.5 if self.units == "g" else 0.0
            p = 3.0 if self.kernel == "paper" else 1.0
            zt = self.zinv - 1.0
            diag = zt
            if beta:
                G = lambda u: u * re_tetragamma_half(u)  # noqa: E731
                eps_dzt = zt - self._lattice_mode_sum(G) / (2.0 * math.pi * self.T0)
                diag = zt - beta * eps_dzt
            y = self.E / (2.0 * self.T0)
            self._dlam = (beta, p, diag, y * np.tanh(y))
        return self._dlam

    def dahat_dlam_matvec(self, x):
        """dA_hat/dlambda @ x (Eq. (14) in the scaled form A_hat = S A S), analytically.

        The derivative is along the coupling family of :class:`CouplingFamily`: the phonon
        frequencies scale as lambda^-1/2 in units of g (docs/theory.md §0; fixed in plain units),
        the grid step with them, L fixed -- what ``default_grid(..., points=L)`` does for
        spectra with a commensurate step (``modes:``, one Einstein mode).  Needs ``lam``.
        Costs two kernel products (one block apply); x may be an (L, m) block.
        """
        beta, p, diag, W = self._dlam_parts()
        x = np.asarray(x, dtype=float)
        shape = (-1,) + (1,) * (x.ndim - 1)
        q, d, w = self.sqfp.reshape(shape), diag.reshape(shape), W.reshape(shape)
        if beta:
            both = self.K.matvec(np.stack([q * x, q * w * x], axis=1).reshape(x.shape[0], -1))
            both = both.reshape((x.shape[0], 2) + x.shape[1:])
            kx, kwx = q * both[:, 0], q * both[:, 1]
            out = d * x + (1.0 - beta * p) * kx + beta * (w * kx + kwx)
        else:
            out = d * x + q * self.K.matvec(q * x)
        return out / self.lam

    def dmu_dlam(self, v):
        """v^T (dA_hat/dlambda) v / v^T v: the Hellmann-Feynman slope d mu/d lambda of an eigenvalue mu of
        A_hat with eigenvector v (Eq. (14)), along the family of :meth:`dahat_dlam_matvec`.
        One kernel product (K is symmetric, so v^T (W DKD + DKD W) v = 2 (W v)^T DKD v)."""
        beta, p, diag, W = self._dlam_parts()
        v = np.asarray(v, dtype=float)
        u = self.sqfp * self.K.matvec(self.sqfp * v)
        num = float(v @ (diag * v)) + (1.0 - beta * p) * float(v @ u) + 2.0 * beta * float((W * v) @ u)
        return num / (self.lam * float(v @ v))

    # ---------------------------------------------------------------- M
    def _mhat_fft(self):
        """(D_hat, K_q): M_hat = S M^ep S = diag(D_hat) - K_q, K_q Toeplitz minus Hankel (cached).

        In the scaled variables every bond of M^ep (Eq. (S18) on the grid) has the same weight for one mode, whatever E:
        s_i s_j pref_k (f0(E_i) - f0(E_i + omega_k)) = q_k = lambda_k omega_k/(2 sinh(omega_k/2T0)), because
        f0(x) - f0(y) = sinh((y - x)/2T)/(2 cosh(x/2T) cosh(y/2T)) and s = 2 sqrt(T) cosh(E/2T); the folded
        bonds E_i -- -E_{r-i} likewise.  So the off-diagonal part is the Toeplitz-minus-Hankel kernel with
        t(d) = h(d) = q_d (pde.fftops), and the diagonal
            D_hat_i = sum_k q_k [cosh(a_i)/cosh(a_i + b_k) + cosh(a_i)/cosh(a_i - b_k)],  a = E/2T0, b = omega/2T0,
                    = [sum_k q_k e^-b_k u(i + r_k) + sum_k q_k e^b_k u(i - r_k)] / u(i),  u(n) = 1 - f0(n eps),
        one FFT correlation of bounded positive terms (q_k e^+-b_k <= lambda_k omega_k coth(b_k)).
        """
        if getattr(self, "_mhat", None) is None:
            L, eps, T = self.grid.L, self.grid.eps, self.T0
            R = int(np.max(self.r))
            b = self.omega_r / (2.0 * T)
            q = self.lam_r * self.omega_r / (2.0 * np.sinh(b))
            gen = np.zeros(2 * L + 1)  # q at lag d = 0..2L (zero where no grid frequency)
            inside = self.r <= 2 * L
            gen[self.r[inside]] = q[inside]
            Kq = ToeplitzHankel(L, [(gen[:L], None, gen[2:], -1.0)])
            self._mhat_fold = gen[2 : 2 * L + 1 : 2]  # q at r = 2i: the fold bonds E_i -- -E_i, on the diagonal
            from scipy.special import expit

            u = expit(eps * np.arange(1 - R, L + R + 1, dtype=float) / T)  # 1 - f0(n eps), n = 1-R..L+R
            kern = np.zeros(2 * R + 1)
            kern[R + self.r] = q * np.exp(-b)
            kern[R - self.r] = q * np.exp(b)
            D = lag_correlate(kern, u, R) / u[R : R + L]
            self._mhat = (D, Kq)
        return self._mhat

    def m_sparse(self, scaled=False):
        """M^ep (Eq. (S18) on the folded grid, N0 inside the sum) as a symmetric CSR matrix; scaled: S M S.  About
        (2 n_modes + 1) L nonzeros: the small-L reference, and the operator of spectra with few grid
        frequencies."""
        L, T, f = self.grid.L, self.T0, self.f0
        rs, lams = self.r, self.lam_r
        check_memory(linear_problem_bytes(L, rs.size) - linear_problem_bytes(L),
                     f"M^ep on L = {L} points with {rs.size} grid phonon frequencies")
        rows, cols, vals = [], [], []
        diag = np.zeros(L)
        idx = np.arange(1, L + 1)
        for r, lam in zip(rs, lams):
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
                below = idx[low] < r  # E_i - omega = -E_{r-i}: off-diagonal +w (the fold term of M^ep)
                fold = low[below]
                rows.append(fold)
                cols.append(r - idx[fold] - 1)
                vals.append(w_dn[below])
        rows.append(np.arange(L))
        cols.append(np.arange(L))
        vals.append(diag)
        rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        if scaled:  # S M S entry by entry
            vals *= self.s[rows] * self.s[cols]
        return sp.csr_matrix((vals, (rows, cols)), shape=(L, L))

    def m_ep_diagonal(self, scaled=False):
        """diag(M^ep) (Eq. (S18) on the grid), exact: by FFT (:meth:`_mhat_fft`) for many grid frequencies."""
        if self.ep_fft:
            D = self._mhat_fft()[0]
            d = D + self._mhat_fold  # the fold bonds E_i -- -E_i (r_k = 2i) sit on the diagonal: -(-h(2i))
            return d if scaled else d * self.sqfp**2
        d = self._m_ep_cached().diagonal().copy()
        return d * self.s**2 if scaled else d

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
        """M @ x with M = M^ep + a_ee M^ee (Eq. (15)), matrix-free, O(L log L): M^ep by its sparse stencil
        (few grid frequencies) or as diag(D_hat) - K_q by FFT (:meth:`_mhat_fft`), M^ee by FFT.

        ``scaled``: S M S x with s_i = (-f0'_i)^(-1/2) (the variables of A_hat).  ``x`` may be
        a vector or an L x k block.
        """
        x = np.asarray(x, dtype=float)
        shape = (-1,) + (1,) * (x.ndim - 1)
        if self.ep_fft:
            # the FFT operator is the scaled one (bounded entries); M^ep = S^-1 M_hat S^-1, S^-1 = sqrt(-f0')
            q = None if scaled else self.sqfp.reshape(shape)
            y = self._mhat_matvec(x if scaled else q * x)
            y = y if scaled else q * y
            if self.a_ee > 0:
                s = self.s.reshape(shape)
                y = y + self.a_ee * (s * self.ee_operator.matvec(s * x) if scaled else self.ee_operator.matvec(x))
            return y
        if scaled:
            s = self.s.reshape(shape)
            return s * self.m_matvec(s * x)
        y = self._m_ep_cached() @ x
        if self.a_ee > 0:
            y = y + self.a_ee * self.ee_operator.matvec(x)
        return y

    def _mhat_matvec(self, x):
        """M_hat^ep @ x by FFT (vector or L x k block)."""
        D, Kq = self._mhat_fft()
        if x.ndim == 1:
            return D * x - Kq.apply_rows(x[None, :])[0, 0]
        return D[:, None] * x - Kq.apply_rows(x.T)[0].T

    def m_operator(self, scaled=False):
        """M (or S M S) as a symmetric :class:`scipy.sparse.linalg.LinearOperator`, by :meth:`m_matvec`."""
        from scipy.sparse.linalg import LinearOperator

        L = self.grid.L
        return LinearOperator((L, L), matvec=lambda v: self.m_matvec(v, scaled),
                              rmatvec=lambda v: self.m_matvec(v, scaled),
                              matmat=lambda V: self.m_matvec(V, scaled), dtype=float)

    def m_diagonal(self, scaled=False):
        """diag(M) for preconditioners: M^ep exactly, M^ee to O(eps/T0) (its leading, out-scattering part)."""
        d = self.m_ep_diagonal()
        if self.a_ee > 0:
            d += self.a_ee * self.ee_operator.diagonal()
        return d * self.s**2 if scaled else d

    # ------------------------------------------------------------ checks
    def cel_check(self):
        """<E, A E>/(pi^2 T0^2/6) on the grid: the temperature mode (docs/theory.md (T9)).

        Equals C_el/C_free = 1 - sum_k lambda_k g(omega_k/2piT0) (Eq. (S14)) in the
        continuum limit with the exact kernel.
        """
        E = self.E
        return self.grid.eps * float(E @ self.a_matvec(E)) / (math.pi**2 * self.T0**2 / 6.0)


class CouplingFamily:
    """The problems of Eq. (14) for one alpha^2F shape, T0 and grid rule, as the coupling lambda varies.

    ``problem(lam)`` is ``LinearizedProblem(shape.with_lambda(lam, units), T0, default_grid(...))``
    -- the same problem a caller would build -- but what does not depend on lambda is kept:

    * the kernel's FFT transforms: in the family lambda_k = lambda l_k and omega_k, eps scale alike
      (lambda^-1/2 in units of g, docs/theory.md §0; fixed in plain units), so the grid frequencies
      r_k = omega_k/eps stay put and K(lambda) is a multiple of K(lambda_0) (Eq. (S20));
    * in plain units the grid too, hence f0' and Z0^-1 - 1 up to the factor lambda/lambda_0;
    * Z0^-1 needs the polygamma kernel on L + max r_k lattice points only (``_lattice_mode_sum``).

    ``slope(lam, v)`` is d mu/d lambda = v^T (dA_hat/dlambda) v for the unit eigenvector v of
    mu = mu_min(lam), analytic (:meth:`LinearizedProblem.dmu_dlam`, one kernel product) whenever
    the grid follows the family; for the grids that do not (a fixed ``grid_step`` in units of g,
    or a continuous alpha^2F whose projection on the grid changes with lambda) it falls back to
    a forward difference, the only case in which a problem is built for a derivative
    (``slope_method`` says which was used).  ``kernel_matvecs`` counts every kernel product of
    every problem of the family.
    """

    def __init__(self, shape, T0, units="g", kernel="exact", refine=1, grid_step=None, cutoff=None, points=None,
                 pv=None, a_ee=0.0, p_ee=None):
        self.shape, self.T0, self.units, self.kernel, self.pv = shape, T0, units, kernel, pv
        self.grid_args = (refine, grid_step, cutoff, points)
        self.a_ee, self.p_ee = a_ee, p_ee
        self._ref = None  # the first problem built: source of the kernel transforms
        self._last = None  # (lam, problem): the eigen solve and the slope at one lambda share it
        self._counts = []  # the product counters of each distinct kernel operator built
        self.problems_built = 0
        self.slope_method = None

    def problem(self, lam):
        """The LinearizedProblem at coupling ``lam`` (cached for the last lambda)."""
        if self._last is not None and self._last[0] == lam:
            return self._last[1]
        spec = self.shape.with_lambda(lam, self.units)
        grid = default_grid(spec, self.T0, *self.grid_args)
        p = LinearizedProblem(spec, self.T0, grid, self.kernel, self.a_ee, self.p_ee, self.pv, lam=lam,
                              units=self.units, reuse=self._ref)
        self.problems_built += 1
        if self._ref is None:
            self._ref = p
        if not p.kernel_reused:
            self._counts.append(p.K._count)
        self._last = (lam, p)
        return p

    def follows(self, p):
        """True if the grid rule follows the family at ``p``: at lambda (1 +- 1e-4) the grid step scales like
        the phonon frequencies and the projected spectrum keeps r_k, with lambda_k proportional to lambda."""
        beta = 0.5 if self.units == "g" else 0.0
        for q in (1.0 - 1e-4, 1.0 + 1e-4):
            spec = self.shape.with_lambda(p.lam * q, self.units)
            eps = default_grid(spec, self.T0, *self.grid_args).eps
            r, lam_r = project_spectrum(spec, eps, h=0.25 * self.T0)
            if (abs(eps / p.grid.eps - q**-beta) > 1e-12 * q**-beta or not np.array_equal(r, p.r)
                    or not np.allclose(lam_r, q * p.lam_r, rtol=1e-12, atol=0.0)):
                return False
        return True

    def slope(self, lam, v, step=1e-6):
        """d mu/d lambda at ``lam`` for the eigenvector ``v`` of A_hat(lam) (Hellmann-Feynman)."""
        p = self.problem(lam)
        if self.follows(p):
            self.slope_method = "analytic"
            return p.dmu_dlam(v)
        self.slope_method = "forward-difference"
        v = np.asarray(v, dtype=float)
        m0 = float(v @ p.ahat_matvec(v)) / float(v @ v)
        d = step * lam
        other = self.problem(lam + d)
        m1 = float(v @ other.ahat_matvec(v)) / float(v @ v)
        self._last = (lam, p)
        return (m1 - m0) / d

    @property
    def kernel_matvecs(self):
        return int(sum(c[0] for c in self._counts))


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
            raise InputError(
                "graded grid: node spacing below two steps of the fine grid; "
                "refine the fine grid (refine) or raise h_min",
                "h_min",
            )

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
