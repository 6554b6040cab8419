"""Steady-state Keldysh solver for the DC-biased Holstein chain (seed 003, lattice model).

Units hbar = e = k_B = t = 1 (t a^2 = hbar^2/2m = 1, m = 1/2).  The chain of
``pde.wannier_stark`` (on-site eps0 - nE, eps0 = Delta + 2t, bath rate Gamma at
Fermi level -nE, temperature T) carries a local Einstein phonon omega0 with
Holstein coupling g_ep, kept in equilibrium at T.  The electron self-energy of
site 0 is

    Sigma^R = -i Gamma + Sigma_ph^R,   Sigma^< = 2i Gamma f(omega) + Sigma_ph^<,

with the self-consistent Born (rainbow) phonon part, Eqs. (2), (5) in frequency
(c = g_ep^2 / 2 omega0, N = n_b(omega0)):

    -i Sigma_ph^<(w) = c [(1 + N) n(w + omega0) + N n(w - omega0)],
     i Sigma_ph^>(w) = c [(1 + N) p(w - omega0) + N p(w + omega0)],

n = -i G^< (occupied), p = i G^> = A - n (empty), A = -2 Im G^R.  Im Sigma_ph^R =
-(sigma^< + sigma^>)/2 and Re Sigma_ph^R is its Kramers-Kronig transform,
evaluated for piecewise-linear Im Sigma by an FFT convolution.  The Hartree
(tadpole) term is not included (the seed's diagrams, Fig. 2, are rainbows).
A phonon frequency omega0 that is not a multiple of d_omega is split
linearly between the two neighbouring grid frequencies k d_omega (weights
keep omega0 and the line's weight), each line with its own Bose factor
n_b(k d_omega): the collision integral then conserves particle number and
obeys detailed balance exactly on the grid.

Unknown of the fixed point / Newton problem: x = [sigma^<, sigma^>] with
sigma^< = -i Sigma_ph^< >= 0 and sigma^> = i Sigma_ph^> >= 0 on the grid (2N reals);
``residual(x, problem) = Phi(x) - x``.

The replica (rainbow-generation) criterion, ``replica_ratio``, is the lattice
analogue of the seed's lambda(E), Eqs. (9)-(11) and (A6): generation k + 1 of
the lesser self-energy is built from generation k through the retarded
functions of the bath-dressed chain WITHOUT phonons (damped by Gamma only, as
in the seed's Eqs. (3), (8)).  With Sigma^R = -i Gamma the lesser continued
fraction is linear in the source s, so one generation is the positive linear map

    n_k -> sigma_k^< = c [(1 + N) n_k(w + omega0) + N n_k(w - omega0)]   (Eq. (2), on every site),
    n_{k+1} = -i [G^R sigma_k^< G^A]_00  (the whole chain's response, Wannier-Stark reduced).

``generation="perron"`` gives its spectral radius (the asymptotic ratio of
successive generations); ``generation="band_edge"`` gives the seed's own
one-step ratio int sigma_1^< / int sigma_0^< (Eq. (A6): Sigma^(4)<(t=0) /
Sigma^(2)<(t=0)) with generation 0 injected at the band bottom of every site
(n_<(p) ~ delta(p), Eq. (6)).

Outputs: n_ex = int n(w) dw/2pi, the electron number per site of the band
(including the Gamma-broadened equilibrium tail, as the seed's Fig. 1c; the
analytic wide-band tail beyond the grid is added), and the particle current
per bond J = J_{0->1} (downhill, > 0; the charge current is -e J).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq
from scipy.sparse.linalg import ArpackError, LinearOperator, eigs

from .errors import InputError, require_nonnegative, require_positive
from .wannier_stark import FrequencyGrid, chain_functions, check_grid, fermi, make_grid

__all__ = ["LatticeProblem", "lattice_problem", "phonon_self_energy", "kramers_kronig",
           "residual", "block_norm", "anderson", "observables", "solve_lattice", "Spectra", "avalanche_field",
           "replica_problem", "replica_map", "replica_ratio", "lattice_avalanche_field", "branching_ratio"]


def _kk_kernel_fft(n, size):
    """FFT of c(k) = (1-k)ln|1-k| + 2k ln|k| - (1+k)ln|1+k|, k = -(n-1)..n-1.

    (1/pi) c(i - j) is the exact principal-value integral P int phi_j(w)/(w - w_i) dw
    of the hat function at node j (piecewise-linear Kramers-Kronig weights).
    """
    k = np.arange(-(n - 1), n, dtype=float)

    def xlogx(u):
        u = np.abs(u)
        return np.where(u > 0, u * np.log(np.where(u > 0, u, 1.0)), 0.0)

    c = np.sign(1 - k) * xlogx(1 - k) + 2 * np.sign(k) * xlogx(k) - np.sign(1 + k) * xlogx(1 + k)
    return np.fft.rfft(c / np.pi, size)


def kramers_kronig(im, kernel_fft, size):
    """Re F(w_i) = (1/pi) P int Im F(w')/(w' - w_i) dw' for F analytic in the upper half plane."""
    n = im.size
    return np.fft.irfft(np.fft.rfft(im, size) * kernel_fft, size)[n - 1:2 * n - 1]


@dataclass
class LatticeProblem:
    """Parameters, grid and precomputed arrays of one steady state; see :func:`lattice_problem`."""

    gamma: float
    g_ep: float
    omega0: float
    delta: float
    E: float
    T: float
    t: float
    grid: FrequencyGrid
    omega: np.ndarray = field(repr=False)
    f: np.ndarray = field(repr=False)
    lines: tuple
    kk: tuple = field(repr=False)

    @property
    def eps0(self):
        return self.delta + 2 * self.t

    @property
    def c(self):
        return self.g_ep**2 / (2 * self.omega0)

    def z_out(self, w):
        """omega - eps0 + i Gamma beyond the grid (bath only)."""
        return w - self.eps0 + 1j * self.gamma

    def s_out(self, w):
        return 2 * self.gamma * fermi(w, self.T)

    def tails(self, weight_lo, weight_hi):
        """int A dw/2pi beyond the grid, times the weights at the two edges.

        Far from the band A(w) is the bath-broadened two-pole form with poles
        eps0 +- sqrt(2) t (the band's first three moments), each of weight 1/2.
        """
        g = self.grid
        lo, hi = g.omega_min - 0.5 * g.d_omega, g.omega_max + 0.5 * g.d_omega
        poles = self.eps0 + np.sqrt(2) * self.t * np.array([-1.0, 1.0])
        return self.gamma / (2 * np.pi) * float(np.sum(weight_lo / (poles - lo)
                                                       + weight_hi / (hi - poles)))

    def greens(self, x):
        """Site-0 functions (``ChainFunctions``) and Sigma_ph^R for the phonon self-energy x."""
        N = self.grid.n
        s_less, s_gtr = x[:N], x[N:]
        im = -0.5 * (s_less + s_gtr)
        sig_r = kramers_kronig(im, *self.kk) + 1j * im
        z = self.omega - self.eps0 + 1j * self.gamma - sig_r
        s = 2 * self.gamma * self.f + s_less
        return chain_functions(z, s, self.grid, self.t, self.z_out, self.s_out), sig_r

    def phi(self, x):
        """The SCBA map x -> [sigma^<, sigma^>] of G(x) (module docstring)."""
        cf, _ = self.greens(x)
        return phonon_self_energy(cf.n, cf.A - cf.n, self)


def lattice_problem(gamma, g_ep, omega0, delta, E, T=0.01, t=1.0, n_omega=2**16,
                    omega_min=None, omega_max=None, d_omega=None):
    """Validate the input and build the grid (step dividing E) and the precomputed arrays.

    Default window [min(Delta, 0) - 4t, Delta + 8t]: the band [Delta, Delta + 4t]
    of site 0, its phonon replicas and the bath-filled tail below the Fermi level.
    Without ``d_omega`` the step is adjusted to divide E (reported in
    ``grid.note``); a given ``d_omega`` that does not divide E is an InputError.
    """
    gamma = require_positive("gamma", gamma, "the bath rate Gamma must be > 0 (e.g. 0.005)")
    omega0 = require_positive("omega0", omega0, "give the phonon frequency > 0 (e.g. 0.3)")
    g_ep = require_nonnegative("g_ep", g_ep, "give the Holstein coupling >= 0 (e.g. 0.3)")
    E = require_nonnegative("E", E, "the chain is symmetric under E -> -E; give |E|")
    T = require_nonnegative("T", T, "give the bath temperature >= 0")
    t = require_positive("t", t, "the hopping is 1 in the seed's units")
    try:
        delta = float(delta)
    except (TypeError, ValueError):
        raise InputError(f"delta must be a number (got {delta!r}); e.g. 1", "delta") from None
    if not math.isfinite(delta):
        raise InputError(f"delta must be finite (got {delta!r}); e.g. 1", "delta")
    lo = min(delta, 0.0) - 4 * t if omega_min is None else float(omega_min)
    hi = delta + 8 * t if omega_max is None else float(omega_max)
    grid = (make_grid(E, n_omega, lo, hi) if d_omega is None
            else check_grid(E, lo, d_omega, n_omega))
    if omega0 < grid.d_omega:
        raise InputError(f"omega0 = {omega0:g} is below the grid step {grid.d_omega:.3g}; "
                         "increase n_omega", "n_omega")
    omega = grid.omega
    q, frac = divmod(omega0 / grid.d_omega, 1.0)
    lines = tuple((k, w, _bose(k * grid.d_omega, T))
                  for k, w in ((int(q), 1.0 - frac), (int(q) + 1, frac)) if w > 1e-12)
    size = int(2 ** math.ceil(math.log2(2 * grid.n - 1)))
    return LatticeProblem(gamma, g_ep, omega0, delta, E, T, t, grid, omega, fermi(omega, T),
                          lines, (_kk_kernel_fft(grid.n, size), size))


def _bose(w, T):
    return 0.0 if T == 0.0 else 1.0 / math.expm1(w / T)


def _shift(y, k, hold=True):
    """y(w + k d_omega) on the grid; beyond it the edge values held (``hold``) or zero."""
    idx = np.arange(y.size) + k
    out = y[np.clip(idx, 0, y.size - 1)]
    if not hold:
        out = np.where((idx >= 0) & (idx < y.size), out, 0.0)
    return out


def phonon_self_energy(n, p, problem, hold=True):
    """[sigma^<, sigma^>] of the Holstein SCBA, Eq. (2) with the phonon of Eq. (5) (and Eq. (C1)).

    n = -i G^<, p = i G^> on the grid; emission (1 + n_b) lowers the electron
    energy by omega0, absorption (n_b) raises it.  Sum over the grid lines
    (k, weight, n_b) of the phonon (module docstring).  Beyond the grid n and p
    are continued by their edge values (the steady state: Fermi sea below,
    empty continuum above) or, with ``hold=False``, by zero (the replica map,
    whose generations have no weight outside the window).
    """
    s_less = np.zeros_like(n)
    s_gtr = np.zeros_like(p)
    for k, w, nb in problem.lines:
        s_less += w * ((1 + nb) * _shift(n, k, hold) + nb * _shift(n, -k, hold))
        s_gtr += w * ((1 + nb) * _shift(p, -k, hold) + nb * _shift(p, k, hold))
    return problem.c * np.concatenate([s_less, s_gtr])


def residual(x, problem):
    """r = Phi(x) - x: zero at the SCBA steady state (x = [sigma^<, sigma^>], 2N reals)."""
    return problem.phi(x) - x


def block_norm(r, g, n):
    """max over the two blocks of ||r_b|| / ||g_b||: each rate converged relative to itself."""
    out = 0.0
    for sl in (slice(0, n), slice(n, 2 * n)):
        ref = np.linalg.norm(g[sl])
        out = max(out, np.linalg.norm(r[sl]) / ref if ref > 0 else np.linalg.norm(r[sl]))
    return out


def anderson(phi, x0, n, tol=1e-8, maxiter=500, mixing=0.5, history=8):
    """Anderson-accelerated fixed point x = phi(x) with x >= 0, the numpy reference backend.

    Anderson mixing (Walker & Ni, SIAM J. Numer. Anal. 49, 1715 (2011)) of depth
    ``history`` on top of linear mixing ``mixing``; the least squares use the
    residual scaled block-wise by ||phi_b|| (the two rates differ by orders of
    magnitude before the avalanche).  If the residual grows tenfold over the
    best one, the history is dropped and the iteration restarts from the best x.
    Stops when the block-relative residual norm (``block_norm``) is <= tol.
    Returns (phi(x), info) for the converged iterate x (the best x if not
    converged), info = {converged, iterations, residual, history}.
    """
    x = np.maximum(np.asarray(x0, dtype=float), 0.0)
    dX, dR, hist = [], [], []
    best = (np.inf, x)
    x_prev = r_prev = None
    for it in range(1, maxiter + 1):
        g = phi(x)
        r = g - x
        res = block_norm(r, g, n)
        hist.append(res)
        if res < best[0]:
            best = (res, x)
        if res <= tol:
            return g, dict(converged=True, iterations=it, residual=res, history=hist)
        if res > 10 * best[0]:
            x, dX, dR, x_prev = best[1], [], [], None
            continue
        w = np.concatenate([np.full(n, 1 / max(np.linalg.norm(g[:n]), 1e-300)),
                            np.full(n, 1 / max(np.linalg.norm(g[n:]), 1e-300))])
        if x_prev is not None:
            dX.append(x - x_prev)
            dR.append(r - r_prev)
            if len(dX) > history:
                dX.pop(0)
                dR.pop(0)
        x_prev, r_prev = x, r
        step = mixing * r
        if dX:
            DR = np.array(dR).T
            gam = np.linalg.lstsq(DR * w[:, None], r * w, rcond=None)[0]
            step = step - (np.array(dX).T + mixing * DR) @ gam
        x = np.maximum(x + step, 0.0)
    return best[1], dict(converged=False, iterations=maxiter, residual=best[0], history=hist)


@dataclass
class Spectra:
    """Site-0 spectra on the grid: A = -2 Im G^R, n = -i G^< (occupied), p = A - n,
    the local bath occupation f, and Sigma_ph^R, sigma^< = -i Sigma_ph^<, sigma^> = i Sigma_ph^>."""

    omega: np.ndarray
    A: np.ndarray
    n: np.ndarray
    f: np.ndarray
    sigma_r: np.ndarray
    sigma_less: np.ndarray
    sigma_gtr: np.ndarray

    @property
    def p(self):
        return self.A - self.n

    @property
    def occupation(self):
        """Distribution n(w)/A(w) (nan where A = 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.n / self.A


def observables(x, problem):
    """n_ex, J_{0->1}, J_{-1->0}, spectral weight int A dw/2pi, bath current, and the Spectra at x.

    bath_current = 2 Gamma int (f A - n) dw/2pi is the net particle flow from the
    bath into site 0 (beyond the grid n = f A exactly).  In a steady state the
    bond currents are equal (Wannier-Stark symmetry), so it vanishes: n_ex =
    int f A dw/2pi, the spectral weight below the local Fermi level.  The band
    occupation can therefore only change through A below the Fermi level.
    """
    cf, sig_r = problem.greens(x)
    g, N = problem.grid, problem.grid.n
    dw = g.d_omega / (2 * np.pi)
    f_lo, f_hi = problem.f[0], problem.f[-1]
    spectra = Spectra(problem.omega, cf.A, cf.n, problem.f, sig_r, x[:N], x[N:])
    return dict(
        n_ex=float(np.sum(cf.n)) * dw + problem.tails(f_lo, f_hi),
        current=cf.bond_current(problem.t, g.d_omega, "right"),
        current_left=cf.bond_current(problem.t, g.d_omega, "left"),
        weight=float(np.sum(cf.A)) * dw + problem.tails(1.0, 1.0),
        bath_current=2 * problem.gamma * float(np.sum(problem.f * cf.A - cf.n)) * dw,
        spectra=spectra,
    )


def solve_lattice(gamma, g_ep, omega0, delta, E, T=0.01, t=1.0, n_omega=2**16,
                  omega_min=None, omega_max=None, d_omega=None, tol=1e-8, maxiter=500,
                  mixing=0.5, history=8, x0=None):
    """One SCBA steady state of the biased Holstein chain.

    Returns a dict: n_ex, current (J_{0->1}), current_left (J_{-1->0}, equal in a
    steady state), weight (int A dw/2pi, = 1), converged, residual (block-relative
    norm of Phi(x) - x), iterations, grid (the FrequencyGrid; grid.note reports
    an adjusted step), x (the phonon rates; a warm start ``x0`` for a neighbouring
    E on the same grid), problem (the LatticeProblem, for ``residual``), spectra
    (:class:`Spectra`, the arrays for plots).
    """
    problem = lattice_problem(gamma, g_ep, omega0, delta, E, T, t, n_omega,
                              omega_min, omega_max, d_omega)
    N = problem.grid.n
    if x0 is None:
        x0 = np.zeros(2 * N)
    elif np.size(x0) != 2 * N:
        raise InputError(f"x0 has {np.size(x0)} entries, expected 2*n_omega = {2 * N}; "
                         "pass the 'x' of a run with the same n_omega", "x0")
    if problem.g_ep == 0.0:
        x, info = np.zeros(2 * N), dict(converged=True, iterations=0, residual=0.0, history=[])
    else:
        x, info = anderson(problem.phi, x0, N, tol, maxiter, mixing, history)
    out = observables(x, problem)
    out.update(converged=info["converged"], residual=info["residual"],
               iterations=info["iterations"], grid=problem.grid, x=x, problem=problem)
    return out


def avalanche_field(gamma, g_ep, omega0, delta, E_lo, E_hi, jump=10.0, rtol=0.02, **kw):
    """E_av by bisection on the jump of n_ex: the smallest E with n_ex(E) > jump * n_ex(E_lo).

    E_lo must be below and E_hi above the avalanche (InputError otherwise).
    Returns (E_av, n_ex(E_lo), n_ex at the bracket ends).
    """
    n_lo = solve_lattice(gamma, g_ep, omega0, delta, E_lo, **kw)["n_ex"]
    n_hi = solve_lattice(gamma, g_ep, omega0, delta, E_hi, **kw)["n_ex"]
    if not n_hi > jump * n_lo:
        raise InputError(f"no jump of n_ex between E_lo = {E_lo:g} and E_hi = {E_hi:g} "
                         f"(n_ex {n_lo:.3g} -> {n_hi:.3g}); widen the bracket (raise E_hi)", "E_range")
    a, b = float(E_lo), float(E_hi)
    while b - a > rtol * b:
        mid = 0.5 * (a + b)
        if solve_lattice(gamma, g_ep, omega0, delta, mid, **kw)["n_ex"] > jump * n_lo:
            b = mid
        else:
            a = mid
    return 0.5 * (a + b), n_lo, (a, b)


def replica_problem(gamma, g_ep, omega0, delta, E, T=0.0, t=1.0, d_omega=None, margin=1.0):
    """The LatticeProblem of the replica map: window [Delta - margin, Delta + 4t + margin].

    The step is the largest E/m <= ``d_omega`` (default Gamma/4, which resolves
    the Gamma-broadened Wannier-Stark ladder); the bath source (the Fermi sea
    below the band) plays no part in the map, so the window covers the band only.
    """
    gamma = require_positive("gamma", gamma, "the bath rate Gamma must be > 0 (e.g. 0.005)")
    E = require_positive("E", E, "the replica map needs a field E > 0 (at E = 0 emission only "
                                 "lowers the energy and its spectral radius is 0)")
    margin = require_positive("margin", margin, "give the window margin around the band (e.g. 1)")
    d = gamma / 4 if d_omega is None else require_positive("d_omega", d_omega,
                                                           "give a positive frequency step")
    d = E / math.ceil(E / d * (1 - 1e-12))
    n = int(math.ceil((4 * t + 2 * margin) / d)) + 1
    return lattice_problem(gamma, g_ep, omega0, delta, E, T, t, n,
                           omega_min=float(delta) - margin, d_omega=d)


def replica_map(problem, sigma_r=None):
    """One rainbow generation n_k -> n_{k+1} (module docstring) as a function on the grid.

    n = -i G^<_00 >= 0 of generation k; sigma_k^< is ``phonon_self_energy`` of
    it (Eq. (2), n_b(T) of the problem's lines); n_{k+1} is the lesser
    continued fraction of ``chain_functions`` with Sigma^R = -i Gamma (no
    phonon self-energy; the seed's Eq. (10)) or, with ``sigma_r``, with
    Sigma^R = -i Gamma + sigma_r (the dressed propagators of an SCBA steady
    state), and no source beyond the grid.  Linear and positive.
    """
    N = problem.grid.n
    z = problem.z_out(problem.omega)
    if sigma_r is not None:
        z = z - sigma_r
    zero = np.zeros(N)

    def none_outside(w):
        return np.zeros(np.shape(w))

    def apply(n):
        s = phonon_self_energy(n, zero, problem, hold=False)[:N]
        return chain_functions(z, s, problem.grid, problem.t, problem.z_out, none_outside).n
    return apply


def replica_ratio(gamma, g_ep, omega0, delta, E, T=0.0, t=1.0, generation="perron",
                  d_omega=None, margin=1.0, tol=1e-6, maxiter=3000):
    """lambda_lat(E): the lattice analogue of lambda(E), Eqs. (10), (11), (A6).

    generation="perron": the spectral radius of ``replica_map`` (the asymptotic
    ratio of successive generations of sigma^<).  The map is positive, so the
    Perron root has a nonnegative eigenvector x and the Collatz-Wielandt ratios
    (L x)_i / x_i of any positive x bracket it; the result is accepted when they
    agree to ``tol`` on the bulk of x (x_i > 1e-6 max x).  ``_perron_root``
    tries power iteration, then Arnoldi (ARPACK) seeded with its iterate, then
    power iteration again up to ``maxiter`` steps.
    generation="band_edge": int sigma_1^< / int sigma_0^< with generation 0 the
    response to a source at the band bottom Delta of every site (seed Eq. (6),
    n_<(p) = 2 pi n_ex delta(p)), i.e. Sigma^(4)<(t=0) / Sigma^(2)<(t=0) of Eq. (A6).
    Both are independent of Delta: the map has no Fermi level, and Delta only
    shifts the frequency axis (the large-Delta limit of Fig. 3(b)).
    """
    if generation not in ("perron", "band_edge"):
        raise InputError(f"generation must be 'perron' or 'band_edge' (got {generation!r})", "generation")
    problem = replica_problem(gamma, g_ep, omega0, delta, E, T, t, d_omega, margin)
    if problem.g_ep == 0.0:
        return 0.0
    L, N = replica_map(problem), problem.grid.n

    def response(s):
        return chain_functions(problem.z_out(problem.omega), s, problem.grid, problem.t,
                               problem.z_out, lambda w: np.zeros(np.shape(w)))

    if generation == "band_edge":
        s = np.zeros(N)
        s[int(round((problem.delta - problem.grid.omega_min) / problem.grid.d_omega))] = 1.0
        n0 = response(s).n
        return float(np.sum(L(n0)) / np.sum(n0))    # = int sigma_1 / int sigma_0 (shifts by omega0)
    rho = _perron_root(L, response(np.zeros(N)).A, tol, maxiter)
    if rho is None:
        raise InputError(f"lambda_lat(E = {E:g}) did not converge to tol = {tol:g} in "
                         f"maxiter = {maxiter} power steps; raise maxiter or tol", "tol")
    return rho


def branching_ratio(gamma, g_ep, omega0, delta, E, T=0.01, t=1.0, n_omega=2**15, tol=1e-6, maxiter=3000,
                    steady=None):
    """Replica branching ratios at the SCBA steady state: rho_scba and rho_bare.

    The lesser series Sigma^< = Sigma^(2)< + Sigma^(4)< + ... of the seed's
    Figs. 2(a), (b) diverges where the Perron root of the generation map
    (``replica_map``) exceeds 1; with Gamma-damped propagators (the seed's
    Eqs. (3), (8), (10)) that root is ``rho_bare`` and exceeds 1 above the
    avalanche field, cf. Eq. (11).  ``rho_scba`` is the same root with the
    propagators dressed by the self-consistent Sigma_ph^R of the steady state:
    every emission that feeds generation k + 1 also leaves generation k as the
    out-scattering sigma^> in Im Sigma^R (emission conserves the electron
    number), so a generation can only lose particles to the baths: rho_scba
    stays below 1 (docs/avalanche.md; below E ~ Gamma/3 the map is nearly
    nilpotent and its small root ill-conditioned).  ``steady``: a ``solve_lattice`` result for
    the same parameters (else it is solved here on ``n_omega`` points).

    Returns a dict: rho_scba, rho_bare, n_ex, converged, residual (of the steady state).
    """
    E = require_positive("E", E, "the branching ratio needs a field E > 0 (at E = 0 emission only "
                                 "lowers the energy and the ratio is 0)")
    if steady is None:
        steady = solve_lattice(gamma, g_ep, omega0, delta, E, T=T, t=t, n_omega=n_omega)
    problem = steady["problem"]
    if problem.g_ep == 0.0:
        rho = dict(rho_scba=0.0, rho_bare=0.0)
    else:
        x0 = steady["spectra"].A
        rho = {}
        for key, sig in (("rho_scba", steady["spectra"].sigma_r), ("rho_bare", None)):
            rho[key] = _perron_root(replica_map(problem, sig), x0, tol, maxiter)
            if rho[key] is None:
                raise InputError(f"{key} at E = {E:g} did not converge to tol = {tol:g} in maxiter = "
                                 f"{maxiter} power steps; raise maxiter or tol", "tol")
    return dict(rho, n_ex=steady["n_ex"], converged=steady["converged"], residual=steady["residual"])


def _collatz_wielandt(L, x, tol):
    """(L x, rho) with rho = sum(Lx)/sum(x) if the ratios (Lx)_i/x_i agree to tol on the bulk, else None."""
    y = L(x)
    bulk = x > 1e-6 * x.max()
    r = y[bulk] / x[bulk]
    return y, (float(np.sum(y) / np.sum(x)) if r.max() - r.min() <= tol * r.max() else None)


def _perron_root(L, x, tol, maxiter, first=60):
    """Perron root of the positive map L from the positive start x (see ``replica_ratio``), or None.

    Shifted power iteration, then Arnoldi (ARPACK) for the eigenvalue of largest real part -- for a
    nonnegative map that is the Perron root, whereas the largest modulus may be shared by a ring of
    complex eigenvalues (the Wannier-Stark ladder and the phonon replicas beat) -- accepted when its
    eigenvector has a residual <= tol, then power iteration again up to ``maxiter`` steps.
    """
    def power(x, steps):
        # power iteration on L + a I, a the current Rayleigh-type estimate: same Perron vector,
        # root rho + a, and no oscillation from an imprimitive L (eigenvalues -rho, rho e^{2 pi i/k})
        for _ in range(steps):
            y, rho = _collatz_wielandt(L, x, tol)
            if rho is not None:
                return x, rho
            y = y + (np.sum(y) / np.sum(x)) * x
            x = y / y.max()
        return x, None

    x, rho = power(x, first)
    if rho is not None:
        return rho
    N = x.size
    op = LinearOperator((N, N), dtype=float, matvec=lambda v: L(np.ravel(v)))
    try:
        vals, vecs = eigs(op, k=1, which="LR", v0=x, ncv=min(N - 1, 40), tol=1e-3 * tol, maxiter=1000)
    except ArpackError:
        vals, vecs = [], None
    for lam, v in zip(vals, np.transpose(vecs) if vecs is not None else []):
        v = np.real(v) * np.sign(np.real(v[np.argmax(np.abs(v))]))
        if abs(lam.imag) <= tol * abs(lam) and lam.real > 0 and \
                np.linalg.norm(L(v) - lam.real * v) <= tol * lam.real * np.linalg.norm(v):
            return float(lam.real)
    return power(x, maxiter - first)[1]


def lattice_avalanche_field(gamma, g_ep, omega0, delta, E_lo, E_hi, n_scan=16, rtol=1e-3,
                            **kw):
    """The roots of lambda_lat(E) = 1 (``replica_ratio``, keywords ``kw``) in [E_lo, E_hi].

    lambda_lat is scanned on ``n_scan`` log-spaced fields; each sign change of
    lambda_lat - 1 is refined by brentq to ``rtol``.  Returns a dict: E_av (the
    lowest upward crossing, the avalanche field, cf. Eq. (11)), E_av_upper (the
    first downward crossing above it, None if lambda_lat stays >= 1 up to E_hi),
    roots (all crossings), E and ratio (the scan).  lambda_lat(E_lo) >= 1 is an
    InputError (lower E_lo); no crossing gives E_av = None with ``reason``.
    """
    E_lo = require_positive("E_lo", E_lo, "give the lower end of the field scan (> 0)")
    E_hi = require_positive("E_hi", E_hi, "give the upper end of the field scan (> E_lo)")
    if not E_hi > E_lo:
        raise InputError(f"E_hi = {E_hi:g} must exceed E_lo = {E_lo:g}; widen the scan", "E_range")
    if int(n_scan) != n_scan or n_scan < 2:
        raise InputError(f"n_scan must be an integer >= 2 (got {n_scan!r}); e.g. 16", "n_scan")

    def f(E):
        return replica_ratio(gamma, g_ep, omega0, delta, E, **kw) - 1.0

    Es = np.geomspace(E_lo, E_hi, int(n_scan))
    first = f(E_lo)
    if first >= 0.0:
        raise InputError(f"lambda_lat(E_lo = {E_lo:g}) = {first + 1:.4g} >= 1: the avalanche "
                         "field is below the scan; lower E_lo", "E_range")
    vals = np.array([first] + [f(E) for E in Es[1:]])
    roots = [brentq(f, Es[i], Es[i + 1], rtol=rtol)
             for i in range(len(Es) - 1) if (vals[i] < 0.0) != (vals[i + 1] < 0.0)]
    out = dict(E_av=roots[0] if roots else None,
               E_av_upper=roots[1] if len(roots) > 1 else None,
               roots=roots, E=Es, ratio=vals + 1.0)
    if not roots:
        out["reason"] = (f"lambda_lat stays below 1 on [{E_lo:g}, {E_hi:g}] "
                         f"(max {vals.max() + 1:.4g}); raise E_hi or g_ep")
    return out
