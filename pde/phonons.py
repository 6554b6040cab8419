"""Tools on an Eliashberg function alpha^2F(omega): moments, T_c, transport, C_ph.

Sources: background seed 002 (alpha^2F, lambda, Bloch-Grueneisen transport,
Debye C_ph), P. B. Allen and R. C. Dynes, Phys. Rev. B 12, 905 (1975), and
seed 000 (Eq. (3) and ref. [S24] for the Einstein C_ph).

Spectrum convention (shared with the rest of ``pde``): a spectrum is two 1-D
arrays ``omega`` (node frequencies, > 0) and ``weight`` (>= 0) with
alpha^2F(w) = sum_k weight_k delta(w - omega_k), i.e. weight_k is the integral
of alpha^2F over node k; an Einstein mode of coupling lambda_k has
weight_k = lambda_k omega_k / 2 (seed 000, Eq. (3)).

Units: hbar = k_B = 1.  Frequencies, temperatures, T_c and scattering rates
hbar/tau all share whatever energy unit ``omega`` is given in; only
:func:`resistivity` converts to SI-derived units (micro-ohm cm).
"""

import math

import numpy as np
from scipy import constants

from .errors import InputError, require_nonnegative, require_positive

__all__ = [
    "moments",
    "allen_dynes_tc",
    "mcmillan_tc",
    "transport_rate",
    "bloch_gruneisen_rate",
    "resistivity",
    "cph_einstein",
    "cph_debye",
    "bose_integral",
]


def _spectrum(omega, weight):
    """Validate a spectrum; return float arrays (omega, weight)."""
    omega = np.asarray(omega, dtype=float)
    weight = np.asarray(weight, dtype=float)
    if omega.ndim != 1 or omega.shape != weight.shape or omega.size == 0:
        raise InputError(
            f"omega/weight must be non-empty 1-D arrays of equal length (got shapes "
            f"{omega.shape} and {weight.shape}); give one weight per node frequency", "spectrum")
    if not np.all(np.isfinite(omega)) or np.any(omega <= 0.0):
        raise InputError("omega must be finite and > 0 at every node; drop the omega <= 0 nodes", "spectrum")
    if not np.all(np.isfinite(weight)) or np.any(weight < 0.0):
        raise InputError("weight must be finite and >= 0 at every node; alpha^2F cannot be negative", "spectrum")
    if not np.any(weight > 0.0):
        raise InputError("weight is zero at every node (lambda = 0); give a spectrum with coupling", "spectrum")
    return omega, weight


def _first_bad(a, ok):
    """The first entry of array ``a`` where ``ok`` is False (for one-line messages)."""
    return a[~ok].flat[0] if a.size else "an empty array"


def _temperature(T):
    """Validate a temperature (scalar or array): finite and > 0."""
    T = np.asarray(T, dtype=float)
    ok = np.isfinite(T) & (T > 0.0)
    if T.size == 0 or not ok.all():
        raise InputError(f"T must be finite and > 0 (got {_first_bad(T, ok)}); give positive temperatures", "T")
    return T


def _x_over_sinh(x):
    """x / sinh(x) for x > 0, without overflow: 2x e^-x / (1 - e^-2x)."""
    return 2.0 * x * np.exp(-x) / -np.expm1(-2.0 * x)


# --------------------------------------------------------------------------
# Moments and T_c
# --------------------------------------------------------------------------

def moments(omega, weight):
    """Standard moments of alpha^2F (Allen & Dynes 1975; seed 002).

    Returns a dict (frequencies in the unit of ``omega``):
      ``lambda``      2 int alpha^2F / w dw                   (dimensionless)
      ``g2``          2 int w alpha^2F dw = lambda <w^2>      (energy^2)
      ``omega_log``   exp[(2/lambda) int ln(w) alpha^2F / w dw]
      ``omega1_mean`` <w>   = (2/lambda) int alpha^2F dw
      ``omega2_mean`` <w^2> = (2/lambda) int w alpha^2F dw     (energy^2)
      ``omega2_bar``  sqrt(<w^2>)
    """
    omega, weight = _spectrum(omega, weight)
    lam = 2.0 * np.sum(weight / omega)
    g2 = 2.0 * np.sum(weight * omega)
    w2 = g2 / lam
    return {
        "lambda": lam,
        "g2": g2,
        "omega_log": math.exp(2.0 / lam * np.sum(np.log(omega) * weight / omega)),
        "omega1_mean": 2.0 / lam * np.sum(weight),
        "omega2_mean": w2,
        "omega2_bar": math.sqrt(w2),
    }


def allen_dynes_tc(omega, weight, mu_star=0.10, strong_coupling_correction=True):
    """Allen-Dynes T_c, Phys. Rev. B 12, 905 (1975), Eq. (34).

    T_c = f1 f2 (omega_log / 1.2) exp[-1.04 (1 + lambda) / (lambda - mu*(1 + 0.62 lambda))]
    with f1 = [1 + (lambda/L1)^(3/2)]^(1/3), L1 = 2.46 (1 + 3.8 mu*),
         f2 = 1 + (w2/omega_log - 1) lambda^2 / (lambda^2 + L2^2),
         L2 = 1.82 (1 + 6.3 mu*) (w2/omega_log),  w2 = sqrt(<w^2>).
    ``strong_coupling_correction=False`` sets f1 = f2 = 1 (see :func:`mcmillan_tc`).

    Returns T_c in the energy unit of ``omega`` (k_B = 1).  Convention: returns
    exactly 0.0 when lambda <= mu*(1 + 0.62 lambda), where the formula predicts
    no superconductivity.  For mu* = 0 and lambda -> infinity it tends to
    (w2 / 1.2) e^-1.04 sqrt(lambda / 2.46) = 0.1878 sqrt(lambda <w^2>).
    """
    mu = require_nonnegative("mu_star", mu_star,
                             "give the Coulomb pseudopotential mu* >= 0 (typically 0.1-0.15)")
    m = moments(omega, weight)
    lam, wlog, w2 = m["lambda"], m["omega_log"], m["omega2_bar"]
    denom = lam - mu * (1.0 + 0.62 * lam)
    if denom <= 0.0:
        return 0.0
    tc = wlog / 1.2 * math.exp(-1.04 * (1.0 + lam) / denom)
    if strong_coupling_correction:
        lam1 = 2.46 * (1.0 + 3.8 * mu)
        lam2 = 1.82 * (1.0 + 6.3 * mu) * (w2 / wlog)
        f1 = (1.0 + (lam / lam1) ** 1.5) ** (1.0 / 3.0)
        f2 = 1.0 + (w2 / wlog - 1.0) * lam**2 / (lam**2 + lam2**2)
        tc *= f1 * f2
    return tc


def mcmillan_tc(omega, weight, mu_star=0.10):
    """McMillan T_c in the Allen-Dynes form (omega_log/1.2 prefactor, f1 = f2 = 1).

    Same units and zero convention as :func:`allen_dynes_tc`.
    """
    return allen_dynes_tc(omega, weight, mu_star, strong_coupling_correction=False)


# --------------------------------------------------------------------------
# Bose integrals J_n(u) = int_0^u x^n e^x / (e^x - 1)^2 dx
# --------------------------------------------------------------------------

_GL_X, _GL_W = np.polynomial.legendre.leggauss(32)
_U_SPLIT = 2.0      # Gauss-Legendre below, complete integral minus tail above
_TAIL_TERMS = 24    # tail series terms ~ exp(-m u) <= e^-48 at u = 2


def bose_integral(n, u):
    """J_n(u) = int_0^u x^n e^x/(e^x-1)^2 dx = int_0^u x^n / ((e^x-1)(1-e^-x)) dx.

    Vectorised over u >= 0; integer n >= 2; relative accuracy ~1e-14.
    J_5 is the Bloch-Grueneisen integral, J_4 the Debye heat-capacity integral
    (seed 002).  J_n(inf) = n! zeta(n).  For u <= 2: 32-point Gauss-Legendre
    on [0, u] (poles at +-2 pi i are far away); for u > 2:
    J_n(inf) - n! sum_{m>=1} m^-n Q(n+1, m u), Q the regularised upper
    incomplete gamma function (the tail of the expansion in e^{-m x}).
    """
    from scipy.special import gammaincc, zeta  # here, not at import: 40 ms of every command's start-up

    if int(n) != n or n < 2:
        raise InputError(f"n must be an integer >= 2 (got {n!r}); J_n diverges at x = 0 otherwise", "n")
    n = int(n)
    u = np.asarray(u, dtype=float)
    ok = u >= 0.0
    if not ok.all():
        raise InputError(f"u must be >= 0 (got {_first_bad(u, ok)}); give u = theta/T >= 0", "u")
    small = np.minimum(u, _U_SPLIT)[..., None]
    x = 0.5 * small * (_GL_X + 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        integrand = x**n / (np.expm1(x) * -np.expm1(-x))
        quad = 0.5 * small[..., 0] * np.sum(np.where(x > 0.0, integrand, 0.0) * _GL_W, axis=-1)
    m = np.arange(1, _TAIL_TERMS + 1)
    tail = np.sum(m ** (-float(n)) * gammaincc(n + 1, m * u[..., None]), axis=-1)
    complete = math.factorial(n) * (zeta(n) - tail)
    return np.where(u <= _U_SPLIT, quad, complete)


# --------------------------------------------------------------------------
# Transport
# --------------------------------------------------------------------------

def transport_rate(omega_tr, weight_tr, T):
    """Electron-phonon transport rate hbar/tau_tr(T) from alpha^2F_tr (Allen's formula).

    1/tau_tr = 4 pi T sum_k (w_k / omega_k) [x_k / sinh x_k]^2,  x_k = omega_k / (2T),
    i.e. 4 pi T int dw alpha^2F_tr(w)/w (w/2T)^2 / sinh^2(w/2T) (seed 002).
    High T: 2 pi lambda_tr T [1 - <w^2>_tr / (12 T^2) + ...].
    ``T`` may be an array; the result has its shape, in the unit of ``omega_tr``.
    """
    omega, weight = _spectrum(omega_tr, weight_tr)
    T = _temperature(T)
    x = omega / (2.0 * T[..., None])
    return 4.0 * np.pi * T * np.sum(weight / omega * _x_over_sinh(x) ** 2, axis=-1)


def bloch_gruneisen_rate(lambda_tr, theta, T):
    """Bloch-Grueneisen rate hbar/tau for alpha^2F_tr(w) = c w^4 on [0, theta] (seed 002).

    Normalising 2 int alpha^2F_tr / w dw = lambda_tr gives c = 2 lambda_tr / theta^4,
    and Allen's formula (:func:`transport_rate`) becomes
        1/tau = 4 pi c T^5 J5(theta/T) = 8 pi lambda_tr T (T/theta)^4 J5(theta/T).
    Limits: T << theta: 8 pi lambda_tr 5! zeta(5) T^5 / theta^4 (5! zeta(5) = 124.43...);
            T >> theta: 2 pi lambda_tr T [1 - theta^2 / (18 T^2)].
    ``T`` may be an array; result in the unit of ``theta``.
    """
    lam = require_nonnegative("lambda_tr", lambda_tr, "give the transport coupling lambda_tr >= 0")
    theta = require_positive("theta", theta, "give the Debye/Bloch-Grueneisen temperature theta > 0")
    T = _temperature(T)
    return 8.0 * np.pi * lam * T * (T / theta) ** 4 * bose_integral(5, theta / T)


_ENERGY_UNIT_J = {"eV": constants.eV, "meV": 1e-3 * constants.eV, "K": constants.k}


def resistivity(rate, hbar_omega_p_eV, energy_unit):
    """Drude resistivity rho = 1 / (eps0 omega_p^2 tau) in micro-ohm cm.

    ``rate`` is hbar/tau (scalar or array) in ``energy_unit`` ('meV', 'eV' or
    'K', the latter meaning k_B * rate); ``hbar_omega_p_eV`` is the (Drude)
    plasma energy in eV.  Example: hbar omega_p = 1 eV, hbar/tau = 1 meV gives
    rho = 7.434 micro-ohm cm.
    """
    if energy_unit not in _ENERGY_UNIT_J:
        raise InputError(f"energy_unit must be one of 'meV', 'eV', 'K' (got {energy_unit!r}); "
                         "give the unit the rate is expressed in", "energy_unit")
    wp_eV = require_positive("hbar_omega_p_eV", hbar_omega_p_eV, "give the plasma energy in eV")
    rate = np.asarray(rate, dtype=float)
    ok = np.isfinite(rate) & (rate >= 0.0)
    if not ok.all():
        raise InputError(f"rate must be finite and >= 0 (got {_first_bad(rate, ok)}); "
                         f"give hbar/tau in {energy_unit}", "rate")
    inv_tau = rate * _ENERGY_UNIT_J[energy_unit] / constants.hbar          # 1/s
    omega_p = wp_eV * constants.eV / constants.hbar                        # rad/s
    rho_ohm_m = inv_tau / (constants.epsilon_0 * omega_p**2)
    return rho_ohm_m * 1e8                                                 # 1 ohm m = 1e8 uohm cm


# --------------------------------------------------------------------------
# Phonon heat capacity
# --------------------------------------------------------------------------

def cph_einstein(omega_E, T):
    """Heat capacity of one Einstein mode, (w/2T)^2 / sinh^2(w/2T) (seed 000 [S24]).

    In units of k_B per mode (multiply by 3 per ion for a 3D crystal); -> 1 for
    T >> omega_E.  ``omega_E`` and ``T`` broadcast; same energy unit.
    """
    omega_E = np.asarray(omega_E, dtype=float)
    ok = np.isfinite(omega_E) & (omega_E > 0.0)
    if not ok.all():
        raise InputError(f"omega_E must be finite and > 0 (got {_first_bad(omega_E, ok)}); "
                         "give the Einstein frequency", "omega_E")
    return _x_over_sinh(omega_E / (2.0 * _temperature(T))) ** 2


def cph_debye(theta_D, T):
    """3D Debye heat capacity per ion: 9 (T/theta)^3 J4(theta/T), in units of k_B.

    Dulong-Petit 3 for T >> theta; (12 pi^4 / 5)(T/theta)^3 for T << theta (seed 002).
    ``T`` may be an array; same energy unit as ``theta_D``.
    """
    theta = require_positive("theta_D", theta_D, "give the Debye temperature theta_D > 0")
    T = _temperature(T)
    return 9.0 * (T / theta) ** 3 * bose_integral(4, theta / T)
