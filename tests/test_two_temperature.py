"""Two-temperature equation, seed 000 Eq. (16): consistency with the linear operators, Fig. 3 runaway."""

import numpy as np
import pytest

from ephkin.pde.spectra import make_spectrum, parse_spectrum
from ephkin.pde.two_temperature import evolve_temperature, relaxation_rate
from ephkin.solvers.stability import make_problem


@pytest.mark.parametrize("spec, lam, T0", [("modes:40-60", 1.0, 0.2), ("einstein", 1.5, 0.3)])
def test_relaxation_rate_is_temperature_mode_rayleigh_quotient(spec, lam, T0):
    # electrons thermalised at T(t): the rate of Eq. (16) at T0 equals <E, M E>/<E, A E> built from
    # Eqs. (S16)-(S21) on the grid (independent code: the FD-checked M and the FFT kernel of A)
    p = make_problem(parse_spectrum(spec), lam, T0)
    E = p.E
    rq = float(E @ (p.m_sparse() @ E)) / float(E @ p.a_matvec(E))
    assert relaxation_rate(p.proj, T0) == pytest.approx(rq, rel=1e-5)


def test_runaway_where_cel_negative():
    # Einstein lambda = 4.5: C_el < 0 for 0.390 < T/Omega < 0.666 (Fig. 3); starting just above T0 = 0.5
    # the temperature runs up to T_+ instead of relaxing; at T0 = 1.0 (C_el > 0) it relaxes to T0
    s = make_spectrum("einstein", 4.5, "plain")
    assert relaxation_rate(s, 0.5) < 0 < relaxation_rate(s, 1.0)
    up = evolve_temperature(s, 0.5, 0.505, 500.0)
    assert up.status == 1 and up.y[0, -1] == pytest.approx(0.6660, abs=1e-3)
    down = evolve_temperature(s, 0.5, 0.495, 500.0)
    assert down.status == 1 and down.y[0, -1] == pytest.approx(0.3899, abs=1e-3)
    relax = evolve_temperature(s, 1.0, 1.01, 500.0)
    assert relax.status == 0 and abs(relax.y[0, -1] - 1.0) < 1e-6
    assert np.all(np.diff(relax.y[0]) <= 1e-9)  # monotone relaxation (up to the integrator's noise)
