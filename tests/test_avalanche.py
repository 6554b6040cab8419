"""Quantum avalanche, seed 003: Eqs. (11)-(16), (A6), (A7), (B1)-(B4), (C3) against independent references."""

import math

import mpmath as mp
import numpy as np
import pytest

from ephkin.pde import avalanche as av
from ephkin.pde.errors import InputError

FIG6 = dict(mass=0.5, g_ep=0.10, gamma=0.002, omega0=0.3)  # Fig. 6; also the CLI acceptance example


def test_x0_and_beta_c_against_mpmath():
    # Eq. (14): [x K0(x)]' = K0 - x K1 = 0 at x0; beta_c = 4 / (x0 K0(x0)); 30-digit mpmath root as reference
    x0, b_c = av.critical_point()
    with mp.workdps(30):
        x0_ref = mp.findroot(lambda x: mp.besselk(0, x) - x * mp.besselk(1, x), 0.6)
        b_c_ref = 4 / (x0_ref * mp.besselk(0, x0_ref))
    assert x0 == pytest.approx(float(x0_ref), rel=1e-14)
    assert b_c == pytest.approx(float(b_c_ref), rel=1e-14)
    assert round(x0, 6) == 0.595047 and round(b_c, 3) == 8.574  # the seed's printed digits


def test_lambda_a6_middle_line_by_quadrature():
    # Eq. (A6): m g^2/(4 omega0 E) int dq/|q| exp(-(2 m Gamma/E)(q^2/2m + omega0)/|q|) = m g^2/(omega0 E) K0(x)
    m, g, G, w0 = FIG6.values()
    for E in (0.0007, 0.004, 0.03):
        c = 2 * m * G / E
        integral = 2 * mp.quad(lambda q, c=c: mp.exp(-c * (q * q / (2 * m) + w0) / q) / q, [0, 0.1, 1, 10, mp.inf])
        ref = m * g * g / (4 * w0 * E) * integral
        assert av.lambda_a6(E, **FIG6) == pytest.approx(float(ref), rel=1e-10)


def test_acceptance_example():
    out = av.criterion(**FIG6)
    assert set(out) == {"beta", "beta_c", "x0", "E_av", "E_av_upper", "E_av_asymptotic", "T_star"}
    m, g, G, w0 = FIG6.values()
    assert out["beta"] == pytest.approx(g * g / G * math.sqrt(2 * m / w0**3), rel=1e-15)  # Eq. (13)
    assert out["beta"] == pytest.approx(30.42903, rel=1e-6)
    assert out["E_av"] == pytest.approx(8.071125e-4, rel=1e-6)
    assert out["E_av_upper"] == pytest.approx(5.596783e-2, rel=1e-6)
    assert out["E_av_asymptotic"] == pytest.approx(9.716156e-4, rel=1e-6)
    assert out["T_star"] == pytest.approx(w0 / math.log(1 + out["beta"]), rel=1e-15)  # Eq. (16)
    for E in (out["E_av"], out["E_av_upper"]):  # Eq. (11) at the roots, with mpmath's K0
        lam = m * g * g / (w0 * E) * mp.besselk(0, 2 * G * mp.sqrt(2 * m * w0) / E)
        assert float(lam) == pytest.approx(1, abs=1e-12)


@pytest.mark.parametrize("g_ep", [0.06, 0.1, 0.3, 1.0])
def test_roots_bracket_the_avalanche_region(g_ep):
    # lambda(E) >= 1 exactly between E_av and E_av_upper (Fig. 4(c)): a dense scan of Eq. (11)
    p = dict(FIG6, g_ep=g_ep)
    lo, hi = av.avalanche_fields(**p)
    E = np.geomspace(lo / 50, hi * 50, 4001)
    inside = av.lambda_a6(E, **p) >= 1
    assert np.all(inside == ((E >= lo) & (E <= hi)))
    assert av.lambda_a6(lo, **p) == pytest.approx(1, abs=1e-12) and av.lambda_a6(hi, **p) == pytest.approx(1, abs=1e-12)


def test_no_root_below_beta_c_and_merging_roots_at_beta_c():
    m, _, G, w0 = FIG6.values()
    x0, b_c = av.critical_point()
    g_c = av.critical_coupling(m, G, w0)  # the Fig. 5(a) boundary
    assert av.beta(m, g_c, G, w0) == pytest.approx(b_c, rel=1e-14)
    below = av.criterion(m, g_c * 0.999, G, w0)
    assert below["E_av"] is None and below["E_av_upper"] is None and below["E_av_asymptotic"] is None
    assert "beta_c" in below["reason"]
    E = np.geomspace(1e-6, 10, 2001)  # lambda stays below 1 everywhere
    assert av.lambda_a6(E, m, g_c * 0.999, G, w0).max() < 1
    # just above beta_c both roots close in on E(x0) = 2 Gamma sqrt(2 m omega0) / x0 (the double root)
    E_x0 = 2 * G * math.sqrt(2 * m * w0) / x0
    lo, hi = av.avalanche_fields(m, g_c * (1 + 1e-8), G, w0)
    assert lo < E_x0 < hi and hi / lo - 1 < 1e-3


@pytest.mark.parametrize("b", [1e4, 1e8, 1e16, 1e64])
def test_eq12_against_exact_root_in_the_asymptotic_regime(b):
    # (B2) x = L + ln(x)/2, L = ln(sqrt(pi/32) beta): its fixed point differs from the exact root of
    # x K0(x) = 4/beta only by K0's 1/(8x) correction; Eq. (12) keeps x ~ L, off by ln(L)/(2L) -> 0
    m, G, w0 = 0.5, 0.002, 0.3
    g = math.sqrt(b * G / math.sqrt(2 * m / w0**3))
    lo, _ = av.avalanche_fields(m, g, G, w0)
    x = 2 * G * math.sqrt(2 * m * w0) / lo
    L = math.log(math.sqrt(math.pi / 32) * b)
    xb = L
    for _ in range(100):
        xb = L + 0.5 * math.log(xb)
    assert abs(x - xb) < 1.2 / (8 * x)
    ratio = av.e_av_asymptotic(m, g, G, w0) / lo
    assert ratio - 1 == pytest.approx(0.5 * math.log(x) / L, abs=0.2 / L)


def test_finite_temperature_eqs_15_16_c3():
    m, g, G, w0 = FIG6.values()
    b = av.beta(m, g, G, w0)
    Ts = av.t_star(m, g, G, w0)
    nb = 1 / math.expm1(w0 / Ts)
    assert b * nb == pytest.approx(1, rel=1e-13)  # (C4): beta n_b = 1 at T*
    assert av.im_sigma_edge(m, g, G, w0, Ts) == pytest.approx(G / 4, rel=1e-13)  # Eq. (15) at T*: Gamma/4
    assert av.gamma_eff(m, g, G, w0, Ts) == pytest.approx(1.25 * G, rel=1e-13)  # Eq. (C3)
    assert av.gamma_eff(m, g, G, w0, 0.0) == G
    # Fig. 5(b): E_av(T) rises with T and equals the T = 0 root with Gamma -> Gamma_eff
    T = np.array([0.0, 0.5, 1.0, 1.5]) * Ts
    E = [av.avalanche_fields(m, g, G, w0, t)[0] for t in T]
    assert np.all(np.diff(E) > 0)
    Ge = av.gamma_eff(m, g, G, w0, T[2])
    assert E[2] == pytest.approx(av.avalanche_fields(m, g, Ge, w0)[0], rel=1e-14)
    hot = av.criterion(m, g, G, w0, T=3 * Ts)  # beta(Gamma_eff) < beta_c: the avalanche is gone
    assert hot["E_av"] is None and "Gamma_eff" in hot["reason"] and hot["beta"] == b


@pytest.mark.parametrize("kw, name", [(dict(mass=0), "mass"), (dict(g_ep=-0.1), "g_ep"),
                                      (dict(gamma=0.0), "gamma"), (dict(omega0=-1), "omega0"),
                                      (dict(gamma=float("nan")), "gamma"), (dict(T=-0.1), "T")])
def test_bad_input(kw, name):
    # the physics layer names the parameter (and carries it in .param), never a command-line flag
    with pytest.raises(InputError, match=name) as e:
        av.criterion(**dict(FIG6, **kw))
    assert e.value.param == name and "--" not in str(e.value)
    with pytest.raises(InputError, match="E must be") as e:
        av.lambda_a7([0.001, 0.0], **FIG6)
    assert e.value.param == "E"


def _regularised_q_integral(r, E, m, G, eps):
    q = np.linspace(-1, 1, 2_000_001) * math.sqrt(40 / eps)
    f = np.exp(-eps * q * q + 1j * r * q * q / (2 * m) + 1j * E * r * r * q / (2 * m)) / (q * E * r + 2j * m * G)
    return np.sum(f) * (q[1] - q[0])


@pytest.mark.parametrize("r", [3.0, 40.0])
def test_a7_q_integral_closed_form(r):
    # the q integral of Eq. (A7) at s = r, with a Gaussian regulator e^{-eps q^2}, Richardson-extrapolated to eps = 0
    m, E, G = 0.5, 0.02, 0.02
    a, b = _regularised_q_integral(r, E, m, G, 1e-3), _regularised_q_integral(r, E, m, G, 5e-4)
    assert av._q_integral(r, E, m, G) == pytest.approx(2 * b - a, rel=2e-5)


def test_a7_reduces_to_a6_without_damping_and_phase():
    # mu -> 0 and no e^{-2 Gamma |s|} (the module docstring's integral, r = v^2):
    # int_0^inf dv/v Re[e^{i omega0 v^2} w(kappa e^{i pi/4}/v)] = K0(2 kappa sqrt(omega0)), i.e. Eq. (A6);
    # mpmath quad on [0, 4] and quadosc beyond
    kappa, w0 = 0.7, 0.3
    with mp.workdps(20):
        w = lambda z: mp.exp(-z * z) * mp.erfc(-1j * z)  # noqa: E731
        near = mp.quad(lambda v: mp.re(mp.exp(1j * w0 * v * v) * w(kappa * mp.exp(0.25j * mp.pi) / v)) / v,
                       [0, 0.5, 1, 2, 4])
        far = mp.quadosc(lambda r: mp.re(mp.exp(1j * w0 * r) * w(kappa * mp.exp(0.25j * mp.pi) / mp.sqrt(r))) / r,
                         [16, mp.inf], omega=w0) / 2
        assert float(near + far) == pytest.approx(float(mp.besselk(0, 2 * kappa * mp.sqrt(w0))), rel=1e-10)


@pytest.mark.parametrize("E", [0.0005, 0.002, 0.01, 0.05])
def test_a7_converged_and_contour_independent(E):
    # more nodes, another ray angle, another departure point: Cauchy says the same number
    ref = av.lambda_a7(E, **FIG6)
    for kw in (dict(nodes=28), dict(alpha=math.pi / 12), dict(r0_factor=3.5), dict(decay=60.0)):
        assert av.lambda_a7(E, **FIG6, **kw) == pytest.approx(ref, rel=1e-12)


def test_a7_rotation_against_real_axis():
    # no rotation: the chirp e^{-i mu^2 r^3} integrated on the real axis until e^{-2 Gamma r} < e^{-30} (~1e5 phase)
    E = 0.002
    straight = av.lambda_a7(E, **FIG6, r0_factor=1e9, decay=30.0)
    assert straight == pytest.approx(av.lambda_a7(E, **FIG6), rel=1e-12)


def test_fig6_a7_close_to_a6_where_the_avalanche_is_decided():
    # Fig. 6: the approximation (A6) of (A7) holds around the avalanche window; it fails at small E (Gamma ~ E)
    out = av.criterion(**FIG6)
    E = np.geomspace(out["E_av"], 0.02, 9)
    rel = av.lambda_a7(E, **FIG6) / av.lambda_a6(E, **FIG6) - 1
    assert np.all((rel > 0) & (rel < 0.06))
    assert av.lambda_a7(0.0003, **FIG6) > 3 * av.lambda_a6(0.0003, **FIG6)


def _lambda_s_first(E, m, g, G, w0, q_max=10.0, s_decay=22.0, n=10):
    """Eq. (A7) by brute force in the seed's order: s (Gauss panels of phase pi) inside, q outside."""
    x, wx = np.polynomial.legendre.leggauss(n)

    def gl(edges):
        a, b = edges[:-1, None], edges[1:, None]
        return (0.5 * (b - a) * x + 0.5 * (b + a)).ravel(), (0.5 * (b - a) * wx).ravel()

    S = s_decay / (2 * G)

    def s_integral(q):
        om, c = q * q / (2 * m) + w0, abs(q) * E / (2 * m)
        k = np.arange(0, int((om * S + c * S * S) / np.pi) + 2)
        s = (-om + np.sqrt(om * om + 4 * c * np.pi * k)) / (2 * c)  # om s + c s^2 = pi k
        s = np.unique(np.concatenate((s, [S], 2 * m * G / (abs(q) * E) * 2.0 ** np.arange(-6, 3))))
        s = s[s <= S]
        s, w = gl(np.concatenate((-s[::-1], s[1:])))
        return np.sum(w * np.exp(-2 * G * np.abs(s) + 1j * om * s + 1j * q * E * s * np.abs(s) / (2 * m))
                      / (q * E * s + 2j * m * G))

    qe = np.unique(np.concatenate((np.linspace(0, q_max, int(12 * q_max) + 1),
                                   (0.5 * 2.0 ** -np.arange(0, 14)[:, None] * np.array([1, 1.25, 1.5, 1.75])).ravel())))
    q, wq = gl(np.concatenate((-qe[::-1], qe[1:])))
    total = sum(wi * s_integral(qi) for qi, wi in zip(q, wq))
    return 1j * m * g * g / (2 * w0) * total / (2 * np.pi)


@pytest.mark.slow
def test_a7_against_brute_force_double_integral():
    # the seed's order of integration (s inside, q outside, no closed forms) at a cheap point (Gamma = E = 0.1)
    p = dict(mass=0.5, g_ep=0.1, gamma=0.1, omega0=0.3)
    brute = _lambda_s_first(0.1, *p.values())
    assert abs(brute.imag) < 1e-12
    assert brute.real == pytest.approx(av.lambda_a7(0.1, **p), rel=1e-4)
