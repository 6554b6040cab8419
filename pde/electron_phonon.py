"""The electron-phonon collision integral on the folded grid, seed 000 Eq. (2) / (S35).

I_ep/pi = sum_k lambda_k omega_k [N0(omega_k)(f_+ + f_- - 2f) - f(f_+ - f_-) + f_+ - f],
f_+- = f(E +- omega_k), with time rescaled pi t -> t (so I_ep/pi is what drives
f), alpha^2F = sum_k lambda_k omega_k/2 delta(omega - omega_k), and the boundary
conditions (S28): f(0) = 1/2, f(-E) = 1 - f(E), f(E > Lambda) = 0.  Phonon
frequencies are grid multiples omega_k = r_k eps (``pde.grids.project_spectrum``).
"""

from __future__ import annotations

import numpy as np

from .linearized import bose

__all__ = ["extend_folded", "collision_ep"]


def extend_folded(f, pad):
    """f on indices -pad..L+pad of the full axis from f on 1..L (S28); index 0 <-> E = 0."""
    L = f.shape[0]
    out = np.zeros((L + 2 * pad + 1,) + f.shape[1:])
    k = np.arange(-pad, L + pad + 1)
    neg = (k < 0) & (-k <= L)
    out[neg] = 1.0 - f[-k[neg] - 1]
    out[k == 0] = 0.5
    pos = (k >= 1) & (k <= L)
    out[pos] = f[k[pos] - 1]
    return out  # k > L: 0 (cutoff); k < -L: 1 - 0 = 1 would be needed only if pad > L


def collision_ep(f, eps, r, lam_r, T0):
    """I_ep/pi at E_i = i eps, i = 1..L, for the distribution f (Eq. (2), rescaled time)."""
    f = np.asarray(f, dtype=float)
    L = f.shape[0]
    pad = int(np.max(r))
    fx = extend_folded(f, pad)
    if pad > L:
        k = np.arange(-pad, L + pad + 1)
        fx[k < -L] = 1.0
    base = pad  # position of index 1 is pad + 1
    out = np.zeros_like(f)
    for rk, lk in zip(r, lam_r):
        om = rk * eps
        n0 = bose(om, T0)
        fp = fx[base + 1 + rk : base + 1 + rk + L]
        fm = fx[base + 1 - rk : base + 1 - rk + L]
        out += lk * om * (n0 * (fp + fm - 2 * f) - f * (fp - fm) + fp - f)
    return out
