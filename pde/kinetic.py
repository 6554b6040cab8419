"""The full nonlinear kinetic equation, seed 000 Eqs. (1), (4), (S26)-(S31).

(1 - Sigma'[f]) df/dt + f' dSigma[f]/dt = I_ep[f]/pi     (time rescaled pi t -> t)

on the folded grid E_i = i eps (``pde.grids``) with the boundary conditions
(S28): f(0) = 1/2, f(-E) = 1 - f(E), f(E > Lambda) = 0.

* Sigma[f] (Eq. (4)): with g = f - 1/2 (odd) and PV int du/(u^2 - w^2) = 0,
  Sigma[f](E) = -int dx g(x) sum_k lambda_k w_k^2/((E - x)^2 - w_k^2) = -(K g)(E),
  the same Toeplitz-minus-Hankel kernel K as the linear analysis
  (``pde.linearized.KernelOperator``, exact kernel, subtracted principal
  value), applied by FFT in O(L log L).  Sigma[f0] reproduces Eq. (S13).
* Sigma'[f] and f' by fourth-order central differences on the grid (point
  symmetry about E = 0: Sigma odd, f(-E) = 1 - f(E); beyond the cutoff f = 0, and
  Sigma at the two points beyond it from the extended kernel's edge rows).  Beyond
  the cutoff g = -1/2: over a padding of 2 r_max + 2 points the discrete kernel
  (prefix sums of its generator, f-independent), beyond that in closed form; so
  Sigma[f] costs one kernel product of length L, shared with the Jacobian's.
* The equation is linearly implicit: M(f) fdot = I(f) with
  M(f) = diag(1 - Sigma'[f]) - diag(f') K, because dSigma/dt = -K fdot.
  At f = f0, M(f0) fdot = A phidot for delta f = -f0' phi (Eq. (13)).
* Collisions, Eq. (15): I = a_ep I_ep/pi + a_ee I_ee, with I_ep of
  Eq. (2) (``pde.electron_phonon``) and I_ee of Eq. (S22)-(S23)
  by FFT on the full grid reconstructed from the folded one
  (``pde.electron_electron.EECollisions``; a_ee = 0 by default).  I_ep and its
  Jacobian are one sparse stencil product for combs (``CombCollisions``) and FFT
  products for many grid phonon frequencies (``pde.electron_phonon.EPCollisions``,
  docs/theory.md (T5)).
  The residual is M(f) fdot - (a_ep I_ep/pi + a_ee I_ee).  Jacobians:
  ``collisions_jvp`` applies the exact sum; ``collisions_jacobian_diagonal`` is
  the preconditioner's part; ``collisions_jacobian`` (the sparse exact e-ph part)
  and ``collisions_jacobian_approx`` serve combs and the small-N references.
* Bookkeeping: ``energy`` (Eq. (S6)), ``particle_number`` (identically conserved
  on the folded grid by f(-E) = 1 - f(E)), ``energy_rate_ee`` (zero, Eq. (S24)),
  and the effective temperature ``t_eff``: the T whose f0(T) has the energy of f.
"""

from __future__ import annotations

import numpy as np

from .electron_phonon import CombCollisions, EPCollisions, ep_jacobian_entries
from .eliashberg import fermi
from .errors import InputError, require_nonnegative
from .fftops import lag_correlate
from .grids import DENSE_MAX, check_memory, kinetic_bytes
from .linearized import LinearizedProblem, _pole_free_sum

__all__ = ["KineticModel"]


class KineticModel:
    """Residual, mass matrix action and collision integral of Eq. (S27) on a folded grid.

    Built from a :class:`pde.linearized.LinearizedProblem` (which fixes the
    spectrum projected on the grid, T0 and the FFT kernel).  Eq. (15) weights:
    ``a_ep`` (default 1) and ``a_ee`` (default 0) with the transition probability
    ``p_ee`` of Eq. (S22) (default: ``problem.p_ee``; needed when a_ee > 0).
    """

    def __init__(self, problem: LinearizedProblem, a_ep=1.0, a_ee=0.0, p_ee=None):
        self.a_ep = require_nonnegative("a_ep", a_ep, "the weight of e-ph collisions in Eq. (15) is >= 0")
        self.a_ee = require_nonnegative("a_ee", a_ee, "the weight of e-e collisions in Eq. (15) is >= 0")
        p_ee = problem.p_ee if p_ee is None else p_ee
        if self.a_ee > 0 and p_ee is None:
            raise InputError("a_ee > 0 needs a transition probability p_ee, P(omega) of Eq. (S22)", "p_ee")
        self.ee = None
        if p_ee is not None:
            from .electron_electron import EECollisions

            self.ee = EECollisions(problem.grid.L, problem.grid.eps, p_ee)
        if problem.kernel != "exact":
            raise InputError(
                "the kinetic equation uses the exact kernel of Eq. (4): build the problem with kernel='exact'", "kernel"
            )
        self.p = problem
        self.eps = problem.grid.eps
        self.L = problem.grid.L
        self.T0 = problem.T0
        self.K = problem.K
        self.f_eq = problem.f0
        # Sigma is computed on the grid extended by 2 r_max + 2 points where g = -1/2 (S28), so that
        # the closed-form tail starts beyond every pole E +- omega_k of the energies E <= Lambda
        self.pad = 2 * int(np.max(problem.r)) + 2
        check_memory(kinetic_bytes(self.L, self.pad), f"the kinetic equation on L = {self.L} points")
        self._sigma_at = self._energy_eq = None  # the last (f, Sigma_ext[f]); _energy(f_eq)
        self._ep_csr = None  # CSR pattern of the e-ph Jacobian: (entry -> slot, column indices, row pointers)
        # e-ph collisions: FFT operators for many grid phonon frequencies, one sparse stencil for combs
        self.ep = (EPCollisions if problem.ep_fft else CombCollisions)(self.L, self.eps, problem.r, problem.lam_r,
                                                                       self.T0)
        self._sigma_parts()

    def _sigma_parts(self):
        """What Sigma[f] needs besides K g: on i = 1..L + 2, the f-independent part (the padding, g = -1/2, and
        the closed-form tail), and the rows L + 1, L + 2 of the extended kernel on j = 1..L (Sigma just beyond
        the cutoff, for Sigma' at the last grid points).

        The extended kernel K_ext (on L + pad points) has the generator F of K (``_pole_free_sum``), so the
        padding's part is sums of F over ranges: prefix sums, O(L + pad), with no second FFT operator."""
        L, Lx = self.L, self.L + self.pad
        c = self.eps * self.p.lam_r * self.p.r.astype(float) ** 2
        F = _pole_free_sum(0, 2 * Lx + 2, self.p.r, c, self.p.pv)  # K_ext(i, j) = F(|i - j|) - F(i + j)
        P = np.concatenate([[0.0], np.cumsum(F)])  # P[n] = sum_{d < n} F(d)
        i = np.arange(1, L + 3)
        a, b = L + 1 - i, Lx - i  # the lags d = j - i of the padding j = L + 1 .. Lx
        toeplitz = np.where(a >= 0, P[b + 1] - P[np.maximum(a, 0)], P[1 - np.minimum(a, 0)] - P[1] + P[b + 1])
        hankel = P[i + Lx + 1] - P[i + L + 1]
        self.sigma_const = self._tail() + 0.5 * (toeplitz - hankel)  # -K_ext(pad) (-1/2) + tail
        j = np.arange(1, L + 1)
        self._edge_rows = np.stack([F[L + k - j] - F[L + k + j] for k in (1, 2)])

    @property
    def kernel_matvecs(self):
        """Kernel products so far (one rfft + one irfft each, length L): Sigma[f] and the mass-matrix /
        Jacobian action."""
        return self.K.matvecs

    # -------------------------------------------------------------- pieces
    def initial(self, T_in):
        """f0(E, T_in) on the grid, Eq. (S29)."""
        if not T_in > 0:
            raise InputError(f"T_in must be > 0 (got {T_in}); give the initial electron temperature", "T_in")
        return fermi(self.p.E, T_in)

    def _tail(self):
        """Sigma from |x| > Lambda_ext, where g = f - 1/2 = -+1/2 (S28), in closed form:
        sum_k (lambda_k w_k/4) [ln((Lam + w - E)/(Lam - w - E)) + ln((Lam + E - w)/(Lam + E + w))],
        with Lam = (L_ext + 1/2) eps, the edge of the extended grid's cells, at E_i, i = 1..L + 2."""
        E = self.eps * np.arange(1, self.L + 3)  # i = 1..L + 2: all Sigma needs (_sigma_parts)
        lam_edge = (self.L + self.pad + 0.5) * self.eps
        if self.p.ep_fft:
            # with E = i eps, w = r eps: ln|(m + 1/2 + r)/(m + 1/2 - r)| at m = L_ext - i and minus the same at
            # m = L_ext + i, i.e. sum_r b_r [l(m + r) - l(m - r)], l(x) = ln|x + 1/2|: one FFT correlation
            R, Lx = int(np.max(self.p.r)), self.L + self.pad
            kern = np.zeros(2 * R + 1)
            b = 0.25 * self.p.lam_r * self.p.omega_r
            kern[R + self.p.r], kern[R - self.p.r] = b, -b
            ell = np.log(np.abs(np.arange(-R, 2 * Lx + R + 1, dtype=float) + 0.5))  # l(m), m = -R..2 Lx + R
            S = lag_correlate(kern, ell, R)  # sum_r b_r [l(m + r) - l(m - r)], m = 0..2 Lx
            i = np.arange(1, self.L + 3)
            return S[Lx - i] - S[Lx + i]
        out = np.zeros_like(E)
        for w, lk in zip(self.p.omega_r, self.p.lam_r):
            out += 0.25 * lk * w * (np.log(np.abs((lam_edge + w - E) / (lam_edge - w - E)))
                                    + np.log((lam_edge + E - w) / (lam_edge + E + w)))
        return out

    def sigma_ext(self, f):
        """Sigma[f] at E_i, i = 1..L + 2, Eq. (4): -(K g) + the f-independent part on 1..L, and the extended
        kernel's two edge rows beyond (:meth:`_sigma_parts`): one kernel product of length L.

        The last f and its Sigma are kept (read-only): a time integrator asks for Sigma'[f] at one
        iterate in turn from the residual, the Jacobian and the step monitor, and the energy, so
        one kernel product serves them all."""
        f = np.asarray(f, dtype=float)
        if self._sigma_at is not None and np.array_equal(f, self._sigma_at[0]):
            return self._sigma_at[1]
        g = f - 0.5
        out = np.empty(self.L + 2)
        out[: self.L] = self.K.matvec(g)
        out[self.L :] = self._edge_rows @ g
        np.subtract(self.sigma_const, out, out=out)
        out.flags.writeable = False
        self._sigma_at = (f.copy(), out)
        return out

    def sigma(self, f):
        """Sigma[f](E_i), i = 1..L, Eq. (4)."""
        return self.sigma_ext(f)[: self.L]

    def derivative(self, y, y0, right):
        """Fourth-order central differences of grid values y_i (i = 1..L).

        Left: point symmetry about E = 0, y(-E) = 2 y0 - y(E) (f: y0 = 1/2; Sigma: y0 = 0).
        Right: the two values beyond the cutoff, ``right`` = (y_{L+1}, y_{L+2}).
        """
        y = np.asarray(y, dtype=float)
        ext = np.concatenate([[2 * y0 - y[1], 2 * y0 - y[0], y0], y, right])  # y_i at ext[i + 2], i = 1..L
        # (-y_{i+2} + 8 y_{i+1} - 8 y_{i-1} + y_{i-2}) / 12 eps, in place: one temporary of L
        d = np.subtract(ext[4:-1], ext[2:-3])
        d *= 8.0
        d += ext[1:-4]
        d -= ext[5:]
        d /= 12.0 * self.eps
        return d

    def derivative_matrix(self):
        """The derivative of an odd perturbation v (v(-E) = -v(E), 0 beyond the cutoff) by :meth:`derivative`
        as a pentadiagonal CSR matrix (cached): read off by probing with five comb vectors, so the rows at
        E = 0 and at the cutoff are exactly the method's."""
        if getattr(self, "_dmat", None) is None:
            import scipy.sparse as sp

            L = self.L
            rows, cols, vals = [], [], []
            j = np.arange(L)
            for k in range(5):
                probe = (j % 5 == k).astype(float)
                d = self.derivative(probe, 0.0, [0.0, 0.0])
                for off in range(-2, 3):  # row i sees columns i - 2 .. i + 2; one of them is = k mod 5
                    col = j + off
                    ok = (col >= 0) & (col < L) & (col % 5 == k)
                    rows.append(j[ok])
                    cols.append(col[ok])
                    vals.append(d[ok])
            self._dmat = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                       shape=(L, L))
        return self._dmat

    def sigma_prime(self, f):
        s = self.sigma_ext(f)
        return self.derivative(s[: self.L], 0.0, s[self.L : self.L + 2])

    def f_prime(self, f):
        return self.derivative(f, 0.5, [0.0, 0.0])

    def collisions(self, f):
        """The right-hand side of Eq. (15): a_ep I_ep[f]/pi + a_ee I_ee[f] (rescaled time)."""
        out = self.collisions_ep(f)
        if self.a_ep != 1.0:
            out = self.a_ep * out
        if self.a_ee > 0:
            out = out + self.a_ee * self.collisions_ee(f)
        return out

    def collisions_ep(self, f):
        """I_ep[f]/pi (Eq. (2), rescaled time), unweighted."""
        return self.ep.collisions(f)

    def collisions_ee(self, f):
        """I_ee[f] of Eq. (S22)-(S23) on the folded grid, unweighted, O(L log L)."""
        if self.ee is None:
            raise InputError("I_ee needs a transition probability p_ee, P(omega) of Eq. (S22)", "p_ee")
        return self.ee.folded(f)

    def ee_jacobian(self, f):
        """dI_ee/df at f (folded, unweighted): ``.folded_matvec(v)`` exact by FFT, ``.folded_diagonal()`` leading."""
        if self.ee is None:
            raise InputError("I_ee needs a transition probability p_ee, P(omega) of Eq. (S22)", "p_ee")
        return self.ee.jacobian(self.ee.unfold(f))

    def collisions_jvp(self, f, v, ee_jac=None):
        """(dI/df) v for I = a_ep I_ep/pi + a_ee I_ee: exact (sparse e-ph part, FFT e-e part).

        ``ee_jac``: a cached :meth:`ee_jacobian` (f) to reuse over many products.
        """
        out = self.ep.jvp(f, v)
        out = out if self.a_ep == 1.0 else self.a_ep * out
        if self.a_ee > 0:
            J = self.ee_jacobian(f) if ee_jac is None else ee_jac
            out = out + self.a_ee * J.folded_matvec(v)
        return out

    def collisions_jacobian_approx(self, f, ee_jac=None):
        """Sparse approximation of d(a_ep I_ep/pi + a_ee I_ee)/df for preconditioners.

        The e-ph part exactly; the e-e part by its leading diagonal (minus the
        out-scattering rate, exact up to O(eps/T) on the diagonal, its off-diagonal
        integral kernel left out).  Equal to :meth:`collisions_jacobian` when a_ee = 0.
        """
        import scipy.sparse as sp

        J = self.collisions_jacobian(f)
        if self.a_ee > 0:
            Je = self.ee_jacobian(f) if ee_jac is None else ee_jac
            J = (J + sp.diags(self.a_ee * Je.folded_diagonal())).tocsr()
        return J

    def collisions_jacobian(self, f):
        """a_ep d(I_ep/pi)_i/d f_j as a sparse matrix (exact; folding and cutoff of (S28) included).

        The e-ph part only (the whole Jacobian when a_ee = 0); with a_ee > 0 add
        a_ee x :meth:`ee_jacobian` -- :meth:`collisions_jvp` applies the sum.
        """
        J = self._ep_jacobian(f)
        return J if self.a_ep == 1.0 else (self.a_ep * J).tocsr()

    def _ep_jacobian(self, f):
        import scipy.sparse as sp

        L = self.L
        rows, cols, vals = ep_jacobian_entries(f, self.eps, self.p.r, self.p.lam_r, self.T0)
        if self._ep_csr is None:  # the pattern depends on the grid and the modes only: sorted once
            key = np.concatenate(rows) * L + np.concatenate(cols)
            uniq, slots = np.unique(key, return_inverse=True)
            indptr = np.searchsorted(uniq, np.arange(L + 1) * L).astype(np.int32)
            self._ep_csr = (slots, (uniq % L).astype(np.int32), indptr)
        slots, indices, indptr = self._ep_csr
        data = np.bincount(slots, weights=np.concatenate(vals), minlength=indices.size)  # duplicates summed
        return sp.csr_matrix((data, indices.copy(), indptr.copy()), shape=(L, L))

    def collisions_jacobian_diagonal(self, f, ee_jac=None):
        """diag(d(a_ep I_ep/pi + a_ee I_ee)/df): the e-ph part exact (FFT or stencil), the e-e part its leading
        diagonal -- the time integrator's preconditioner while the mass matrix is definite (on Fig. 1(b), the
        Pb model and Einstein at refine 128 the exact sparse e-ph Jacobian, factorised by LU, takes the same
        GMRES iterations: the shift a (1 - Sigma') dominates)."""
        d = self.ep.jacobian_diagonal(f)
        if self.a_ep != 1.0:
            d = self.a_ep * d
        if self.a_ee > 0:
            Je = self.ee_jacobian(f) if ee_jac is None else ee_jac
            d = d + self.a_ee * Je.folded_diagonal()
        return d

    def mass_diag(self, f):
        """1 - Sigma'[f]: Z0^-1 at f = f0; the instability sets in where it turns negative."""
        return 1.0 - self.sigma_prime(f)

    def mass_apply(self, f, v, diag=None, fp=None):
        """M(f) v = (1 - Sigma'[f]) v - f' (K v)."""
        diag = self.mass_diag(f) if diag is None else diag
        fp = self.f_prime(f) if fp is None else fp
        return diag * v - fp * self.K.matvec(v)

    def residual(self, fdot, f):
        """G(fdot, f) = (1 - Sigma') fdot + f' dSigma/dt - I_ep/pi, Eq. (S27)."""
        return self.mass_apply(f, fdot) - self.collisions(f)

    def mass_dense(self, f):
        """M(f) as a dense matrix (small-N reference integrator only)."""
        Kd = self.K.dense()
        return np.diag(self.mass_diag(f)) - self.f_prime(f)[:, None] * Kd

    # ---------------------------------------------------------- diagnostics
    def energy(self, f):
        """Electronic energy per nu0 whose rate is Eq. (S6), relative to f0(T0):
        eps_el[f] = 2 [int E f + int E f' Sigma + <g, Sigma + c>/2] over the full line,
        g = f - 1/2, Sigma = -K g + c, c the f-independent part of Sigma (the region
        beyond the cutoff, where g = -1/2).  Since K is symmetric, d eps_el/dt =
        2 int E [(1 - Sigma') fdot + f' Sigma-dot] for every fdot, which the kinetic
        equation makes 2 int E I (checked on the grid to the accuracy of the
        fourth-order derivatives, tests/test_electron_electron.py)."""
        if self._energy_eq is None:
            self._energy_eq = self._energy(self.f_eq)
        return self._energy(f) - self._energy_eq

    def _energy(self, f):
        f = np.asarray(f, dtype=float)
        E, h = self.p.E, self.eps
        sig = self.sigma(f)
        # full-line integrals of even integrands = 2 x folded sums; <g, Sigma + c>/2 = eps sum g (Sigma + c)
        return 2.0 * (2 * h * np.sum(E * f) + 2 * h * np.sum(E * self.f_prime(f) * sig)
                      + h * np.sum((f - 0.5) * (sig + self.sigma_const[: self.L])))

    def energy_rate_collisions(self, f):
        """2 int E I dE over the full line, I = a_ep I_ep/pi + a_ee I_ee (Eq. (S6) right-hand side, per nu0).

        The e-e part vanishes (Eq. (S24)); see :meth:`energy_rate_ee`."""
        return 2.0 * 2.0 * self.eps * float(np.sum(self.p.E * self.collisions(f)))

    def energy_rate_ee(self, f):
        """2 int E I_ee dE (unweighted, per nu0): zero to round-off, Eq. (S24)."""
        return 2.0 * 2.0 * self.eps * float(np.sum(self.p.E * self.collisions_ee(f)))

    def particle_number(self, f):
        """int (f - f0(T0)) dE over the full grid n = -L..L (per spin, per nu0).

        On the folded grid f(-E) = 1 - f(E) makes it vanish identically: particle
        number is conserved by construction (I_ee also conserves it for any f on the
        full grid, ``pde.electron_electron``).  Computed from the unfolded f so that
        the bookkeeping is explicit."""
        f = np.asarray(f, dtype=float)
        full = np.concatenate([1.0 - f[::-1], [0.5], f])
        feq = np.concatenate([1.0 - self.f_eq[::-1], [0.5], self.f_eq])
        return self.eps * float(np.sum(full - feq))

    def t_eff(self, f, T_guess=None, rtol=1e-12):
        """Effective temperature: the T whose f0(T) has the energy of f, Eq. (S6) (``energy``).

        energy(f0(T)) increases with T where C_el(T) > 0 (Eq. (S7)); the search steps
        out from ``T_guess`` (default T0) on both sides, geometrically, to the first sign
        change and refines it by Brent's method, so in a region with C_el < 0 (several
        roots) it returns a root nearest T_guess.  Raises InputError if none is found
        within a factor 20 of T_guess.
        """
        from scipy.optimize import brentq

        target = self._energy(f)
        E = self.p.E

        def h(T):
            return self._energy(fermi(E, T)) - target

        Tg = float(self.T0 if T_guess is None else T_guess)
        h0 = h(Tg)
        if h0 == 0.0:
            return Tg
        lo = hi = Tg
        hlo = hhi = h0
        step = 1.005
        while step < 20.0:
            up, dn = Tg * step, Tg / step
            hu, hd = h(up), h(dn)
            if hu == 0.0:
                return up
            if hd == 0.0:
                return dn
            if np.sign(hu) != np.sign(hhi):
                return brentq(h, hi, up, xtol=1e-15, rtol=rtol)
            if np.sign(hd) != np.sign(hlo):
                return brentq(h, dn, lo, xtol=1e-15, rtol=rtol)
            lo, hi, hlo, hhi = dn, up, hd, hu
            step *= step
        raise InputError(f"no temperature within a factor 20 of T_guess = {Tg:g} has the energy of f", "T_guess")

    def deviation(self, f):
        return np.asarray(f) - self.f_eq

    def rate(self, f):
        """df/dt from M(f) fdot = I(f): dense solve (L <= DENSE_MAX) or GMRES with the FFT operator."""
        f = np.asarray(f, dtype=float)
        if self.L <= DENSE_MAX:
            return np.linalg.solve(self.mass_dense(f), self.collisions(f))
        from scipy.sparse.linalg import LinearOperator, gmres

        diag, fp = self.mass_diag(f), self.f_prime(f)
        op = LinearOperator((self.L, self.L), matvec=lambda v: self.mass_apply(f, v, diag, fp))
        pre = LinearOperator((self.L, self.L), matvec=lambda v: v / np.where(np.abs(diag) > 1e-3, diag, 1e-3))
        # restart 30: the basis is 30 vectors of L (GMRES(200) held 1.6 GB at L = 10^6)
        x, _ = gmres(op, self.collisions(f), M=pre, restart=30, maxiter=50)
        return x

    def growth_peaks(self, f, window, merge=0.05, keep=0.25, fdot=None):
        """Where the local growth rate |fdot|/|f - f0| peaks (energies within ``merge`` clustered).

        ``fdot``: df/dt at f if known (e.g. the integrator's last step), else solved for (:meth:`rate`).
        Returns (energies of the peaks within ``keep`` of the strongest, all peaks as
        (energy, rate relative to the strongest), the strongest local rate).
        """
        d = np.abs(self.deviation(f))
        rate = np.abs(self.rate(f) if fdot is None else fdot) / np.maximum(d, 1e-3 * d.max())
        rate = np.where(window, rate, 0.0)
        # local maxima, strongest first (numpy: a Python list over 10^6 grid points held ~36 MB at the run's end)
        mid = rate[1:-1]
        idx = np.nonzero((mid > 0) & (mid >= rate[:-2]) & (mid >= rate[2:]))[0] + 1
        idx = idx[np.argsort(-rate[idx], kind="stable")]
        top = rate[idx[0]] if idx.size else 0.0
        peaks = []
        for i in idx:  # greedy merge; weaker ones can neither be chosen nor enter the listing of 8
            if len(peaks) >= 8 and rate[i] < keep * top:
                break
            if all(abs(self.p.E[i] - self.p.E[j]) > merge for j in peaks):
                peaks.append(i)
        chosen = sorted(float(self.p.E[i]) for i in peaks if rate[i] >= keep * top)
        listing = [(float(self.p.E[i]), float(rate[i] / top)) for i in peaks[:8]]
        return chosen, listing, float(top)


def fit_decay_rate(t, dev, window=0.5):
    """Exponential rate of |dev(t)| over the last ``window`` fraction [a, b] of the run: the least-squares slope
    of ln|dev| over the whole interval, ln|dev| taken linear between the samples (and interpolated at a).

    The samples are the integrator's accepted steps, whose number and places depend on the tolerances; a fit to
    the samples as points weights the stretches where the steps are dense, and moved the rate of a pulse
    relaxing with a_ee = 1 (whose max|f - f0| changes slope mid-window) from 0.039 to 0.051 between rtol 1e-6
    and 1e-10.  The continuous fit gives 0.0488 at both."""
    t = np.asarray(t, dtype=float)
    dev = np.asarray(dev, dtype=float)
    keep = dev > 0
    t, y = t[keep], np.log(np.where(keep, dev, 1.0)[keep])
    if t.size < 2:
        return None, None
    a, b = t[0] + (1.0 - window) * (t[-1] - t[0]), t[-1]
    inside = t > a
    if np.sum(inside) < 2 or not b > a:
        return None, None
    ts = np.concatenate([[a], t[inside]])
    ys = np.concatenate([[np.interp(a, t, y)], y[inside]])
    t0, t1, y0, y1 = ts[:-1], ts[1:], ys[:-1], ys[1:]
    # exact integrals of the piecewise-linear ln|dev|: int y dt and int t y dt, segment by segment
    iy = np.sum(0.5 * (t1 - t0) * (y0 + y1))
    ity = np.sum((t1 - t0) / 6.0 * (2 * t0 * y0 + t0 * y1 + t1 * y0 + 2 * t1 * y1))
    slope = (ity - 0.5 * (a + b) * iy) / ((b - a) ** 3 / 12.0)
    return float(-slope), [float(a), float(b)]

