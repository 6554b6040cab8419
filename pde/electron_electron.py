"""Electron-electron collisions, seed 000 Eqs. (S22)-(S25).

I_ee(E) = -(1/pi) int d omega int dE' P(omega) R,  R = f_E f_{E'-w} (1 - f_{E-w})(1 - f_E')
                                                     - f_{E-w} f_E' (1 - f_E)(1 - f_{E'-w}),
with an even transition probability P(omega) (time rescaled pi t -> t).  On the
uniform grid E_n = n eps (n = -L..L), omega = m eps: a collision takes the pair
(a, b) = (n, n' - m) to (c, d) = (n - m, n') with a + b = c + d.

Linearising around f0 with delta f = -f0' phi = f0(1 - f0) phi/T gives
delta R = W (phi_a + phi_b - phi_c - phi_d)/T, W = f0_a f0_b (1 - f0_c)(1 - f0_d),
so M^ee (delta I_ee = -M^ee phi, Eq. (S25)) satisfies
<phi, M^ee phi> = eps^2/(4 pi T) sum P W (phi_a + phi_b - phi_c - phi_d)^2 >= 0:
symmetric positive semidefinite, with the conserved quantities (particle
number: phi = const, energy: phi = E) in its null space.  On the folded grid
(phi odd) the energy mode phi = E remains a null mode: I_ee conserves energy (S24).

The assembly costs O(L^2 m_max): a small-L reference operator, used for the
theorem of the main text (M = M^ep + a_ee M^ee).
"""

from __future__ import annotations

import math

import numpy as np

from .eliashberg import fermi
from .errors import InputError

__all__ = ["gaussian_p", "collision_ee", "m_ee_full", "m_ee_folded"]


def gaussian_p(width, amplitude=1.0):
    """P(omega) = amplitude exp(-omega^2 / (2 width^2)): even, as (S22) requires."""
    if not width > 0:
        raise InputError(f"p_ee_width must be > 0 (got {width}); give the width of P(omega)", "p_ee_width")
    return lambda w: amplitude * np.exp(-0.5 * (np.asarray(w) / width) ** 2)


def _p_weights(P, eps, cutoff_m):
    m = np.arange(-cutoff_m, cutoff_m + 1)
    p = P(m * eps)
    if np.any(np.abs(p - P(-m * eps)) > 1e-14 * np.max(np.abs(p))):
        raise InputError("P(omega) must be even in omega (seed 000 below Eq. (S23))", "p_ee")
    return m, p


def collision_ee(f, eps, P, m_max):
    """I_ee(E_n) of Eq. (S22) on the full grid n = -L..L.

    All four energies of a collision are kept inside the grid, so the discrete
    sum keeps the relabelling symmetries of (S23) exactly: particle number and
    energy (S24) are conserved to round-off and I_ee vanishes on any Fermi
    function sampled on the grid.
    """
    f = np.asarray(f, dtype=float)
    N = f.size
    ms, ps = _p_weights(P, eps, m_max)
    out = np.zeros(N)
    for m, p in zip(ms, ps):
        if p == 0.0 or m == 0 or abs(m) >= N:
            continue
        lo, hi = max(0, m), min(N, N + m)  # indices j with j and j - m both on the grid
        a = np.arange(lo, hi)
        fa, fc = f[a], f[a - m]  # f_E, f_{E-w}
        fd, fb = f[lo:hi], f[lo - m : hi - m]  # f_E', f_{E'-w}
        s1 = np.sum(fb * (1 - fd))
        s2 = np.sum(fd * (1 - fb))
        out[a] += -(eps * eps / math.pi) * p * (fa * (1 - fc) * s1 - fc * (1 - fa) * s2)
    return out


def m_ee_full(E, T, P, m_max):
    """M^ee on the full grid E (uniform, symmetric around 0), dense: (eps^2/(pi T)) sum_m P_m ...

    Row a: sum_{b} W_{ab}^m (phi_a + phi_b - phi_{a-m} - phi_{b+m}), W = f_a f_b (1-f_{a-m})(1-f_{b+m}).
    """
    E = np.asarray(E, dtype=float)
    N = E.size
    eps = E[1] - E[0]
    f = fermi(E, T)
    ms, ps = _p_weights(P, eps, m_max)
    M = np.zeros((N, N))
    idx = np.arange(N)
    for m, p in zip(ms, ps):
        if p == 0.0 or m == 0:
            continue
        a = idx[(idx - m >= 0) & (idx - m < N)]
        b = idx[(idx + m >= 0) & (idx + m < N)]
        W = (f[a] * (1 - f[a - m]))[:, None] * (f[b] * (1 - f[b + m]))[None, :] * p
        ws = W.sum(axis=1)
        M[a, a] += ws
        M[np.ix_(a, b)] += W
        M[a, a - m] -= ws
        M[np.ix_(a, b + m)] -= W
    return M * (eps * eps / (math.pi * T))


def m_ee_folded(grid, T, P, m_max=None):
    """M^ee on the folded grid E_i = i eps, i = 1..L (phi odd, phi(0) = 0), symmetric PSD."""
    L, eps = grid.L, grid.eps
    if m_max is None:
        m_max = L
    E = eps * np.arange(-L, L + 1)
    Mf = m_ee_full(E, T, P, min(m_max, 2 * L))
    pos = np.arange(L + 1, 2 * L + 1)  # n = 1..L
    neg = np.arange(L - 1, -1, -1)  # n = -1..-L
    return Mf[np.ix_(pos, pos)] - Mf[np.ix_(pos, neg)]
