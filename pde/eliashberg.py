"""Equilibrium Eliashberg functions of the normal state (seed 000).

All functions take a :class:`pde.spectra.Spectrum` (in whatever units it was
built: energies E and temperatures T must be in the same units) and are
vectorised over the energy ``E``.

* :func:`sigma`   -- Sigma[f0](E), Eq. (S13) with the sign of Eq. (4): Sigma ~ -lambda E
  at low T (docs/theory.md §2.1, "The sign of Σ").
* :func:`zinv`    -- Z0^-1(E) = 1 - Sigma'[f0], Eq. (5).
* :func:`zinv_strong` -- the strong-coupling limit, Eq. (S38).
* :func:`cel_ratio`, :func:`cel` -- C_el / C_free and C_el, Eqs. (S11)-(S14).
* :func:`electronic_energy` -- epsilon(T) - epsilon(0) = int_0^T C_el (Fig. 3).

With y = E/(2 pi T) and x_k = omega_k/(2 pi T), the sums over the phonon
nodes (omega_k, w_k) of alpha^2F are

    Sigma(E)   = -sum_k w_k [Re psi(1/2 + i(y + x_k)) - Re psi(1/2 + i(y - x_k))]
    Z0^-1(E)   = 1 - (2 pi T)^-1 sum_k w_k [Im psi1(1/2 + i(y + x_k)) - Im psi1(1/2 + i(y - x_k))]

evaluated with the real kernels of :mod:`pde.polygamma` in energy chunks,
all modes broadcast at once.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit

from .errors import require_positive
from .polygamma import cel_g, im_trigamma_half, re_digamma_half, re_tetragamma_half

__all__ = [
    "fermi",
    "sigma",
    "zinv",
    "zinv_strong",
    "cel_ratio",
    "cel",
    "electronic_energy",
]

_BLOCK = 1 << 18  # energies x modes per block: a few MB of temporaries for any node count


def fermi(E, T):
    """f0(E) = 1/(exp(E/T) + 1), overflow-free and accurate in the exponential tail (E >> T)."""
    return expit(-np.asarray(E, dtype=float) / T)



def fermi_prime(E, T):
    """f0'(E) = -1/(4T cosh^2(E/2T)) (< 0), overflow-free."""
    x = np.abs(np.asarray(E, dtype=float)) / T
    e = np.exp(-x)
    return -e / (T * (1.0 + e) ** 2)

def _nodes_for(spectrum, T):
    """Nodes of alpha^2F resolving the thermal scale.

    Panels of pi*T/2 resolve the kernels' poles at distance pi*T from the real
    omega axis; the floor (support/20000) bounds the node count as T -> 0.  The
    kernels here are smooth at omega = 0 -- Sigma's and Z0^-1's K(y + x) - K(y - x)
    vanish with x, C_el's 2 g(x)/omega ~ 12 x / omega (g ~ 6 x^2) -- so no graded
    panels there: Sigma, Z0^-1 and C_el share one set of nodes per T.
    """
    width = spectrum.omega_max - spectrum.omega_min
    return spectrum.nodes(h=max(0.5 * math.pi * T, width / 20000.0), graded=False)


def _mode_sum(kernel, E, T, omega, weight):
    """sum_k w_k [K(y + x_k) - K(y - x_k)], y = E/2piT, x_k = omega_k/2piT; chunked over E."""
    E = np.asarray(E, dtype=float)
    flat = E.ravel()
    y = flat / (2.0 * math.pi * T)
    x = omega / (2.0 * math.pi * T)
    out = np.empty_like(y)
    chunk = max(1, _BLOCK // max(x.size, 1))
    for s in range(0, y.size, chunk):
        yb = y[s : s + chunk, None]
        out[s : s + chunk] = (kernel(yb + x) - kernel(yb - x)) @ weight
    return out.reshape(E.shape)


def sigma(spectrum, E, T):
    """Equilibrium self-energy Sigma[f0](E): Eq. (4) evaluated as Eq. (S13), sign of Eq. (4).

    Sigma(E) = -int d omega alpha^2F(omega) Re[psi(1/2 + i(E+omega)/2piT) - psi(1/2 + i(E-omega)/2piT)];
    Sigma ~ -lambda E for E, T << omega.  Odd in E.
    """
    T = require_positive("T0", T, "give the temperature T0 > 0")
    om, w = _nodes_for(spectrum, T)
    return -_mode_sum(re_digamma_half, E, T, om, w)


def zinv(spectrum, E, T):
    """Inverse quasiparticle weight Z0^-1(E) = 1 - Sigma'[f0](E), seed 000 Eq. (5).

    Z0^-1 = 1 - (2 pi T)^-1 int d omega alpha^2F Im[psi1(1/2 + i(E+omega)/2piT) - psi1(1/2 + i(E-omega)/2piT)].
    Even in E; -> 1 + lambda at E = 0, T -> 0; -> 1 for |E| -> infinity.
    """
    T = require_positive("T0", T, "give the temperature T0 > 0")
    om, w = _nodes_for(spectrum, T)
    return 1.0 - _mode_sum(im_trigamma_half, E, T, om, w) / (2.0 * math.pi * T)


def zinv_strong(E, T, g=1.0):
    """Strong-coupling limit lambda -> infinity of Z0^-1, seed 000 Eq. (S38).

    1/Z0(E) = 1 - g^2/(4 pi^2 T^2) Re psi2(1/2 + iE/(2 pi T)); independent of the
    shape of alpha^2F.  In g units (g = 1) T_c = 0.1827.
    """
    T = require_positive("T0", T, "give the temperature T0 > 0")
    y = np.asarray(E, dtype=float) / (2.0 * math.pi * T)
    return 1.0 - g * g / (4.0 * math.pi**2 * T * T) * re_tetragamma_half(y)


def cel_ratio(spectrum, T):
    """C_el / C_free = 1 - int g(omega/2piT) 2 alpha^2F(omega)/omega d omega, Eq. (S14).

    g(x) is the Lee-Rainer function of Eq. (S12); C_free = 2 pi^2 nu0 T/3.
    Tends to 1 + lambda for T -> 0 and to 1 for T -> infinity.  Vectorised over T.
    """
    T = np.asarray(T, dtype=float)
    if np.any(~np.isfinite(T)) or np.any(T <= 0):
        require_positive("T", float(np.min(T)), "temperatures must be > 0")
    flat = T.ravel()
    # temperatures in increasing order, each block with the nodes its lowest T needs (panels ~ pi T/2): a log scan
    # down to T << omega pays the fine nodes only at its low end; blocks of temperatures x nodes stay a few MB
    order = np.argsort(flat)
    out = np.empty_like(flat)
    s = 0
    while s < flat.size:
        om, w = _nodes_for(spectrum, float(flat[order[s]]))
        idx = order[s : s + max(1, _BLOCK // max(om.size, 1))]
        out[idx] = 1.0 - cel_g(om[None, :] / (2.0 * math.pi * flat[idx, None])) @ (2.0 * w / om)
        s += idx.size
    return out.reshape(T.shape)


def cel(spectrum, T):
    """Electronic specific heat C_el(T) in units of nu0 (DOS per spin), Eq. (S11)/(S14)."""
    T = np.asarray(T, dtype=float)
    return (2.0 * math.pi**2 / 3.0) * T * cel_ratio(spectrum, T)


_GL64 = np.polynomial.legendre.leggauss(64)
_GL16 = np.polynomial.legendre.leggauss(16)


def electronic_energy(spectrum, T):
    """epsilon(T) - epsilon(0) = int_0^T C_el(T') dT' in units of nu0 (seed 000 Fig. 3, Eq. (S7)).

    Gauss-Legendre: 64 nodes on [0, T_1] for the lowest temperature (C_el/T is smooth and tends to
    (2pi^2/3)(1 + lambda) as T -> 0), then 16 on each interval between consecutive temperatures, summed
    cumulatively -- a table of n temperatures costs 64 + 16 n evaluations of C_el, not 64 n (a continuous
    alpha^2F pays thousands of nodes at each low T).  Vectorised over T.
    """
    T = np.asarray(T, dtype=float)
    flat = T.ravel()
    if np.any(flat <= 0):
        require_positive("T", float(np.min(flat)), "temperatures must be > 0")
    if flat.size == 0:
        return np.zeros(T.shape)
    ts, inv = np.unique(flat, return_inverse=True)
    x64, w64 = _GL64
    x16, w16 = _GL16
    lo = np.concatenate([[0.0], ts[:-1]])
    first = 0.5 * ts[0] * (x64 + 1.0)
    rest = lo[1:, None] + 0.5 * (ts[1:] - lo[1:])[:, None] * (x16[None, :] + 1.0)
    vals = cel(spectrum, np.concatenate([first, rest.ravel()]))
    later = 0.5 * (ts[1:] - lo[1:]) * (vals[x64.size :].reshape(rest.shape) @ w16)
    pieces = np.concatenate([[0.5 * ts[0] * (vals[: x64.size] @ w64)], later])
    return np.cumsum(pieces)[inv].reshape(T.shape)
