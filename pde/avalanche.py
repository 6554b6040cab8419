"""Quantum avalanche of a DC-biased band, seed 003 (Chen & Han): the analytic theory.

A parabolic band p^2/2m + Delta, coupled to a wide-band fermion bath (dephasing
rate Gamma) and to an Einstein phonon omega0 (coupling g_ep), in a static field E.
Units of the seed: hbar = e = k_B = 1; E is the force eE (energy per length),
so E, Gamma, omega0, T and g_ep^2 / sqrt(omega0^3 / 2m) are energies.  The
seed's lattice (ta^2 = hbar^2 / 2m = 1) is m = 1/2.

* lambda(E) = m g^2 / (omega0 E) K0(x), x = 2 Gamma sqrt(2 m omega0) / E, Eq. (A6);
  the criterion lambda = 1 is Eq. (11), i.e. x K0(x) = 4 / beta, Eq. (B1), with
  beta of Eq. (13).  x K0(x) peaks at x0 ([x K0]' = K0 - x K1 = 0), so roots
  exist only for beta >= beta_c = 4 / (x0 K0(x0)), Eq. (14); then there are two,
  and the criterion holds between them: the avalanche field E_av is the lower
  one (the larger x), E_av_upper the other.  Eq. (12) is the large-beta E_av.
* Phonon dephasing at temperature T: -Im Sigma^R(Delta) = Gamma beta n_b / 4,
  Eq. (15); Gamma_eff = Gamma (1 + beta n_b / 4), Eq. (C3), replaces Gamma in
  Eq. (11); T* = omega0 / ln(1 + beta), Eq. (16), is where beta n_b = 1.
* lambda' of Eq. (A7) keeps the damping e^{-2 Gamma |s|} and the phase
  e^{i q E s|s| / 2m} that Eq. (A6) drops.  The q integral is a Gaussian with a
  pole: int du e^{i a u^2} / (u - z) = i pi sgn(Im z) w(sgn(Im z) z sqrt|a| e^{-i pi sgn(a)/4})
  (Faddeeva w).  With s = +-r (the s < 0 half is minus the conjugate of the s > 0 one),

      lambda' = m g^2 / (2 omega0 E) int_0^inf dr/r e^{-2 Gamma r} Re[e^{i(omega0 r - mu^2 r^3)} w(zeta(r))],
      zeta(r) = e^{i pi/4} kappa r^{-1/2} + e^{3i pi/4} mu r^{3/2},  kappa = Gamma sqrt(2m) / E,  mu = E / (2 sqrt(2m)).

  Dropping the damping and mu reduces this to Eq. (A6) (tests: against K0 with
  mpmath).  The chirp e^{-i mu^2 r^3} is removed by turning the contour past its
  stationary point r_c = sqrt(omega0/3) / mu onto the ray R0 + e^{-i alpha} rho,
  where the integrand decays like e^{-mu^2 rho^3}; zeta stays in the upper half
  plane, so |w| <= 1 throughout.  Doing q before s is the opposite order to
  the seed's; both equal the limit of the integral with a regulator e^{-eps q^2}
  (tests: the seed's order by brute force, to 1e-4).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from scipy.optimize import brentq
from scipy.special import k0, k0e, k1e, wofz

from .errors import InputError, require_nonnegative, require_positive

__all__ = ["beta", "critical_point", "critical_coupling", "lambda_a6", "lambda_a7",
           "avalanche_fields", "e_av_asymptotic", "bose", "im_sigma_edge", "gamma_eff",
           "t_star", "criterion"]


def _params(mass, g_ep, gamma, omega0):
    return (require_positive("mass", mass, "give the band mass m > 0 (the seed's lattice has m = 1/2)"),
            require_positive("g_ep", g_ep, "give the electron-phonon coupling g_ep > 0"),
            require_positive("gamma", gamma, "give the bath dephasing rate Gamma > 0"),
            require_positive("omega0", omega0, "give the phonon frequency omega0 > 0"))


def _fields(E):
    E = np.asarray(E, dtype=float)
    if E.size == 0 or not np.all(np.isfinite(E)) or np.any(E <= 0):
        raise InputError(f"E must be finite and > 0 (got {E.tolist()!r}); give positive field values", "E")
    return E


def beta(mass, g_ep, gamma, omega0):
    """Avalanche parameter beta = (g_ep^2 / Gamma) sqrt(2m / omega0^3), Eq. (13)."""
    m, g, G, w0 = _params(mass, g_ep, gamma, omega0)
    return g * g / G * math.sqrt(2.0 * m / w0**3)


@cache
def critical_point():
    """(x0, beta_c): maximum of x K0(x), [x K0]' = K0 - x K1 = 0, and beta_c = 4 / (x0 K0(x0)), Eq. (14)."""
    x0 = brentq(lambda x: k0e(x) - x * k1e(x), 0.1, 2.0, xtol=1e-16, rtol=4 * np.finfo(float).eps)
    return x0, 4.0 / (x0 * float(k0(x0)))


def critical_coupling(mass, gamma, omega0):
    """g_ep on the phase boundary beta = beta_c of Fig. 5(a): sqrt(beta_c Gamma) (omega0^3 / 2m)^{1/4}."""
    m, _, G, w0 = _params(mass, 1.0, gamma, omega0)
    return math.sqrt(critical_point()[1] * G) * (w0**3 / (2.0 * m)) ** 0.25


def lambda_a6(E, mass, g_ep, gamma, omega0):
    """lambda(E) = m g^2 / (omega0 E) K0(2 Gamma sqrt(2 m omega0) / E), Eq. (A6) (the RHS of Eq. (11), Fig. 4(c))."""
    m, g, G, w0 = _params(mass, g_ep, gamma, omega0)
    E = _fields(E)
    return m * g * g / (w0 * E) * k0(2.0 * G * np.sqrt(2.0 * m * w0) / E)


def _gauss_sum(f, edges, nodes, chunk=20000):
    """sum over panels [edges[k], edges[k+1]] of nodes-point Gauss-Legendre rules applied to f."""
    x, w = np.polynomial.legendre.leggauss(nodes)
    total = 0.0
    for i in range(0, len(edges) - 1, chunk):
        a, b = edges[i:i + chunk + 1][:-1, None], edges[i:i + chunk + 1][1:, None]
        total = total + np.sum(0.5 * (b - a) * w * f(0.5 * (b - a) * x + 0.5 * (b + a)))
    return total


def _q_integral(r, E, m, G):
    """J(r) = int dq e^{i r q^2/2m + i E r^2 q/2m} / (q E r + 2 i m Gamma), the q integral of Eq. (A7) at s = r > 0.

    Gaussian with a pole (module docstring): J = -i pi e^{-i mu^2 r^3} w(zeta(r)) / (E r); analytic in r off r = 0.
    """
    kappa, mu = G * math.sqrt(2.0 * m) / E, E / (2.0 * math.sqrt(2.0 * m))
    zeta = np.exp(0.25j * np.pi) * kappa / np.sqrt(r) + np.exp(0.75j * np.pi) * mu * r * np.sqrt(r)
    return -1j * np.pi * np.exp(-1j * mu * mu * r**3) * wofz(zeta) / (E * r)


def _lambda_a7_one(E, m, g, G, w0, nodes, alpha, r0_factor, decay):
    kappa, mu = G * math.sqrt(2.0 * m) / E, E / (2.0 * math.sqrt(2.0 * m))
    f = lambda r: np.exp((1j * w0 - 2.0 * G) * r) * _q_integral(r, E, m, G)  # noqa: E731
    r_c = math.sqrt(w0 / 3.0) / mu  # stationary point of omega0 r - mu^2 r^3
    r_damp = decay / (2.0 * G)  # e^{-2 Gamma r} below e^{-decay}
    rotate = r0_factor * r_c < r_damp
    R0 = r0_factor * r_c if rotate else r_damp
    # real axis, v = sqrt(r) (regular at r = 0); panels of phase pi, plus breakpoints at v ~ kappa
    n_pan = int(math.ceil((w0 * R0 + mu * mu * R0**3) / math.pi))
    t = math.pi * np.arange(1, n_pan)
    r = np.minimum(t / w0, np.cbrt(t) / mu**(2.0 / 3.0))  # upper bounds: Newton on the convex cubic
    for _ in range(60):
        r = r - (mu * mu * r**3 + w0 * r - t) / (3.0 * mu * mu * r * r + w0)
    v_kappa = kappa * 2.0 ** np.arange(-4, 5)
    edges = np.unique(np.concatenate(([0.0, math.sqrt(R0)], np.sqrt(r), v_kappa[v_kappa < math.sqrt(R0)])))
    total = _gauss_sum(lambda v: 2.0 * v * f(v * v), edges, nodes)
    if rotate:  # ray R0 + e^{-i alpha} rho; |f| ~ exp(-rho [(3 mu^2 R0^2 - omega0) sin(alpha) + 2 Gamma cos(alpha)])
        d = np.exp(-1j * alpha)
        rate = (3.0 * mu * mu * R0 * R0 - w0) * math.sin(alpha) + 2.0 * G * math.cos(alpha)
        freq = (3.0 * mu * mu * R0 * R0 + w0) * math.cos(alpha)
        rho_max = decay / rate
        edges = np.linspace(0.0, rho_max, int(math.ceil(rho_max * freq / math.pi)) + 2)
        total = total + _gauss_sum(lambda rho: d * f(R0 + d * rho), edges, nodes)
    return float(np.real(1j * m * g * g / (2.0 * np.pi * w0) * total))  # s < 0: minus the conjugate


def lambda_a7(E, mass, g_ep, gamma, omega0, nodes=16, alpha=math.pi / 6, r0_factor=2.0, decay=40.0):
    """lambda'(E) of Eq. (A7), evaluated as in the module docstring (Fig. 6).

    ``nodes``: Gauss-Legendre points per panel (panels of phase pi); the contour
    leaves the real axis at ``r0_factor`` times the stationary point along
    e^{-i alpha} (0 < alpha <= pi/6 keeps zeta in the upper half plane);
    ``decay``: the integrand is cut where its envelope is below e^{-decay}.
    The result does not depend on alpha or r0_factor (Cauchy); the tests use that.
    """
    m, g, G, w0 = _params(mass, g_ep, gamma, omega0)
    E = _fields(E)
    out = [_lambda_a7_one(e, m, g, G, w0, nodes, alpha, r0_factor, decay) for e in E.ravel()]
    return np.reshape(out, E.shape)


def _log_xk0_minus(x, target):
    """ln(x K0(x)) - ln(target), overflow-free for any x > 0."""
    return math.log(x) + math.log(float(k0e(x))) - x - math.log(target)


def bose(omega0, T):
    """n_b(omega0) = 1 / (e^{omega0/T} - 1); 0 at T = 0."""
    w0 = require_positive("omega0", omega0, "give the phonon frequency omega0 > 0")
    T = require_nonnegative("T", T, "give the bath temperature T >= 0")
    return 0.0 if T == 0.0 else 1.0 / math.expm1(w0 / T)


def im_sigma_edge(mass, g_ep, gamma, omega0, T):
    """-Im Sigma^R(Delta) = m g^2 n_b / (2 omega0 sqrt(2 m omega0)) = Gamma beta n_b / 4, Eq. (15)."""
    m, g, G, w0 = _params(mass, g_ep, gamma, omega0)
    return m * g * g * bose(w0, T) / (2.0 * w0 * math.sqrt(2.0 * m * w0))


def gamma_eff(mass, g_ep, gamma, omega0, T):
    """Gamma_eff = Gamma + |Im Sigma^R(Delta)| = Gamma (1 + beta n_b / 4), Eq. (C3)."""
    return float(gamma) + im_sigma_edge(mass, g_ep, gamma, omega0, T)


def t_star(mass, g_ep, gamma, omega0):
    """Activation temperature T* = omega0 / ln(1 + beta), Eq. (16) (beta n_b(omega0) = 1); infinite when
    beta underflows to 0 (no thermal activation at any T)."""
    b = math.log1p(beta(mass, g_ep, gamma, omega0))
    return float(omega0) / b if b > 0 else math.inf


def avalanche_fields(mass, g_ep, gamma, omega0, T=0.0):
    """(E_av, E_av_upper): the two roots in E of Eq. (11), Gamma -> Gamma_eff(T) of Eq. (C3).

    lambda(E) >= 1 exactly for E_av <= E <= E_av_upper; (None, None) when
    beta(Gamma_eff) < beta_c (no root).
    """
    m, g, G, w0 = _params(mass, g_ep, gamma, omega0)
    Ge = gamma_eff(m, g, G, w0, T)
    b = beta(m, g, Ge, w0)
    x0, b_c = critical_point()
    if b < b_c:
        return None, None
    target = 4.0 / b
    if not target > 0:
        raise InputError(f"beta = {b:g} overflows (gamma = {G:g} is too small for double precision); give "
                         "gamma > 1e-250", "gamma")
    gu = lambda u: _log_xk0_minus(math.exp(u), target)  # noqa: E731  (u = ln x: both roots to relative accuracy)
    u0 = math.log(x0)
    if gu(u0) <= 0.0:  # beta == beta_c to rounding: the double root x0
        x_small = x_large = x0
    else:
        tol = dict(xtol=1e-15, rtol=4 * np.finfo(float).eps)
        # x K0(x) > x for x < 0.2, so the small root lies below the target: bracket it from below
        lo = min(math.log(1e-300), math.log(target) - math.log(abs(math.log(target)) + 2.0) - 1.0)
        while gu(lo) > 0.0:
            lo -= 5.0
        x_small = math.exp(brentq(gu, lo, u0, **tol))
        hi = u0 + 1.0
        while gu(hi) > 0.0:
            hi += 1.0
        x_large = math.exp(brentq(gu, u0, hi, **tol))
    scale = 2.0 * Ge * math.sqrt(2.0 * m * w0)
    return scale / x_large, (scale / x_small if x_small > 0 else math.inf)


def e_av_asymptotic(mass, g_ep, gamma, omega0, T=0.0):
    """Large-beta E_av = 2 Gamma sqrt(2 m omega0) / ln(sqrt(pi/32) beta), Eq. (12) (None below beta_c)."""
    m, g, G, w0 = _params(mass, g_ep, gamma, omega0)
    Ge = gamma_eff(m, g, G, w0, T)
    b = beta(m, g, Ge, w0)
    if b < critical_point()[1]:
        return None
    return 2.0 * Ge * math.sqrt(2.0 * m * w0) / math.log(math.sqrt(math.pi / 32.0) * b)


def criterion(mass, g_ep, gamma, omega0, T=0.0):
    """The avalanche criterion, Eqs. (11)-(16), as one dict.

    Keys: beta (Eq. (13), bare Gamma), beta_c and x0 (Eq. (14)), E_av and
    E_av_upper (the roots of Eq. (11); at T > 0 with Gamma_eff of Eq. (C3)),
    E_av_asymptotic (Eq. (12), same Gamma), T_star (Eq. (16)); and ``reason``
    when there is no root (E_av, E_av_upper, E_av_asymptotic are then None).
    """
    m, g, G, w0 = _params(mass, g_ep, gamma, omega0)
    T = require_nonnegative("T", T, "give the bath temperature T >= 0")
    x0, b_c = critical_point()
    b = beta(m, g, G, w0)
    lo, hi = avalanche_fields(m, g, G, w0, T)
    out = {"beta": b, "beta_c": b_c, "x0": x0, "E_av": lo, "E_av_upper": hi,
           "E_av_asymptotic": e_av_asymptotic(m, g, G, w0, T), "T_star": t_star(m, g, G, w0)}
    if lo is None:
        b_eff = beta(m, g, gamma_eff(m, g, G, w0, T), w0)
        why = f"beta = {b:.6g}" if T == 0.0 else f"beta with Gamma_eff(T) (Eq. (C3)) = {b_eff:.6g}"
        out["reason"] = (f"no avalanche: {why} < beta_c = {b_c:.6g}, so lambda(E) = (beta/4) x K0(x) "
                         f"stays below 1 for every E and Eq. (11) has no root")
    return out
