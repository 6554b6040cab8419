"""The strong-coupling limit of the kinetic equation, seed 000 Eqs. (8), (9):

Z0^-1(E) df/dt = T0 f'' - 2 f f' + f'     (g = 1, rescaled time),

with Z0^-1 of the strong-coupling limit, Eq. (S38).  With u = 2f - 1 and
y = E - Sigma[f0] this is Burgers' equation with the energy-dependent viscosity
T0 Z0^-1 (Eq. (9)); where Z0^-1 < 0 (0.39 < E < 1.16 at T0 = T_c) the viscosity is
negative and deviations grow (Eq. (11)).  f0(E, T0) is an exact steady state:
T0 f0'' = -(1 - 2 f0) f0'.  Discretised on the folded grid E_i = i eps with
f(0) = 1/2, f(-E) = 1 - f(E) and f(Lambda + eps) = 0, second-order central
differences; the Jacobian is tridiagonal (sparse).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .eliashberg import fermi, zinv_strong
from .errors import InputError, require_positive

__all__ = ["BurgersModel"]


class BurgersModel:
    """Residual G(fdot, f) = Z0^-1 fdot - (T0 f'' - 2 f f' + f') of Eq. (8) and its sparse Jacobians."""

    def __init__(self, T0, eps, cutoff):
        self.T0 = require_positive("T0", T0, "give the temperature T0 > 0 (units of g)")
        if not 0 < eps <= T0 / 4:
            raise InputError(f"grid step {eps:g} does not resolve T0 = {T0:g} (need 0 < step <= T0/4)", "grid_step")
        if cutoff < 25 * T0:
            raise InputError(f"cutoff {cutoff:g} is too small for the tail of f0' (need >= 25 T0)", "cutoff")
        self.eps = eps
        self.L = int(round(cutoff / eps))
        self.E = eps * np.arange(1, self.L + 1)
        self.zinv = zinv_strong(self.E, T0)
        self.f_eq = fermi(self.E, T0)

    def initial(self, T_in):
        if not T_in > 0:
            raise InputError(f"T_in must be > 0 (got {T_in}); give the initial electron temperature", "T_in")
        return fermi(self.E, T_in)

    def _ext(self, f):
        # f(0) = 1/2 on the left, f = 0 beyond the cutoff
        return np.concatenate([[0.5], f, [0.0]])

    def rhs(self, f):
        """T0 f'' - 2 f f' + f' on the grid (central differences)."""
        x, h = self._ext(np.asarray(f, dtype=float)), self.eps
        d1 = (x[2:] - x[:-2]) / (2 * h)
        d2 = (x[2:] - 2 * x[1:-1] + x[:-2]) / (h * h)
        return self.T0 * d2 - 2 * x[1:-1] * d1 + d1

    def rhs_jacobian(self, f):
        """d rhs/d f (tridiagonal)."""
        x, h, T0 = self._ext(np.asarray(f, dtype=float)), self.eps, self.T0
        d1 = (x[2:] - x[:-2]) / (2 * h)
        fi = x[1:-1]
        lower = T0 / h**2 - (1 - 2 * fi) / (2 * h)  # coefficient of f_{i-1}
        upper = T0 / h**2 + (1 - 2 * fi) / (2 * h)  # coefficient of f_{i+1}
        diag = -2 * T0 / h**2 - 2 * d1
        return sp.diags([lower[1:], diag, upper[:-1]], [-1, 0, 1], format="csr")

    def residual(self, fdot, f):
        return self.zinv * np.asarray(fdot) - self.rhs(f)

    def deviation(self, f):
        return np.asarray(f) - self.f_eq
