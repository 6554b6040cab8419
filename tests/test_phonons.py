"""Tests for pde.phonons: alpha^2F moments, T_c, transport and phonon C_ph."""

import math

import mpmath as mp
import numpy as np
import pytest
from scipy import constants

from ephkin.pde.errors import InputError
from ephkin.pde.phonons import (
    allen_dynes_tc,
    bloch_gruneisen_rate,
    bose_integral,
    cph_debye,
    cph_einstein,
    mcmillan_tc,
    moments,
    resistivity,
    transport_rate,
)

mp.mp.dps = 30
ZETA5_120 = 124.43133061720439  # 5! zeta(5)


def einstein(lam, Omega):
    """Seed 000 Eq. (3): weight = lambda Omega / 2."""
    return np.array([Omega]), np.array([lam * Omega / 2])


def two_modes():
    """Modes 1 and 3 with lambda_k = 0.6 and 0.4."""
    omega = np.array([1.0, 3.0])
    return omega, np.array([0.6, 0.4]) * omega / 2


def debye_like(lambda_tr, theta, n=200):
    """Gauss-Legendre discretisation of c w^4 on [0, theta], c = 2 lambda_tr / theta^4."""
    x, w = np.polynomial.legendre.leggauss(n)
    omega = 0.5 * theta * (x + 1)
    return omega, 2 * lambda_tr / theta**4 * omega**4 * 0.5 * theta * w


# ---------------------------------------------------------------- moments

def test_moments_two_modes_by_hand():
    m = moments(*two_modes())
    assert m["lambda"] == pytest.approx(1.0, rel=1e-15)
    assert m["g2"] == pytest.approx(0.6 * 1 + 0.4 * 9, rel=1e-15)           # sum lambda_k w_k^2
    assert m["omega_log"] == pytest.approx(3.0**0.4, rel=1e-15)            # exp(0.4 ln 3)
    assert m["omega1_mean"] == pytest.approx(0.6 * 1 + 0.4 * 3, rel=1e-15)
    assert m["omega2_mean"] == pytest.approx(4.2, rel=1e-15)
    assert m["omega2_bar"] == pytest.approx(math.sqrt(4.2), rel=1e-15)


def test_moments_einstein():
    m = moments(*einstein(2.0, 0.7))
    assert m["lambda"] == pytest.approx(2.0)
    for key in ("omega_log", "omega1_mean", "omega2_bar"):
        assert m[key] == pytest.approx(0.7, rel=1e-15)


# ---------------------------------------------------------------- T_c

def test_allen_dynes_einstein_hand_value():
    # lambda = 1, mu* = 0.1, Omega = 1: f2 = 1, L1 = 2.46*1.38 = 3.3948,
    # f1 = (1 + 3.3948^-1.5)^(1/3) = 1.05068, exp(-2.08/0.838)/1.2 = 0.0696396.
    omega, weight = einstein(1.0, 1.0)
    assert mcmillan_tc(omega, weight, 0.1) == pytest.approx(0.0696396078321290, rel=1e-13)
    assert allen_dynes_tc(omega, weight, 0.1) == pytest.approx(0.0731689171440672, rel=1e-13)
    # T_c scales with the frequency unit
    assert allen_dynes_tc(*einstein(1.0, 25.0), 0.1) == pytest.approx(25 * 0.0731689171440672, rel=1e-13)


def test_allen_dynes_strong_coupling_limit():
    # mu* = 0, lambda -> inf: T_c -> (w2/1.2) e^-1.04 sqrt(lambda/2.46) = 0.18780 sqrt(lambda <w^2>);
    # the corrections are O(1/lambda) (from exp(-1.04/lambda)).  Two modes so that f2 != 1.
    omega, weight = two_modes()
    assert math.exp(-1.04) / 1.2 / math.sqrt(2.46) == pytest.approx(0.187795395283439, rel=1e-14)
    for lam in (1e4, 1e6, 1e8):
        w = weight * lam
        m = moments(omega, w)
        limit = m["omega2_bar"] / 1.2 * math.exp(-1.04) * math.sqrt(m["lambda"] / 2.46)
        assert abs(allen_dynes_tc(omega, w, mu_star=0.0) / limit - 1) < 2.0 / lam


def test_tc_zero_without_net_attraction():
    # lambda = 0.1 <= mu*(1 + 0.62 lambda) = 0.1062
    omega, weight = einstein(0.1, 1.0)
    assert allen_dynes_tc(omega, weight, 0.1) == 0.0
    assert mcmillan_tc(omega, weight, 0.1) == 0.0
    assert allen_dynes_tc(omega, weight, 0.0) > 0.0


def test_tc_bad_input():
    omega, weight = einstein(1.0, 1.0)
    with pytest.raises(InputError, match="mu_star"):
        allen_dynes_tc(omega, weight, mu_star=-0.1)
    with pytest.raises(InputError, match="omega/weight"):
        allen_dynes_tc([], [])
    with pytest.raises(InputError, match="omega"):
        moments([-1.0], [0.5])
    with pytest.raises(InputError, match="weight"):
        moments([1.0, 2.0], [0.0, 0.0])


# ---------------------------------------------------------------- Bose integrals

@pytest.mark.parametrize("n", [4, 5])
@pytest.mark.parametrize("u", [1e-3, 0.5, 1.99, 2.01, 7.0, 40.0, 300.0])
def test_bose_integral_vs_mpmath(n, u):
    def f(x):
        return x**n * mp.exp(x) / mp.expm1(x) ** 2

    ref = mp.quad(f, [0, min(u, 2), u]) if u > 2 else mp.quad(f, [0, u])
    assert bose_integral(n, u) == pytest.approx(float(ref), rel=1e-12)


def test_bose_integral_complete_and_vectorised():
    u = np.array([[0.1, 3.0], [50.0, np.inf]])
    J = bose_integral(5, u)
    assert J.shape == (2, 2)
    assert J[1, 1] == pytest.approx(ZETA5_120, rel=1e-14)
    assert bose_integral(4, np.inf) == pytest.approx(4 * math.pi**4 / 15, rel=1e-14)
    assert float(mp.quad(lambda x: x**5 * mp.exp(x) / mp.expm1(x) ** 2, [0, mp.inf])) == pytest.approx(
        ZETA5_120, rel=1e-14)


# ---------------------------------------------------------------- transport

def test_transport_rate_matches_bloch_gruneisen():
    T = np.array([0.02, 0.1, 0.5, 2.0, 10.0])
    lam, theta = 0.8, 1.0
    got = transport_rate(*debye_like(lam, theta), T)
    want = bloch_gruneisen_rate(lam, theta, T)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_transport_rate_high_T_limit():
    # 1/tau = 2 pi lambda T [1 - <w^2>/(12 T^2) + O(T^-4)]
    omega, weight = two_modes()
    m = moments(omega, weight)
    T = np.array([50.0, 200.0])
    want = 2 * np.pi * m["lambda"] * T * (1 - m["omega2_mean"] / (12 * T**2))
    np.testing.assert_allclose(transport_rate(omega, weight, T), want, rtol=1e-7)


def test_bloch_gruneisen_limits():
    lam, theta = 0.5, 300.0
    T_low = theta / 200                             # J5(200) = J5(inf) to 1e-70
    assert bloch_gruneisen_rate(lam, theta, T_low) == pytest.approx(
        8 * np.pi * lam * ZETA5_120 * T_low**5 / theta**4, rel=1e-12)
    T_high = 100 * theta                            # next term ~ (theta/T)^4 = 1e-8
    assert bloch_gruneisen_rate(lam, theta, T_high) == pytest.approx(
        2 * np.pi * lam * T_high * (1 - theta**2 / (18 * T_high**2)), rel=1e-9)


def test_transport_bad_input():
    with pytest.raises(InputError, match="T must"):
        transport_rate([1.0], [0.5], [1.0, 0.0])
    with pytest.raises(InputError, match="theta"):
        bloch_gruneisen_rate(0.5, -1.0, 1.0)


def test_resistivity_against_drude():
    # Independent path: free electrons with n, m; rho = m / (n e^2 tau).
    n, m_e = 8.5e28, constants.m_e
    hbar_wp = constants.hbar * math.sqrt(n * constants.e**2 / (constants.epsilon_0 * m_e)) / constants.eV
    tau = 2.5e-14
    rho_si = m_e / (n * constants.e**2 * tau) * 1e8          # micro-ohm cm
    rate_meV = constants.hbar / tau / constants.eV * 1e3
    assert resistivity(rate_meV, hbar_wp, "meV") == pytest.approx(rho_si, rel=1e-12)
    assert resistivity(rate_meV * 1e-3, hbar_wp, "eV") == pytest.approx(rho_si, rel=1e-12)
    rate_K = constants.hbar / tau / constants.k
    assert resistivity(rate_K, hbar_wp, "K") == pytest.approx(rho_si, rel=1e-12)
    # hbar omega_p = 1 eV, hbar/tau = 1 meV: 1.519e12 / (8.854e-12 * 1.519e15^2) ohm m
    assert resistivity(1.0, 1.0, "meV") == pytest.approx(7.4339, rel=1e-4)
    with pytest.raises(InputError, match="energy_unit"):
        resistivity(1.0, 1.0, "THz")


# ---------------------------------------------------------------- heat capacity

def test_cph_einstein_vs_mpmath():
    T = np.array([0.01, 0.18, 1.0, 30.0])
    want = [float((1 / (2 * mp.mpf(t))) ** 2 / mp.sinh(1 / (2 * mp.mpf(t))) ** 2) for t in T]
    np.testing.assert_allclose(cph_einstein(1.0, T), want, rtol=1e-13)
    assert cph_einstein(1.0, 1e4) == pytest.approx(1.0, rel=1e-8)


def test_cph_debye_limits():
    assert cph_debye(1.0, 1e3) == pytest.approx(3.0, rel=1e-6)          # Dulong-Petit, 3 per ion
    T = np.array([1e-3, 1e-2])
    np.testing.assert_allclose(cph_debye(1.0, T), 12 * np.pi**4 / 5 * T**3, rtol=1e-12)  # seed 002


def test_cph_debye_seed000_value():
    # Seed 000 supplement: 3D Debye C_ph at T = 0.18 theta is 0.92 per ion (Kittel).
    assert cph_debye(1.0, 0.18) == pytest.approx(0.92, abs=5e-3)
    assert cph_debye(1.0, 0.18) == pytest.approx(0.9227608397568718, rel=1e-12)
