"""Sigma, Z0^-1, strong coupling, C_el against mpmath, closed forms and the seed's numbers."""

import math

import mpmath as mp
import numpy as np
import pytest
from scipy import integrate

from ephkin.pde import eliashberg as eq
from ephkin.pde.spectra import make_spectrum

mp.mp.dps = 30


def _zinv_mp(s, E, T):
    """Eq. (5) term by term with mpmath's polygamma."""
    acc = mp.mpf(0)
    for om, w in zip(*s.nodes()):
        zp = mp.mpf(0.5) + 1j * mp.mpf(E + om) / (2 * mp.pi * T)
        zm = mp.mpf(0.5) + 1j * mp.mpf(E - om) / (2 * mp.pi * T)
        acc += w * mp.im(mp.psi(1, zp) - mp.psi(1, zm))
    return float(1 - acc / (2 * mp.pi * T))


def _sigma_mp(s, E, T):
    acc = mp.mpf(0)
    for om, w in zip(*s.nodes()):
        zp = mp.mpf(0.5) + 1j * mp.mpf(E + om) / (2 * mp.pi * T)
        zm = mp.mpf(0.5) + 1j * mp.mpf(E - om) / (2 * mp.pi * T)
        acc += w * mp.re(mp.digamma(zp) - mp.digamma(zm))
    return float(-acc)


@pytest.mark.parametrize("spec, lam, T", [("modes:40-60", 1.1333, 0.18), ("einstein", 2.169, 0.2),
                                          ("peaks:0.3:0.4,1.1:0.9", None, 0.05)])
def test_zinv_and_sigma_vs_mpmath(spec, lam, T):
    s = make_spectrum(spec, lam, "g")
    E = np.array([0.0, 0.013, 0.41, 0.93, 1.3, 2.7, 15.0])
    z = eq.zinv(s, E, T)
    sg = eq.sigma(s, E, T)
    for e, zi, si in zip(E, z, sg):
        assert zi == pytest.approx(_zinv_mp(s, e, T), rel=1e-12, abs=1e-13)
        assert si == pytest.approx(_sigma_mp(s, e, T), rel=1e-12, abs=1e-13)


def test_zinv_is_one_minus_sigma_prime():
    # Eq. (5) = 1 - d Sigma/dE: two independent kernels (digamma vs trigamma)
    s = make_spectrum("modes:40-60", 1.5, "g")
    E = np.linspace(-3, 3, 61)
    h = 1e-4
    d = (eq.sigma(s, E + h, 0.2) - eq.sigma(s, E - h, 0.2)) / (2 * h)
    np.testing.assert_allclose(eq.zinv(s, E, 0.2), 1 - d, atol=1e-7)


def test_weak_coupling_low_T_limits():
    # Sigma ~ -lambda E (sign of Eq. (4), docs/theory.md §2.1), Z0^-1(0) -> 1 + lambda; Z0^-1 -> 1 at large E
    s = make_spectrum("einstein", 0.3, "plain")
    T = 1e-3
    assert eq.zinv(s, 0.0, T) == pytest.approx(1.3, rel=1e-6)
    assert eq.sigma(s, 1e-3, T) / 1e-3 == pytest.approx(-0.3, rel=1e-5)
    assert eq.zinv(s, 200.0, T) == pytest.approx(1.0, abs=1e-4)
    E = np.linspace(-2, 2, 41)
    np.testing.assert_allclose(eq.zinv(s, E, 0.1), eq.zinv(s, -E, 0.1), rtol=1e-14)  # even
    np.testing.assert_allclose(eq.sigma(s, E, 0.1), -eq.sigma(s, -E, 0.1), atol=1e-14)  # odd


def test_strong_coupling_limit_vs_mpmath_and_large_lambda():
    T = 0.1827
    for E in (0.0, 0.4, 0.77, 1.16, 3.0):
        ref = 1 - float(mp.re(mp.psi(2, 0.5 + 1j * mp.mpf(E) / (2 * mp.pi * T)))) / (4 * math.pi**2 * T * T)
        assert eq.zinv_strong(E, T) == pytest.approx(ref, rel=1e-13, abs=1e-14)
    # Eq. (5) at lambda -> infinity (g = 1, frequencies -> 0) approaches Eq. (S38) as 1/lambda
    E = np.linspace(0, 2, 21)
    d = [np.max(np.abs(eq.zinv(make_spectrum("modes:40-60", lam, "g"), E, T) - eq.zinv_strong(E, T)))
         for lam in (1e3, 1e4)]
    assert d[1] < 1e-2 and d[0] / d[1] == pytest.approx(10, rel=0.05)


def test_cel_limits_and_lee_rainer_value():
    s = make_spectrum("einstein", 4.5, "plain")
    # docs/theory.md (T9): Lee-Rainer exact <phi, A phi>/(pi^2 T^2/6) = 1 - lambda g(Omega/2piT) = -0.216 at T = 0.5
    assert round(float(eq.cel_ratio(s, 0.5)), 3) == -0.216
    assert float(eq.cel_ratio(s, 1e-4)) == pytest.approx(1 + 4.5, rel=1e-6)  # mass enhancement
    assert float(eq.cel_ratio(s, 1e3)) == pytest.approx(1.0, abs=1e-5)  # free electrons


def _fermi_prime(E, T):
    return -0.25 / T / np.cosh(0.5 * E / T) ** 2


def test_cel_vs_prange_kadanoff_double_integral():
    """Eq. (S14) (Lee-Rainer) against the Prange-Kadanoff real-axis form, Eq. (S5), evaluated
    directly: C_el = 2pi^2 T/3 + (2/T) sum_k w_k PV int du P(u) u^2/(u + omega_k),
    P(u) = int dE f0'(E) f0'(E - u)."""
    T, lam, Om = 0.5, 4.5, 1.0
    s = make_spectrum("einstein", lam, "plain")
    E = np.linspace(-40 * T, 40 * T, 40001)

    def P(u):
        return integrate.simpson(_fermi_prime(E, T) * _fermi_prime(E - u, T), x=E)

    # PV int_{-inf}^{inf} P(u) u^2/(u + Om) du, P even: = int_0^inf P(u) u^2 2 Om/(Om^2 - u^2) du
    g = lambda u: P(u) * u * u * 2 * Om / (Om + u)  # noqa: E731
    pv = integrate.quad(g, 0, 30 * T, weight="cauchy", wvar=Om, limit=200)[0]  # int g/(u - Om)
    c_pk = 2 * math.pi**2 * T / 3 + (2 / T) * (lam * Om / 2) * (-pv)
    assert float(eq.cel(s, T)) == pytest.approx(c_pk, rel=1e-6)


def test_electronic_energy_quadrature():
    s = make_spectrum("einstein", 4.5, "plain")
    T = np.array([0.2, 0.5, 0.9])
    h = 1e-5
    dE = (eq.electronic_energy(s, T + h) - eq.electronic_energy(s, T - h)) / (2 * h)
    np.testing.assert_allclose(dE, eq.cel(s, T), rtol=1e-8)
    t = 1e-3  # low T: epsilon = (pi^2/3)(1 + lambda) T^2
    assert float(eq.electronic_energy(s, t)) == pytest.approx(math.pi**2 / 3 * 5.5 * t * t, rel=1e-5)


def test_bad_temperature():
    from ephkin.pde.errors import InputError

    s = make_spectrum("einstein", 1.0)
    with pytest.raises(InputError, match="T0"):
        eq.zinv(s, 0.0, -0.1)
    with pytest.raises(InputError):
        eq.cel_ratio(s, [0.1, 0.0])


def test_cel_ratio_of_many_temperatures_down_to_zero_in_bounded_memory():
    """electronic_energy integrates C_el from T = 0 (64 Gauss nodes per T): the low temperatures need the finest
    nodes (20 000 panels for Debye), which a temperatures x nodes matrix made 31 GiB for ``ephkin cel --spectrum
    debye``.  Blocks by temperature, each with the nodes of its lowest T, give the same values."""
    import tracemalloc

    from ephkin.pde.eliashberg import cel_ratio, electronic_energy
    from ephkin.pde.spectra import parse_spectrum

    s = parse_spectrum("debye")
    T = np.linspace(0.01, 2.0, 400)
    tracemalloc.start()
    e = electronic_energy(s, T)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 200 * 2**20 and np.all(np.isfinite(e)) and np.all(np.diff(e) > 0)
    # one temperature alone (its own nodes) and within a scan agree
    Ts = np.array([0.003, 0.05, 0.4, 1.7])
    assert np.allclose(cel_ratio(s, Ts), [cel_ratio(s, np.array([t]))[0] for t in Ts], rtol=0, atol=1e-12)
