"""The DC-biased tight-binding chain reduced to one site (seed 003, lattice model).

Chain (static gauge, t a^2 = hbar^2/2m = 1): site n has on-site energy
eps0 - n E with eps0 = Delta + 2t (so eps_k = Delta + 2t(1 - cos k)), hopping
-t, a wide-band bath at rate Gamma whose Fermi level is -n E, and a local
self-energy.  Wannier-Stark symmetry (translation by one site and omega -> omega - E)
gives G_nn(omega) = G_00(omega + n E) and Sigma_n(omega) = Sigma_0(omega + n E).

With z(omega) = omega - eps0 - Sigma^R(omega) and s(omega) = -i Sigma^<(omega) >= 0
(all local, site 0), the surface Green functions of the half-chains
{0, 1, 2, ...} and {0, -1, -2, ...} obey the shifted continued fractions

    a_R(w) = 1 / (z(w) - t^2 a_R(w + E)),   b_R(w) = |a_R(w)|^2 [s(w) + t^2 b_R(w + E)],
    a_L(w) = 1 / (z(w) - t^2 a_L(w - E)),   b_L(w) = |a_L(w)|^2 [s(w) + t^2 b_L(w - E)],

(b = -i times the lesser surface function), and the site-0 functions are

    G^R = 1 / (z - t^2 a_R(w + E) - t^2 a_L(w - E)),
    n(w) = -i G^<(w) = |G^R|^2 [s + t^2 b_R(w + E) + t^2 b_L(w - E)].

On a grid whose step divides E (E = m d_omega) each recursion is one backward
sweep of N/m steps, vectorised over the m residue classes: it is the stable
direction (the half-chain beyond E-shifts leaves the band and the fraction
contracts, so the boundary value is forgotten).  Beyond the grid edge the
fraction is closed with the E = 0 half chain of the bath-only site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError, require_positive

__all__ = ["FrequencyGrid", "make_grid", "check_grid", "fermi", "half_chain",
           "chain_functions", "ChainFunctions"]


@dataclass(frozen=True)
class FrequencyGrid:
    """omega_j = omega_min + j d_omega, j = 0..n-1; E = shift * d_omega (shift = 0 at E = 0)."""

    omega_min: float
    d_omega: float
    n: int
    shift: int
    note: str = ""

    @property
    def omega(self):
        return self.omega_min + self.d_omega * np.arange(self.n)

    @property
    def omega_max(self):
        return self.omega_min + self.d_omega * (self.n - 1)


def make_grid(E, n_omega, omega_min, omega_max):
    """Grid of n_omega points from omega_min whose step divides E.

    The step is E/m with m = max(1, floor(E n / (omega_max - omega_min))), i.e.
    the smallest step >= the requested one, so that the n points still reach
    omega_max (the window ends at or above it).  The adjustment is reported in
    ``grid.note``; pass more points for a finer step.
    """
    n = _check_n(n_omega)
    if not omega_max > omega_min:
        raise InputError(f"frequency window ({omega_min:g}, {omega_max:g}) is empty; "
                         "give omega_max > omega_min", "omega_min")
    step = (omega_max - omega_min) / n
    if E == 0.0:
        return FrequencyGrid(omega_min, step, n, 0)
    m = max(1, int(math.floor(E / step * (1 + 1e-12))))
    d = E / m
    note = ""
    if abs(d - step) > 1e-12 * step:
        note = (f"d_omega adjusted from {step:.6g} to E/{m} = {d:.6g} so that it divides E; "
                f"window is now [{omega_min:g}, {omega_min + d * (n - 1):.6g}]")
    return FrequencyGrid(omega_min, d, n, m, note)


def check_grid(E, omega_min, d_omega, n_omega):
    """A user-given grid, accepted only if d_omega divides E (to 1e-9)."""
    n = _check_n(n_omega)
    d = require_positive("d_omega", d_omega, "give a positive frequency step")
    if E == 0.0:
        return FrequencyGrid(float(omega_min), d, n, 0)
    m = int(round(E / d))
    if m < 1 or abs(m * d - E) > 1e-9 * E:
        raise InputError(f"d_omega = {d:g} does not divide E = {E:g}; "
                         f"use d_omega = E/m for an integer m (e.g. {E / max(1, m):.6g})", "d_omega")
    return FrequencyGrid(float(omega_min), E / m, n, m)


def _check_n(n_omega):
    if int(n_omega) != n_omega or n_omega < 16:
        raise InputError(f"n_omega must be an integer >= 16 (got {n_omega!r}); e.g. 65536", "n_omega")
    return int(n_omega)


def fermi(w, T):
    """Fermi function 1/(exp(w/T) + 1); the step (1/2 at w = 0) at T = 0."""
    if T == 0.0:
        return np.where(w < 0, 1.0, np.where(w > 0, 0.0, 0.5))
    return 0.5 * (1.0 - np.tanh(0.5 * np.asarray(w) / T))


def half_chain(z, s, t=1.0):
    """E = 0 half chain: a = 1/(z - t^2 a) (Im a < 0), b = |a|^2 s / (1 - t^2 |a|^2)."""
    z = np.asarray(z, dtype=complex)
    a = (z - np.sqrt(z - 2 * t) * np.sqrt(z + 2 * t)) / (2 * t * t)
    a2 = a.real**2 + a.imag**2
    return a, a2 * s / (1.0 - t * t * a2)


@dataclass
class ChainFunctions:
    """Site-0 functions on the grid (see the module docstring).

    G: G^R_00; n: -i G^<_00 (occupied spectrum); aR, bR: right lead a_R(w + E),
    b_R(w + E); aL, bL: left lead a_L(w - E), b_L(w - E) (all t^2-free).
    """

    G: np.ndarray
    n: np.ndarray
    aR: np.ndarray
    bR: np.ndarray
    aL: np.ndarray
    bL: np.ndarray

    @property
    def A(self):
        """Spectral function -2 Im G^R."""
        return -2.0 * self.G.imag

    def bond_current(self, t, d_omega, side="right"):
        """Particle current 0 -> 1 ("right") or -1 -> 0 ("left"), each from its own lead.

        J_{0->1} = -2t Re int G^<_{10} dw/2pi with G^<_{10} = -t[a_R G^< + a_R^< G^A]
                 = 2 t^2 int [-n Im a_R + b_R Im G^R] dw/2pi  (Meir-Wingreen form);
        J_{-1->0} = -J_{0->-1}, the same with the left lead.
        """
        a, b = (self.aR, self.bR) if side == "right" else (self.aL, self.bL)
        j = 2 * t * t * (-self.n * a.imag + b * self.G.imag)
        J = float(np.sum(j)) * d_omega / (2 * np.pi)
        return J if side == "right" else -J


def chain_functions(z, s, grid, t, z_out, s_out):
    """Solve the shifted continued fractions on ``grid`` (module docstring).

    z, s: z(omega), s(omega) on the grid; z_out(w), s_out(w): callables giving
    them beyond the grid (used to pad to whole sweeps and to close the fractions
    with the E = 0 half chain).  At E = 0 the fractions are the quadratic
    ``half_chain``.
    """
    m, N = grid.shift, grid.n
    if m == 0:
        a, b = half_chain(z, s, t)
        G = 1.0 / (z - 2 * t * t * a)
        n = (G.real**2 + G.imag**2) * (s + 2 * t * t * b)
        return ChainFunctions(G, n, a, b, a, b)
    K = -(-N // m)
    pad = K * m - N
    d = grid.d_omega
    hi = grid.omega_min + d * np.arange(N, K * m + m)            # above the grid
    lo = grid.omega_min - d * np.arange(1, K * m - N + m + 1)    # below, descending
    zR = np.concatenate([z, z_out(hi[:pad])])
    sR = np.concatenate([s, s_out(hi[:pad])])
    zL = np.concatenate([z[::-1], z_out(lo[:pad])])
    sL = np.concatenate([s[::-1], s_out(lo[:pad])])
    aR_bc, bR_bc = half_chain(z_out(hi[pad:]), s_out(hi[pad:]), t)
    aL_bc, bL_bc = half_chain(z_out(lo[pad:]), s_out(lo[pad:]), t)
    a, b = _sweep(np.hstack([zR.reshape(K, m), zL.reshape(K, m)]),
                  np.hstack([sR.reshape(K, m), sL.reshape(K, m)]),
                  np.concatenate([aR_bc, aL_bc]), np.concatenate([bR_bc, bL_bc]), t * t)
    aR, bR = a[:, :m].ravel()[m:N + m], b[:, :m].ravel()[m:N + m]          # a_R(w + E)
    aL, bL = a[:, m:].ravel()[m:N + m][::-1], b[:, m:].ravel()[m:N + m][::-1]  # a_L(w - E)
    t2 = t * t
    G = 1.0 / (z - t2 * (aR + aL))
    n = (G.real**2 + G.imag**2) * (s + t2 * (bR + bL))
    return ChainFunctions(G, n, aR, bR, aL, bL)


def _sweep(Z, S, a_bc, b_bc, t2):
    """Rows k = K-1..0: a_k = 1/(Z_k - t2 a_{k+1}), b_k = |a_k|^2 (S_k + t2 b_{k+1}).

    Returns (K+1, width) arrays, row K being the boundary (a_bc, b_bc).
    """
    K, w = Z.shape
    a = np.empty((K + 1, w), dtype=complex)
    b = np.empty((K + 1, w))
    a[K], b[K] = a_bc, b_bc
    den = np.empty(w, dtype=complex)
    for k in range(K - 1, -1, -1):
        np.multiply(a[k + 1], -t2, out=den)
        den += Z[k]
        np.divide(1.0, den, out=a[k])
        np.multiply(b[k + 1], t2, out=b[k])
        b[k] += S[k]
        b[k] /= den.real**2 + den.imag**2
    return a, b
