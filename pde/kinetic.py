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
  symmetry about E = 0: Sigma odd, f(-E) = 1 - f(E); beyond the cutoff f = 0 and
  Sigma extrapolated).  Sigma also gets the closed-form contribution of
  |x| > Lambda, where g = -+1/2.
* The equation is linearly implicit: M(f) fdot = I(f) with
  M(f) = diag(1 - Sigma'[f]) - diag(f') K, because dSigma/dt = -K fdot.
  At f = f0, M(f0) fdot = A phidot for delta f = -f0' phi (Eq. (13)).
* I_ep: ``pde.collisions.collision_ep`` (Eq. (2)); e-e collisions optional
  (``pde.electron_electron.collision_ee``, weight a_ee).
"""

from __future__ import annotations

import math

import numpy as np

from .collisions import collision_ep
from .eliashberg import fermi
from .errors import InputError
from .linearized import LinearizedProblem

__all__ = ["KineticModel"]


class KineticModel:
    """Residual, mass matrix action and collision integral of Eq. (S27) on a folded grid.

    Built from a :class:`pde.linearized.LinearizedProblem` (which fixes the
    spectrum projected on the grid, T0 and the FFT kernel).
    """

    def __init__(self, problem: LinearizedProblem):
        if problem.kernel != "exact":
            raise InputError("the kinetic equation uses the exact kernel of Eq. (4); drop --kernel paper")
        self.p = problem
        self.eps = problem.grid.eps
        self.L = problem.grid.L
        self.T0 = problem.T0
        self.K = problem.K
        self.f_eq = problem.f0
        self.sigma_tail = self._tail()

    # -------------------------------------------------------------- pieces
    def initial(self, T_in):
        """f0(E, T_in) on the grid, Eq. (S29)."""
        if not T_in > 0:
            raise InputError(f"--T-in must be > 0 (got {T_in}); give the initial electron temperature")
        return fermi(self.p.E, T_in)

    def _tail(self):
        """Sigma from |x| > Lambda, where g = f - 1/2 = -+1/2 (S28), in closed form:
        sum_k (lambda_k w_k/4) [ln((Lam + w - E)/(Lam - w - E)) + ln((Lam + E - w)/(Lam + E + w))],
        with Lam = (L + 1/2) eps, the edge of the grid's quadrature cells."""
        E = self.p.E
        lam_edge = (self.L + 0.5) * self.eps
        out = np.zeros_like(E)
        for w, lk in zip(self.p.omega_r, self.p.lam_r):
            out += 0.25 * lk * w * (np.log(np.abs((lam_edge + w - E) / (lam_edge - w - E)))
                                    + np.log((lam_edge + E - w) / (lam_edge + E + w)))
        return out

    def sigma(self, f):
        """Sigma[f](E_i) = -(K (f - 1/2))_i + the closed-form tail beyond the cutoff, Eq. (4)."""
        return -self.K.matvec(np.asarray(f) - 0.5) + self.sigma_tail

    def derivative(self, y, y0, right):
        """Fourth-order central differences of grid values y_i (i = 1..L).

        Left: point symmetry about E = 0, y(-E) = 2 y0 - y(E) (f: y0 = 1/2; Sigma: y0 = 0).
        Right: the two values beyond the cutoff, ``right`` = (y_{L+1}, y_{L+2}).
        """
        y = np.asarray(y, dtype=float)
        ext = np.concatenate([[2 * y0 - y[1], 2 * y0 - y[0], y0], y, right])
        return (-ext[4:] + 8.0 * ext[3:-1] - 8.0 * ext[1:-3] + ext[:-4])[1:] / (12.0 * self.eps)

    def sigma_prime(self, f):
        s = self.sigma(f)
        # beyond the cutoff: quadratic extrapolation (Sigma is smooth there)
        r1 = 3 * s[-1] - 3 * s[-2] + s[-3]
        r2 = 3 * r1 - 3 * s[-1] + s[-2]
        return self.derivative(s, 0.0, [r1, r2])

    def f_prime(self, f):
        return self.derivative(f, 0.5, [0.0, 0.0])

    def collisions(self, f):
        """I_ep[f]/pi (Eq. (2), rescaled time)."""
        return collision_ep(f, self.eps, self.p.r, self.p.lam_r, self.T0)

    def collisions_jacobian(self, f):
        """d(I_ep/pi)_i/d f_j as a sparse matrix (exact; folding and cutoff of (S28) included)."""
        import scipy.sparse as sp

        f = np.asarray(f, dtype=float)
        L, idx = self.L, np.arange(self.L)
        fx = np.concatenate([f, np.zeros(int(np.max(self.p.r)) + 1)])
        rows, cols, vals = [idx], [idx], [np.zeros(L)]
        for r, lk in zip(self.p.r, self.p.lam_r):
            w = r * self.eps
            n0 = 1.0 / np.expm1(w / self.T0)
            c = lk * w
            up = idx + r  # f_+ = f(E + w): index i + r (0 beyond the cutoff)
            fp = fx[up]
            dn = idx - r  # f_- = f(E - w): i - r >= 0 -> f, == -1 -> 1/2, < -1 -> 1 - f(r - i)
            fm = np.where(dn >= 0, fx[np.maximum(dn, 0)], np.where(dn == -1, 0.5, 1.0 - fx[np.maximum(-dn - 2, 0)]))
            vals[0] = vals[0] + c * (-2.0 * n0 - (fp - fm) - 1.0)
            inside = up < L
            rows.append(idx[inside]); cols.append(up[inside]); vals.append(c * (n0 - f + 1.0)[inside])
            d_fm = c * (n0 + f)
            pos = dn >= 0
            rows.append(idx[pos]); cols.append(dn[pos]); vals.append(d_fm[pos])
            fold = dn < -1
            rows.append(idx[fold]); cols.append(-dn[fold] - 2); vals.append(-d_fm[fold])
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(L, L))

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
        """Electronic energy per 2 nu0 relative to f0(T0): int E [f - f0] over the full line = 2 eps sum E_i (f_i - f0_i).

        (Eq. (S6) integrates E[(1 - Sigma') fdot + f' Sigma-dot] = E I_ep; the bare
        kinetic energy used here is the part that I_ep alone changes at fixed Sigma.)
        """
        return 2.0 * self.eps * float(np.sum(self.p.E * (np.asarray(f) - self.f_eq)))

    def energy_rate_collisions(self, f):
        """2 int E I_ep/pi dE over the full line (Eq. (S6) right-hand side, per nu0)."""
        return 2.0 * self.eps * float(np.sum(self.p.E * self.collisions(f)))

    def deviation(self, f):
        return np.asarray(f) - self.f_eq

    def growth_energies(self, f_prev, f_now, top=5):
        """Energies where |f - f0| grew fastest between two states."""
        d = np.abs(self.deviation(f_now)) - np.abs(self.deviation(f_prev))
        idx = np.argsort(d)[::-1][:top]
        return sorted(float(self.p.E[i]) for i in idx)


def fit_decay_rate(t, dev, window=0.5):
    """Exponential rate of |dev(t)| over the last ``window`` fraction of the run (least squares on log)."""
    t = np.asarray(t, dtype=float)
    dev = np.asarray(dev, dtype=float)
    sel = t >= t[0] + (1.0 - window) * (t[-1] - t[0])
    sel &= dev > 0
    if np.sum(sel) < 3:
        return None, None
    slope, _ = np.polyfit(t[sel], np.log(dev[sel]), 1)
    return float(-slope), [float(t[sel][0]), float(t[sel][-1])]


def mode_amplitude(model, f, phi):
    """Amplitude of the deviation along a linear mode phi: <phi, A phi_dev>/<phi, A phi> with phi_dev = -(f - f0)/f0'."""
    p = model.p
    phi_dev = -(np.asarray(f) - model.f_eq) / p.fp
    den = float(phi @ p.a_matvec(phi))
    return float(phi @ p.a_matvec(phi_dev)) / den if den != 0 else math.nan
