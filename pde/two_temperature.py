"""The two-temperature equation, seed 000 Eq. (16): f = f0(T(t)) with fast e-e collisions.

C_el(T) dT/dt = 4 nu0 a_ep int d omega alpha^2F(omega) omega^2 [N0(omega, T0) - N0(omega, T)],

per nu0.  Eq. (16) is already in the seed's rescaled time (pi t -> t): I_ep of
Eq. (2) carries 2 pi, so Eq. (S6) gives 2 nu0 x 2 pi int ... / pi = 4 nu0 int ....
Check (tests): the relaxation rate at T0 equals the Rayleigh quotient
<E, M E>/<E, A E> of the linearised operators (the temperature mode), to 1e-6.
C_el is Eq. (S14) (``pde.eliashberg.cel``).  Where C_el(T) < 0 (Fig. 3) a
temperature slightly above T0 runs away from T0 instead of relaxing: the
seed's proof that C_el < 0 implies the kinetic instability.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from .eliashberg import cel, cel_ratio
from .errors import require_positive

__all__ = ["heating_power", "rate", "relaxation_rate", "evolve_temperature"]


def _bose(w, T):
    return 1.0 / np.expm1(w / T)


def heating_power(spectrum, T, T0):
    """4 int alpha^2F omega^2 [N0(T0) - N0(T)] d omega (per nu0, rescaled time), Eq. (16)."""
    om, w = spectrum.nodes()
    return 4.0 * float(np.sum(w * om**2 * (_bose(om, T0) - _bose(om, T))))


def rate(spectrum, T, T0, a_ep=1.0):
    """dT/dt of Eq. (16)."""
    return a_ep * heating_power(spectrum, T, T0) / float(cel(spectrum, np.array([T]))[0])


def relaxation_rate(spectrum, T0, a_ep=1.0):
    """gamma_T = -d(dT/dt)/dT at T0: > 0 relaxes, < 0 (C_el < 0) runs away."""
    om, w = spectrum.nodes()
    n = _bose(om, T0)
    dP = 4.0 * float(np.sum(w * om**3 * n * (n + 1.0))) / T0**2
    return a_ep * dP / float(cel(spectrum, np.array([T0]))[0])


def evolve_temperature(spectrum, T0, T_in, t_end, a_ep=1.0, rtol=1e-10, stop=1e-3):
    """Integrate Eq. (16) from T_in.

    Where C_el < 0 the temperature runs towards T_- or T_+, where C_el -> 0 and
    dT/dt diverges (finite time): the run stops (status 1) when |C_el/C_free|
    has fallen to ``stop`` on the side it started from.
    """
    T0 = require_positive("T0", T0)
    T_in = require_positive("T_in", T_in)
    side = np.sign(float(cel_ratio(spectrum, np.array([T_in]))[0]))
    crossing = lambda t, y: side * float(cel_ratio(spectrum, np.array([y[0]]))[0]) - stop  # noqa: E731
    crossing.terminal = True
    # LSODA: stiff once T has relaxed to T0 (an explicit method's steps stay ~1/rate, so its cost grew with
    # t_end: 32 s for t_end = 1e5); it switches to BDF there, 0.4 s for any t_end
    sol = solve_ivp(lambda t, y: [rate(spectrum, y[0], T0, a_ep)], (0.0, t_end), [T_in],
                    rtol=rtol, atol=1e-14, events=crossing, dense_output=True, method="LSODA")
    return sol
