"""Negative absolute conductivity of a photoexcited metal, seed 001 Eqs. (2)-(9), (44)-(47), (52).

Unknowns: the electron distribution f(eps, t) on a nonuniform energy grid and
the nonequilibrium phonon population zeta(t) (y = [f, zeta]):

    df/dt     = St_el{f, zeta} + St_in{f} - St_E{f}                  Eq. (2)
    dzeta/dt  = St_ph{f, zeta} + I_p(t) - zeta/tau_ph                Eqs. (3), (47)

Units and conventions
* Energies in the bandwidth W (``pde.dos``: int D d eps = 1), time in 1/Gamma_eph.
  D0 = 1/(hi - lo) is the average DoS, D_F = D(mu).
* St_el, St_ph: Eqs. (4), (5) = (44), (46) with the main text's Gamma_eph/D0 in
  both (then int eps D f + omega_p zeta is conserved, docs/theory.md §7).  Each transition
  eps_lo <-> eps_up = eps_lo + omega is a link with particle current
  c X,  X = n (f_up - f_lo) + f_up (1 - f_lo),  n = zeta + b,  c = D_lo D_up w,
  into eps_lo and out of eps_up, and c X is also the phonon emission rate.
  D_lo Delta_lo df_lo/dt += c X, D_up Delta_up df_up/dt -= c X (Delta: the
  grid's trapezoid weights), so sum Delta D f is conserved link by link.
* The grid is omega_p-periodic (``periodic_grid``): eps + omega_p is a node, so
  the shift is exact and energy is conserved to round-off.  Off-lattice shifts
  (dispersive phonons, Eq. (52), by Gauss-Hermite quadrature of a Gaussian
  D_ph of width delta_omega) split a link over the two bracketing nodes
  (linear interpolation weights P): particles stay exact, energy to O(h^2).
* St_in, Eq. (6) = (45) with Gamma_in/D_F: the small-delta-eps limit of Eq. (44)
  taken on the grid, i.e. links between neighbours with n = b(h) = 1/(e^{h/T} - 1)
  instead of T/h.  The flux is D^2 [T f' + f(1 - f)] + O(h^2) and the sampled
  Fermi function at temperature T (any mu) is an exact fixed point.
* St_E, Eq. (7): -St_E = (F^2/3)(D_F/D) d/deps [s d f/deps], s = sigma~/sigma~(mu),
  finite volume with face conductances kappa = (s_i + s_{i+1})/2 (none into nodes
  with D = 0), F = e E v_F sqrt(tau_tr/Gamma_eph) in units of W (``field``).
  (The seed's Fig. 1d field eEv_F sqrt(tau/Gamma_in)/omega_p is F sqrt(Gamma_eph/Gamma_in)/omega_p.)
* sigma/sigma0 = int s (-df/deps) = sum kappa (f_i - f_{i+1}), Eq. (9), sigma0 =
  v_F^2 tau D_F (sigma/sigma0 -> 1 in equilibrium at T -> 0).  Where D > 0 at both
  ends of every face the Joule heating d/dt int eps D f |_E = (F^2/3) D_F sigma/sigma0
  holds exactly.
* Spontaneous field (Fig. 3b): ``spontaneous=True`` replaces F^2 by E*^2(f, zeta)
  of :meth:`NACModel.field_squared`.
* I_p(t): 'pulse' zeta0/tau_pulse exp(-t/tau_pulse) (Fig. 3), 'steady'
  zeta0/tau_ph (holds zeta ~ zeta0 without electrons), or 'none'.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp, trapezoid
from scipy.optimize import brentq
from scipy.sparse.linalg import spsolve

from .errors import InputError, require_nonnegative, require_positive

__all__ = ["fermi", "bose", "chemical_potential", "filling_at", "periodic_grid", "periodic_limit", "NACModel"]


def fermi(eps, mu, T):
    """Fermi function 1/(e^{(eps - mu)/T} + 1)."""
    return 0.5 * (1.0 - np.tanh((np.asarray(eps, dtype=float) - mu) / (2.0 * T)))


def bose(w, T):
    """Bose function 1/(e^{w/T} - 1)."""
    return 1.0 / np.expm1(np.asarray(w, dtype=float) / T)


def _check_filling(filling):
    try:
        x = float(filling)
    except (TypeError, ValueError):
        x = float("nan")
    if not 0.0 < x < 1.0:
        raise InputError(f"filling must lie in (0, 1) (got {filling!r}); e.g. 0.5 for half filling", "filling")
    return x


def chemical_potential(band, filling, T):
    """mu with int D f_T(mu) d eps = filling (continuum band, fine trapezoid rule)."""
    filling = _check_filling(filling)
    T = require_positive("T", T, "give the temperature in units of W, e.g. T=0.003")
    x = np.linspace(band.lo, band.hi, 40001)
    D = band.dos(x)
    return brentq(lambda mu: trapezoid(D * fermi(x, mu, T), x) - filling,
                  band.lo - 40 * T, band.hi + 40 * T, xtol=1e-14)


def filling_at(band, mu, T):
    """int D f_T(mu) d eps: the filling that puts the chemical potential at ``mu`` (inverse of
    :func:`chemical_potential`)."""
    T = require_positive("T", T, "give the temperature in units of W, e.g. T=0.003")
    if not band.lo < float(mu) < band.hi:
        raise InputError(f"mu = {mu} lies outside the band [{band.lo:.4g}, {band.hi:.4g}]; give mu inside it", "mu")
    x = np.linspace(band.lo, band.hi, 40001)
    return float(trapezoid(band.dos(x) * fermi(x, float(mu), T), x))


def periodic_grid(band, omega, mu, T, refine=1.0, h_max=0.01, h_edge=0.002, w_edge=0.02):
    """Nodes lo + s_k + j omega in [lo, hi]: one set of offsets s_k in [0, omega) repeated.

    The offsets have local spacing ~ 1/rho(s), rho = (1/h_max + sum_a 1/(h_a (1 + (d_a/w_a)^2))) refine,
    d_a the distance on the circle of length omega from anchor a: mu (h = T/3, w = 3T) and
    the band's features (edges, h_edge, w_edge), all folded mod omega.  So the Fermi step is
    resolved at every image mu + j omega (where the steady state has its steps) and the
    band edges at theirs.  The lower edge and, unless closer than a spacing to an earlier
    anchor, the upper edge and mu are exact nodes.
    """
    lo, hi = band.lo, band.hi
    fold = lambda e: (e - lo) % omega  # noqa: E731
    anchors = [(0.0, h_edge, w_edge), (fold(hi), h_edge, w_edge), (fold(mu), T / 3, 3 * T)]
    anchors += [(fold(e), h_edge, w_edge) for e in band.features]

    def rho(s):
        out = np.full_like(s, 1.0 / h_max)
        for a, h, w in anchors:
            d = np.abs(s - a)
            d = np.minimum(d, omega - d)
            out += 1.0 / (h * (1.0 + (d / w) ** 2))
        return refine * out

    exact = []
    for a, _, _ in anchors:
        if all(min(abs(a - b), omega - abs(a - b)) > 0.5 / rho(np.array([a]))[0] for b in exact):
            exact.append(a)
    bounds = sorted(exact) + [omega]
    offsets = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        s = np.linspace(a, b, 4001)
        r = rho(s)
        cum = np.concatenate([[0.0], np.cumsum(0.5 * (r[1:] + r[:-1]) * np.diff(s))])
        n = max(1, int(round(cum[-1])))
        offsets.append(np.interp(np.arange(n) * cum[-1] / n, cum, s))
    offsets = np.concatenate(offsets)
    tol = 1e-9 * (hi - lo)
    nodes = np.concatenate([lo + offsets + j * omega for j in range(int((hi - lo) / omega) + 1)])
    nodes = nodes[nodes <= hi + tol]
    nodes[np.abs(nodes - hi) <= tol] = hi
    return nodes


def periodic_limit(band, omega, mu, T, eps):
    """Eq. (8): f = sum_j D(eps + j omega) f_T(eps + j omega) / sum_j D(eps + j omega), the zeta -> oo state."""
    eps = np.asarray(eps, dtype=float)
    m = int(math.ceil((band.hi - band.lo) / omega)) + 1
    E = eps[:, None] + omega * np.arange(-m, m + 1)
    D = band.dos(E)
    den = D.sum(axis=1)
    num = (D * fermi(E, mu, T)).sum(axis=1)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), fermi(eps, mu, T))


def _shift_links(eps, omega):
    """Pairs (lo, up, P): eps_lo + omega = sum P eps_up by linear interpolation (P = 1 on a node)."""
    x = eps + omega
    tol = 1e-9 * (eps[-1] - eps[0])
    ok = x <= eps[-1] + tol
    lo = np.nonzero(ok)[0]
    x = np.minimum(x[ok], eps[-1])
    j = np.clip(np.searchsorted(eps, x) - 1, 0, eps.size - 2)
    theta = (x - eps[j]) / (eps[j + 1] - eps[j])
    theta[np.abs(theta * (eps[j + 1] - eps[j])) <= tol] = 0.0
    theta[np.abs((1 - theta) * (eps[j + 1] - eps[j])) <= tol] = 1.0
    lo2, up2, P = np.concatenate([lo, lo]), np.concatenate([j, j + 1]), np.concatenate([1 - theta, theta])
    keep = P > 0
    return lo2[keep], up2[keep], P[keep]


class _Links:
    """Two-level transitions lo <-> up with particle current c X, X = n (f_up - f_lo) + f_up (1 - f_lo).

    df_lo/dt += gain X, df_up/dt -= loss X, where gain = c/(D_lo Delta_lo) and loss = c/(D_up Delta_up)
    are passed in D-free form (finite at nodes with D = 0, which hold no particles).
    """

    def __init__(self, lo, up, gain, loss, c, n_fixed=0.0):
        self.lo, self.up, self.gain, self.loss, self.c, self.n_fixed = lo, up, gain, loss, c, n_fixed

    def current(self, f, n):
        fl, fu = f[self.lo], f[self.up]
        return n * (fu - fl) + fu * (1.0 - fl)

    def st(self, f, n):
        X = self.current(f, n)
        N = f.size
        return np.bincount(self.lo, self.gain * X, N) - np.bincount(self.up, self.loss * X, N)

    def jac_triplets(self, f, n):
        """(rows, cols, vals) of d st/d f (dX/df_lo = -(n + f_up), dX/df_up = n + 1 - f_lo)."""
        fl, fu = f[self.lo], f[self.up]
        dl, du = -(n + fu), n + 1.0 - fl
        rows = np.concatenate([self.lo, self.lo, self.up, self.up])
        cols = np.concatenate([self.lo, self.up, self.lo, self.up])
        vals = np.concatenate([self.gain * dl, self.gain * du, -self.loss * dl, -self.loss * du])
        return rows, cols, vals


class NACModel:
    """Discretised Eqs. (2)-(7), (44)-(47), (52) for one band, omega_p and bath (see module doc).

    Parameters: ``band`` (``pde.dos.Band``), ``omega_p`` (> 0), ``T`` (bath and initial
    temperature), ``filling`` in (0, 1) (fixes mu), ``gamma_in`` (Gamma_in/Gamma_eph),
    ``tau_ph`` (anharmonic decay time, inf allowed), ``field`` (F, see module doc),
    ``pump`` ('none' | 'pulse' | 'steady') with ``zeta0``, ``tau_pulse``,
    ``delta_omega`` (dispersive phonon width, Eq. (52), ``n_gh`` Gauss-Hermite nodes),
    ``hold_zeta`` (dzeta/dt = 0: the fixed-zeta runs of Figs. 1, 2),
    ``spontaneous`` with ``tau_M`` (the self-tuned field E* of Fig. 3b, see
    :meth:`field_squared`), ``refine`` (grid density factor) or an explicit grid ``eps``.
    """

    def __init__(self, band, omega_p, *, T=0.003, filling=0.5, gamma_in=0.0, tau_ph=math.inf, field=0.0,
                 pump="none", zeta0=0.0, tau_pulse=0.3, delta_omega=0.0, n_gh=7, hold_zeta=False,
                 spontaneous=False, tau_M=1e-3, refine=1.0, eps=None):
        self.band = band
        self.omega_p = require_positive("omega_p", omega_p, "give the phonon energy in units of W, e.g. 0.25")
        self.T = require_positive("T", T, "give the temperature in units of W, e.g. T=0.003")
        self.filling = _check_filling(filling)
        self.gamma_in = require_nonnegative("gamma_in", gamma_in, "give Gamma_in/Gamma_eph >= 0")
        self.field = require_nonnegative("field", field, "give the field F = eEv_F sqrt(tau/Gamma_eph)/W >= 0")
        self.tau_ph = math.inf if tau_ph is None or str(tau_ph) == "inf" else require_positive(
            "tau_ph", tau_ph, "give the phonon decay time in 1/Gamma_eph (or inf)")
        if pump not in ("none", "pulse", "steady"):
            raise InputError(f"pump must be 'none', 'pulse' or 'steady' (got {pump!r})", "pump")
        if pump == "steady" and math.isinf(self.tau_ph):
            raise InputError("pump='steady' injects zeta0/tau_ph: give a finite tau_ph", "tau_ph")
        self.pump, self.zeta0 = pump, require_nonnegative("zeta0", zeta0, "give the pump strength >= 0")
        self.tau_pulse = require_positive("tau_pulse", tau_pulse, "give the pulse width in 1/Gamma_eph")
        self.delta_omega = require_nonnegative("delta_omega", delta_omega, "give the phonon width >= 0")
        self.hold_zeta, self.spontaneous = bool(hold_zeta), bool(spontaneous)
        self.tau_M = require_positive("tau_M", tau_M, "give the field response time in 1/Gamma_eph")

        self.mu = chemical_potential(band, self.filling, self.T)
        if eps is None:
            eps = periodic_grid(band, self.omega_p, self.mu, self.T,
                                refine=require_positive("refine", refine, "give a grid density factor > 0"))
        self.eps = eps = np.asarray(eps, dtype=float)
        if eps.ndim != 1 or eps.size < 3 or np.any(np.diff(eps) <= 0):
            raise InputError("eps must be an increasing grid of >= 3 energies; omit it for the default grid", "refine")
        self.D = band.dos(eps)
        if np.any(self.D < 0) or not np.all(np.isfinite(self.D)):
            raise InputError(f"the DoS of {band.name} is negative or non-finite on the grid; give D >= 0", "dos")
        h = np.diff(eps)
        self.h = h
        self.Delta = 0.5 * (np.concatenate([h, [0.0]]) + np.concatenate([[0.0], h]))
        self.N = eps.size
        self.D0 = 1.0 / (band.hi - band.lo)
        self.DF = float(band.dos(self.mu))
        sig_mu = float(band.transport(self.mu))
        if not (self.DF > 0 and sig_mu > 0):
            raise InputError(f"D or sigma~ vanishes at mu = {self.mu:.4g} (filling {self.filling}); "
                             "choose a filling inside the band", "mu")
        self.b = float(bose(self.omega_p, self.T))

        # phonon links, Eqs. (44), (46), (52): Gaussian D_ph by Gauss-Hermite nodes
        if self.delta_omega > 0:
            x, wq = np.polynomial.hermite.hermgauss(int(n_gh))
            omegas, weights = self.omega_p + np.sqrt(2.0) * self.delta_omega * x, wq / np.sqrt(np.pi)
            if omegas.min() <= 0:
                raise InputError(
                    "delta_omega too large: phonon energies omega_p +- 3 delta_omega must be > 0",
                    "delta_omega",
                )
        else:
            omegas, weights = np.array([self.omega_p]), np.array([1.0])
        parts = [_shift_links(eps, w) + (g,) for w, g in zip(omegas, weights)]
        lo = np.concatenate([p[0] for p in parts])
        up = np.concatenate([p[1] for p in parts])
        w = np.concatenate([p[2] * p[3] for p in parts]) / self.D0   # (Gamma_eph/D0) x quadrature x P
        D, Dl = self.D, self.Delta
        # loss at up: D_lo w Delta_lo/Delta_up (conservation; != 1 only in the half cells at the grid ends),
        # and Eq. (44) pointwise at nodes with D_up = 0, where conservation does not care
        ratio = np.where(D[up] > 0, Dl[lo] / Dl[up], 1.0)
        self._ph = _Links(lo, up, D[up] * w, D[lo] * w * ratio, D[lo] * D[up] * w * Dl[lo])
        # bath links, Eq. (45): neighbours, n = b(h), flux (Gamma_in/D_F) D_i D_{i+1} X
        i = np.arange(self.N - 1)
        w_in = self.gamma_in / self.DF
        self._in = _Links(i, i + 1, D[i + 1] * w_in / Dl[i], D[i] * w_in / Dl[i + 1], D[i] * D[i + 1] * w_in,
                          bose(h, self.T))

        # conductivity, Eq. (9), and field, Eq. (7): face conductances kappa = (s_i + s_{i+1})/2
        # (exact for s ~ f ~ sqrt(eps - edge) in the edge cell); no field flux into nodes with D = 0
        s = band.transport(eps) / sig_mu
        self.kappa = 0.5 * (s[1:] + s[:-1])
        self.kappa_field = np.where((self.D[1:] > 0) & (self.D[:-1] > 0), self.kappa, 0.0)
        g = self.kappa_field / h
        scale = np.divide(self.DF / 3.0, self.D * self.Delta, out=np.zeros(self.N), where=self.D > 0)
        rows = np.concatenate([i, i, i + 1, i + 1])
        cols = np.concatenate([i, i + 1, i, i + 1])
        vals = np.concatenate([-g, g, g, -g]) * scale[rows]
        self.A_field = sp.csr_matrix((vals, (rows, cols)), shape=(self.N, self.N))
        self.L_sigma = np.bincount(i, self.kappa, self.N) - np.bincount(i + 1, self.kappa, self.N)

    # ------------------------------------------------------------------ pieces
    def fermi(self):
        """The initial (equilibrium) distribution f_T at mu, T on the grid."""
        return fermi(self.eps, self.mu, self.T)

    def initial(self, zeta=0.0):
        """y0 = [f_T, zeta]."""
        return np.concatenate([self.fermi(), [float(zeta)]])

    def st_el(self, f, zeta):
        """St_el{f, zeta}, Eq. (44) (Eq. (52) when delta_omega > 0)."""
        return self._ph.st(f, zeta + self.b)

    def st_ph(self, f, zeta):
        """St_ph{f, zeta} = (Gamma/D0) int D(eps) D(eps + omega_p) [...] d eps, Eq. (46) with 1/D0."""
        return float(np.sum(self._ph.c * self._ph.current(f, zeta + self.b)))

    def st_in(self, f):
        """St_in{f}, Eq. (6)/(45), conservative energy diffusion towards f_T."""
        return self._in.st(f, self._in.n_fixed)

    def st_field(self, f, field2=None):
        """-St_E{f} = (F^2/3)(D_F/D) d/deps [s df/deps], Eq. (7); F^2 = ``field2`` (default field^2)."""
        return (self.field**2 if field2 is None else field2) * (self.A_field @ f)

    def pump_rate(self, t):
        """I_p(t) of Eq. (3)."""
        if self.pump == "pulse":
            return self.zeta0 / self.tau_pulse * math.exp(-t / self.tau_pulse) if t >= 0 else 0.0
        if self.pump == "steady":
            return self.zeta0 / self.tau_ph
        return 0.0

    def conductivity(self, f):
        """sigma/sigma0 = int s (-df/deps), Eq. (9)/(31), s = sigma~/sigma~(mu)."""
        return float(self.L_sigma @ f)

    def particle_number(self, f):
        """int D f d eps (trapezoid weights of the grid)."""
        return float(np.sum(self.Delta * self.D * f))

    def energy(self, f, zeta):
        """int eps D f d eps + omega_p zeta, conserved by St_el + St_ph."""
        return float(np.sum(self.Delta * self.D * self.eps * f)) + self.omega_p * float(zeta)

    def field_squared(self, t, y):
        """F^2 in the rhs: ``field``^2, or with ``spontaneous`` the self-tuned E*^2 (Fig. 3b).

        E*^2 = max(0, (-sigma/tau_M - L G)/(L A f)) where d sigma/dt = L G + F^2 L A f (G: the
        rhs without field, A: the field operator): the field switches on when sigma would drop
        below zero and holds sigma ~ 0+ (relaxation time tau_M << 1/Gamma_eph), and switches off
        when sigma turns positive on its own -- the seed's sigma(t, E*(t)) = 0 for sigma < 0.
        """
        if not self.spontaneous:
            return self.field**2
        f, zeta = y[:-1], y[-1]
        G = self._fixed_rhs(zeta, 0.0)(f)
        LA = float(self.L_sigma @ (self.A_field @ f))
        if LA <= 0:
            return 0.0
        return max(0.0, (-self.conductivity(f) / self.tau_M - float(self.L_sigma @ G)) / LA)

    # ------------------------------------------------------------------ time integration
    def rhs(self, t, y):
        """dy/dt for y = [f, zeta], Eqs. (2), (3)."""
        f, zeta = y[:-1], y[-1]
        df = self._fixed_rhs(zeta, self.field_squared(t, y))(f)
        if self.hold_zeta:
            dz = 0.0
        else:
            dz = self.st_ph(f, zeta) + self.pump_rate(t) - (0.0 if math.isinf(self.tau_ph) else zeta / self.tau_ph)
        return np.concatenate([df, [dz]])

    def jacobian(self, t, y):
        """Sparse (N+1)x(N+1) d rhs/dy (csr); with ``spontaneous`` E*^2 is held fixed (lagged)."""
        f, zeta = y[:-1], y[-1]
        N = self.N
        Jff = self._jff(f, zeta, self.field_squared(t, y))
        fl, fu = f[self._ph.lo], f[self._ph.up]
        dl, du, dn = -(zeta + self.b + fu), zeta + self.b + 1.0 - fl, fu - fl
        col = np.bincount(self._ph.lo, self._ph.gain * dn, N) - np.bincount(self._ph.up, self._ph.loss * dn, N)
        if self.hold_zeta:
            row, corner = np.zeros(N), 0.0
        else:
            c = self._ph.c
            row = np.bincount(self._ph.lo, c * dl, N) + np.bincount(self._ph.up, c * du, N)
            corner = float(np.sum(c * dn)) - (0.0 if math.isinf(self.tau_ph) else 1.0 / self.tau_ph)
        Jff = Jff.tocoo()
        k = np.arange(N)
        rows = np.concatenate([Jff.row, k, np.full(N, N), [N]])
        cols = np.concatenate([Jff.col, np.full(N, N), k, [N]])
        vals = np.concatenate([Jff.data, col, row, [corner]])
        return sp.csr_matrix((vals, (rows, cols)), shape=(N + 1, N + 1))

    # ------------------------------------------------------------------ steady states
    def periodic_limit(self):
        """Eq. (8) on the grid: the zeta -> oo, St_in = 0, E = 0 long-time state."""
        return periodic_limit(self.band, self.omega_p, self.mu, self.T, self.eps)

    def steady_state(self, zeta, field=None, f0=None, tol=1e-10, max_iter=400):
        """Long-time f of Eq. (2) at fixed zeta and field F (default ``self.field``).

        Pseudo-transient continuation: backward-Euler steps (I/dt - J) df = G(f) from f0
        (default f_T) with dt growing as |G| falls (switched evolution relaxation), so every
        linear invariant of the dynamics (the particle number, and with gamma_in = F = 0 the
        number on each orbit eps + j omega_p) keeps its initial value, as in the time evolution.
        Stops when max|G| < tol (1 + zeta).  Dispersive phonons without a bath have no finite
        steady state (the fixed-zeta reservoir heats the electrons without bound): use
        :meth:`evolve_fixed` there.
        """
        F2 = self.field**2 if field is None else float(field) ** 2
        f = self.fermi() if f0 is None else np.array(f0, dtype=float)
        G = self._fixed_rhs(zeta, F2)
        I = sp.identity(self.N, format="csr")
        r = G(f)
        dt = 1.0 / (1.0 + zeta)
        for _ in range(max_iter):
            if np.max(np.abs(r)) < tol * (1.0 + zeta):
                return f
            step = spsolve((I / dt - self._jff(f, zeta, F2)).tocsc(), r)
            f_new = f + step
            r_new = G(f_new)
            if np.all(np.isfinite(r_new)) and np.linalg.norm(r_new) < 2.0 * np.linalg.norm(r):
                dt = min(dt * min(10.0, np.linalg.norm(r) / max(np.linalg.norm(r_new), 1e-300)), 1e10)
                f, r = f_new, r_new
            else:
                dt *= 0.25
        raise RuntimeError(f"steady state not reached in {max_iter} steps (max|G| = {np.max(np.abs(r)):.3g})")

    def _fixed_rhs(self, zeta, F2):
        """df/dt as a function of f alone, at fixed zeta and F^2."""
        return lambda f: self.st_el(f, zeta) + self.st_in(f) + self.st_field(f, F2)

    def _jff(self, f, zeta, F2):
        """d(df/dt)/df at fixed zeta and F^2 (csr)."""
        r1, c1, v1 = self._ph.jac_triplets(f, zeta + self.b)
        r2, c2, v2 = self._in.jac_triplets(f, self._in.n_fixed)
        return sp.coo_matrix((np.concatenate([v1, v2]), (np.concatenate([r1, r2]), np.concatenate([c1, c2]))),
                             shape=(self.N, self.N)).tocsr() + F2 * self.A_field

    def evolve_fixed(self, zeta, t_end, field=None, f0=None, rtol=1e-8, atol=1e-11):
        """f(t_end) of Eq. (2) at fixed zeta and field F from f0 (default f_T): the protocol of
        Figs. 1, 2 ("evolved for a time 10/Gamma_eph").  Reference integrator (scipy BDF with the
        sparse Jacobian); the production runs use the same rhs/jacobian in PETSc TS."""
        F2 = self.field**2 if field is None else float(field) ** 2
        f = self.fermi() if f0 is None else np.array(f0, dtype=float)
        G = self._fixed_rhs(zeta, F2)
        sol = solve_ivp(lambda t, f: G(f), (0.0, float(t_end)), f, method="BDF",
                        jac=lambda t, f: self._jff(f, zeta, F2), rtol=rtol, atol=atol)
        if sol.status != 0:
            raise RuntimeError(f"fixed-zeta evolution failed: {sol.message}")
        return sol.y[:, -1]

    def zero_conductivity_field(self, zeta, t_end=10.0, dlog=1e-3):
        """E* with sigma(E*) = 0 when sigma(0) < 0 (Fig. 2e), and omega_E (Fig. 3b inset).

        sigma(F) is that of f after ``t_end`` at fixed zeta and field F (the seed's protocol);
        t_end=None uses the t -> oo steady state.  Returns (F*, omega_E/sigma0, f*) with
        omega_E = E*^2 d sigma/d(E^2) at E* (centred difference in E^2, relative step dlog);
        (0, 0, f(F=0)) when sigma(0) >= 0.
        """
        def state(F):
            return self.steady_state(zeta, field=F) if t_end is None else self.evolve_fixed(zeta, t_end, F)

        def sigma(F):
            return self.conductivity(state(F))

        f0 = state(0.0)
        if self.conductivity(f0) >= 0:
            return 0.0, 0.0, f0
        lo, hi = 0.0, 0.01
        while sigma(hi) < 0:
            lo, hi = hi, 2.0 * hi
            if hi > 10.0:
                raise RuntimeError("no field F <= 10 makes sigma positive")
        Fs = brentq(sigma, lo, hi, xtol=1e-8, rtol=1e-8)
        E2 = Fs**2
        s_plus, s_minus = (sigma(math.sqrt(E2 * (1.0 + k * dlog))) for k in (1.0, -1.0))
        return Fs, (s_plus - s_minus) / (2.0 * dlog), state(Fs)
