"""Kinetic-instability criteria of seed 000.

* The Z0 criterion, Eq. (10)/(S21): the metal is unstable when
  min_E Z0^-1(E) < 0; lambda_c(T0) is the coupling at which the minimum
  touches zero (Table S1 column 3).
* The thermodynamic criterion C_el < 0, Eqs. (S11)-(S14): sufficient for the
  instability (main text around Eq. (16)), so lambda_c <= lambda_cel at every T0.
* The strong-coupling limit, Eq. (S38): Z0 < 0 for 0.40 < E < 1.16 at
  T0 = T_c = 0.1827 g, and a negative region only for T0 <= 1.63 T_c.

Minima and roots are found robustly: a global scan on a grid fine compared
with T and the phonon frequencies, then bounded Brent refinement of the best
local minima, and Brent root-finding (brentq) inside sign changes.
"""

from __future__ import annotations

import math

import numpy as np

# scipy.optimize is imported inside the functions that use it: 50 ms of the start-up of commands that do not
from .eliashberg import cel_ratio, zinv, zinv_strong
from .errors import InputError, require_positive

__all__ = [
    "negative_intervals",
    "zinv_deviation_bound",
    "zinv_minimum",
    "zinv_analysis",
    "lambda_c_zinv",
    "lambda_c_cel",
    "strong_coupling_analysis",
    "strong_coupling_T0_max",
    "cel_analysis",
]

_MAX_GRID = 40000


def negative_intervals(fun, a, b, n, xtol=1e-12):
    """Intervals of [a, b] where the vectorised ``fun`` < 0, ends refined by brentq.

    ``n`` grid points locate the sign changes; an interval open at ``a`` or
    ``b`` starts or ends there.  Returns a list of (lo, hi) tuples.
    """
    from scipy.optimize import brentq
    x = np.linspace(a, b, n)
    v = fun(x)
    neg = v < 0
    out, start = [], (a if neg[0] else None)
    scalar = lambda t: float(fun(np.array([t]))[0])  # noqa: E731
    for i in range(n - 1):
        if neg[i] == neg[i + 1]:
            continue
        r = brentq(scalar, x[i], x[i + 1], xtol=xtol, rtol=4 * np.finfo(float).eps)
        if neg[i + 1]:
            start = r
        else:
            out.append((start, r))
            start = None
    if start is not None:
        out.append((start, b))
    return out


def _energy_window(spectrum, T):
    """Scan window [0, E_max] and grid size resolving T and the phonon scale.

    Z0^-1 (Eq. (5)) is a sum of psi1(1/2 + i(E -+ omega)/2piT) terms, smooth on the
    scale of T; the spectrum's own structure is on the scale of its lowest delta
    peak or, for a continuous alpha^2F, its omega_log (``pde.grids.phonon_scale``)
    -- never the lower end of the support, which is 0 for Debye and most tabulated
    spectra.
    """
    T = require_positive("T0", T, "give the temperature T0 > 0")
    from .grids import phonon_scale

    E_max = 2.0 * spectrum.omega_max + 40.0 * T
    step = min(T, phonon_scale(spectrum)) / 8.0
    return E_max, int(min(_MAX_GRID, max(400, math.ceil(E_max / step))))


def zinv_minimum(spectrum, T, n_refine=3):
    """Global minimum of the even function Z0^-1(E) over E >= 0: returns (E_min, Z0^-1(E_min))."""
    E_max, n = _energy_window(spectrum, T)
    E = np.linspace(0.0, E_max, n)
    z = zinv(spectrum, E, T)
    # local minima of the sampled curve (including the end E = 0, by evenness)
    zz = np.concatenate([[z[1]], z, [np.inf]])
    idx = np.nonzero((z <= zz[:-2]) & (z <= zz[2:]))[0]
    idx = idx[np.argsort(z[idx])][: max(n_refine, 1)]
    best = (float(E[idx[0]]), float(z[idx[0]]))
    if n_refine == 0:
        return best
    lo, hi = E[np.maximum(idx - 1, 0)], E[np.minimum(idx + 1, n - 1)]
    e, v = _zoom_minima(lambda x: zinv(spectrum, x, T), lo, hi, 1e-3 * (E[1] - E[0]))
    i = int(np.argmin(v))
    if v[i] < best[1]:
        best = (float(e[i]), float(v[i]))
    if best[0] < 1e-9 * E_max:
        best = (0.0, float(zinv(spectrum, np.array([0.0]), T)[0]))
    return best


_ZOOM_POINTS = 9  # samples per bracket and step: each step shrinks the brackets 4-fold


def _zoom_minima(fun, lo, hi, width):
    """Minima of the vectorised ``fun`` inside each bracket [lo_i, hi_i], every bracket in one call a step.

    Each step samples every bracket at 9 points and keeps the two intervals around the smallest sample;
    at bracket ``width`` a parabola through the last three samples gives the minimum.  Its value is exact
    to O(width^3) times the third derivative, far below rounding; the location of a smooth minimum is
    only defined to ~sqrt(eps) anyway.  This replaces one scalar minimiser per bracket: a vectorised
    kernel sum costs about the same for one energy as for thirty.
    """
    t = np.linspace(0.0, 1.0, _ZOOM_POINTS)
    rows = np.arange(lo.size)
    while True:
        grid = lo[:, None] + (hi - lo)[:, None] * t[None, :]
        val = fun(grid.ravel()).reshape(grid.shape)
        j = np.clip(np.argmin(val, axis=1), 1, _ZOOM_POINTS - 2)
        if np.max(hi - lo) <= width * (_ZOOM_POINTS - 1) / 2:
            break
        lo, hi = grid[rows, j - 1], grid[rows, j + 1]
    x0, x1 = grid[rows, j - 1], grid[rows, j]
    f0, f1, f2 = val[rows, j - 1], val[rows, j], val[rows, j + 1]
    den = f0 - 2.0 * f1 + f2
    shift = np.clip(np.where(den > 0, 0.5 * (f0 - f2) / np.where(den > 0, den, 1.0), 0.0), -1.0, 1.0)
    xm = x1 + shift * (x1 - x0)
    fm = fun(xm)
    # the parabola's vertex only where it improves on the best sample
    better = fm < f1
    return np.where(better, xm, x1), np.where(better, fm, f1)


def zinv_analysis(spectrum, T):
    """Z0^-1 on E >= 0: global minimum, zeros, intervals where Z0^-1 < 0 (Eq. (10))."""
    E_min, zmin = zinv_minimum(spectrum, T)
    E_max, n = _energy_window(spectrum, T)
    intervals = negative_intervals(lambda e: zinv(spectrum, e, T), 0.0, E_max, n) if zmin < 0 else []
    main = next(([lo, hi] for lo, hi in intervals if lo <= E_min <= hi), None)
    return {
        "E_min": E_min,
        "zinv_min": zmin,
        "unstable": zmin < 0,
        "zeros": [r for iv in intervals for r in iv if r not in (0.0, E_max)],
        "negative_intervals": [list(iv) for iv in intervals],
        "negative_interval": main,
    }


#: max_y |Im psi1(1/2 + iy)| (at y = 0.304092) and max_y |d/dy Im psi1(1/2 + iy)| = |psi2(1/2)| = 14 zeta(3)
#: (at y = 0), by mpmath (tests/test_instability.py checks both).
IM_TRIGAMMA_MAX = 2.8293576664402
IM_TRIGAMMA_SLOPE_MAX = 14.0 * 1.2020569031595942


def zinv_deviation_bound(spectrum, T):
    """An upper bound on max_E |Z0^-1(E) - 1|, Eq. (5), from two moments of alpha^2F (docs/theory.md §11.1).

    A mode adds (2 pi T)^-1 w_k [h(y + x_k) - h(y - x_k)] to 1 - Z0^-1, h(y) = Im psi1(1/2 + iy), x_k =
    omega_k / 2 pi T; its size is at most w_k min(2 max|h|, 2 x_k max|h'|) / (2 pi T).  Summed: at most
    min(2 max|h| int alpha^2F, 2 max|h'| int alpha^2F omega / 2 pi T) / (2 pi T).  Where the bound is
    < 1, Z0^-1 > 0 at every E: stable without computing Z0^-1.  It grows with lambda in both unit
    systems (int alpha^2F ~ sqrt(lambda) or lambda; int alpha^2F omega = g^2 / 2 fixed or ~ lambda).
    """
    om, w = spectrum.nodes()  # the moments' nodes, cached: no thermal panels built for a bound
    two_pi_t = 2.0 * math.pi * T
    w = np.abs(w)
    size = min(2.0 * IM_TRIGAMMA_MAX * np.sum(w), 2.0 * IM_TRIGAMMA_SLOPE_MAX * np.sum(w * om) / two_pi_t)
    return float(size) / two_pi_t


def _first_crossing(fun, lo, hi_max, factor=1.25, xtol=1e-10, surely_positive=None):
    """Smallest x in [lo, hi_max] where fun changes sign from > 0 to <= 0 (geometric scan + brentq).

    ``surely_positive(x)``, a cheap test that fun(x') > 0 for every x' <= x, skips the scan's first points
    without evaluating fun; the scan's points, and so the bracket and the root, are those of the full scan.
    """
    from scipy.optimize import brentq
    a = lo
    if surely_positive is not None:
        while a * factor < hi_max and surely_positive(a * factor):
            a *= factor
    fa = fun(a)
    if fa <= 0:
        return None, "unstable already at the smallest coupling scanned"
    while a < hi_max:
        b = min(a * factor, hi_max)
        fb = fun(b)
        if fb <= 0:
            return brentq(fun, a, b, xtol=xtol, rtol=1e-13), None
        a, fa = b, fb
    return None, f"no sign change up to lambda = {hi_max:g}"


def lambda_c_zinv(shape, T0, units="g", lam_max=1e4, lam_min=1e-2, xtol=1e-10, refine_min=True, factor=1.25):
    """Critical coupling of the Z0 criterion, min_E Z0^-1 = 0 (Eq. (10)/(S21); Table S1 col. 3).

    ``shape`` is any spectrum; it is rescaled to each trial lambda with
    :meth:`Spectrum.with_lambda` in ``units`` ("g": g = 1 and frequencies
    depend on lambda, docs/theory.md §0; "plain": fixed frequencies, T0 in the
    spectrum's unit).  Returns a dict with ``lambda_c`` (None if there is no
    instability up to ``lam_max``, with ``reason``) and ``E_min`` at lambda_c.
    ``refine_min=False`` takes each minimum on the scan grid only (a quick
    estimate, about 1e-4 relative, used to start the linear analysis); the
    scan in lambda goes up from ``lam_min`` by ``factor``.
    """
    T0 = require_positive("T0", T0, "give the phonon (bath) temperature T0 > 0")
    lam_max = require_positive("lam_max", lam_max, "give the largest coupling to search, lam_max > 0")
    lam_min = require_positive("lam_min", lam_min, "give the smallest coupling to search, lam_min > 0")
    if lam_max <= lam_min:
        raise InputError(f"lam_max = {lam_max:g} must exceed the start of the scan, {lam_min:g}; raise lam_max",
                         "lam_max")
    n_ref = 3 if refine_min else 0
    fun = lambda lam: zinv_minimum(shape.with_lambda(lam, units), T0, n_ref)[1]  # noqa: E731
    # couplings whose Z0^-1 cannot reach 0 (zinv_deviation_bound < 1) are skipped unscanned: the first scan
    # points, at small lambda in g units, stretch the spectrum and are the costliest
    surely = lambda lam: zinv_deviation_bound(shape.with_lambda(lam, units), T0) < 1.0  # noqa: E731
    lam_c, reason = _first_crossing(fun, lam_min, lam_max, factor=factor, xtol=xtol, surely_positive=surely)
    out = {"lambda_c": lam_c, "E_min": None, "units": units, "T0": T0}
    if lam_c is None:
        out["reason"] = reason
        return out
    spec = shape.with_lambda(lam_c, units)
    out["E_min"], out["zinv_min"] = zinv_minimum(spec, T0, n_ref)
    out["omega_log"] = spec.omega_log
    out["omega_max"] = spec.omega_max
    return out


def lambda_c_cel(shape, T0, units="g", lam_max=1e4, lam_min=1e-2):
    """Coupling at which C_el(T0) turns negative (Eq. (S14)); None if it never does up to lam_max.

    The seed's theorem (C_el < 0 implies instability) gives lambda_c <= lambda_cel.
    """
    T0 = require_positive("T0", T0, "give the temperature T0 > 0")
    lam_max = require_positive("lam_max", lam_max, "give the largest coupling to search, lam_max > 0")
    fun = lambda lam: float(cel_ratio(shape.with_lambda(lam, units), np.array([T0]))[0])  # noqa: E731
    lam, _ = _first_crossing(fun, lam_min, lam_max)
    return lam


def strong_coupling_analysis(T0, g=1.0):
    """Eq. (S38) at T0: minimum, zeros and the interval where Z0^-1 < 0 (None if there is none)."""
    from scipy.optimize import minimize_scalar
    T0 = require_positive("T0", T0, "give the temperature T0 > 0 (units of g)")
    f = lambda e: zinv_strong(e, T0, g)  # noqa: E731
    E_max = 4.0 * g + 40.0 * T0
    n = int(min(_MAX_GRID, max(2000, E_max / (T0 / 16.0))))
    E = np.linspace(0.0, E_max, n)
    z = f(E)
    i = int(np.argmin(z))
    r = minimize_scalar(lambda e: float(f(e)), bounds=(E[max(i - 1, 0)], E[min(i + 1, n - 1)]),
                        method="bounded", options={"xatol": 1e-12})
    intervals = negative_intervals(f, 0.0, E_max, n) if r.fun < 0 else []
    return {
        "E_min": float(r.x),
        "zinv_min": float(r.fun),
        "unstable": bool(r.fun < 0),
        "negative_intervals": [list(iv) for iv in intervals],
        "negative_interval": list(intervals[0]) if intervals else None,
        "zeros": [x for iv in intervals for x in iv],
    }


def strong_coupling_T0_max(g=1.0):
    """Highest T0 with a region Z0^-1 < 0 in the strong-coupling limit (seed: 1.63 T_c)."""
    from scipy.optimize import brentq
    fun = lambda T: strong_coupling_analysis(T, g)["zinv_min"]  # noqa: E731
    return brentq(fun, 0.2 * g, 0.5 * g, xtol=1e-12)


def cel_analysis(spectrum, T_lo, T_hi, n=2000):
    """Where C_el < 0 for this spectrum (fixed frequencies): T_minus, T_plus and lambda_min.

    C_el/C_free = 1 - lambda G(T) with G = int g(omega/2piT) 2alpha^2F/(lambda omega)
    (Eq. (S14)); C_el < 0 somewhere iff lambda > lambda_min = 1/max_T G(T).
    Temperatures are scanned log-uniformly in [T_lo, T_hi].
    """
    from scipy.optimize import minimize_scalar
    if not 0 < T_lo < T_hi:
        raise InputError(f"temperature range must satisfy 0 < T_lo < T_hi (got {T_lo}, {T_hi})", "T_range")
    lam = spectrum.lam
    logf = lambda lt: cel_ratio(spectrum, np.exp(lt))  # noqa: E731
    iv = negative_intervals(logf, math.log(T_lo), math.log(T_hi), n)
    G = lambda lt: (1.0 - float(logf(np.array([lt]))[0])) / lam  # noqa: E731
    lt = np.linspace(math.log(T_lo), math.log(T_hi), n)
    Gs = (1.0 - logf(lt)) / lam
    i = int(np.argmax(Gs))
    r = minimize_scalar(lambda t: -G(t), bounds=(lt[max(i - 1, 0)], lt[min(i + 1, n - 1)]),
                        method="bounded", options={"xatol": 1e-12})
    return {
        "negative_intervals": [[math.exp(a), math.exp(b)] for a, b in iv],
        "T_minus": math.exp(iv[0][0]) if iv else None,
        "T_plus": math.exp(iv[0][1]) if iv else None,
        "lambda_min": 1.0 / (-r.fun) if r.fun < 0 else None,
        "T_at_lambda_min": math.exp(r.x),
    }
