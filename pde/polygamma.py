"""Complex polygamma functions psi, psi1, psi2 and fast real kernels on Re z = 1/2.

SciPy has no polygamma for complex arguments (docs/theory.md §6), yet the equilibrium Eliashberg
functions of seed 000 need them:
Sigma, Eq. (S13), is built from Re psi(1/2 + iy); Z0^-1, Eq. (5), from
Im psi1(1/2 + iy); its strong-coupling limit, Eq. (S38), from Re psi2(1/2 + iy);
and the Lee-Rainer function g(x) of the electronic specific heat, Eq. (S12),
from psi1(ix) and psi2(ix).

* :func:`digamma`, :func:`trigamma`, :func:`tetragamma` -- any complex z.
  Upward recurrence until |z| >= 10, then the asymptotic Bernoulli series;
  Re z < 0 goes through the reflection formula first.  Relative error
  against mpmath < 5e-15 away from zeros of the function (spec: 1e-13).
* :func:`re_digamma_half`, :func:`im_trigamma_half`, :func:`re_tetragamma_half`
  -- real y, z = 1/2 + iy.  Piecewise polynomials for |y| < 10 (error
  < 3e-15 |psi^(m)|), real asymptotic series beyond; 5-10 times faster than
  the complex functions.
* :func:`cel_g` -- g(x) of Eq. (S12) for real x > 0, without the cancellation
  of its three O(x^2) terms at large x.

Poles (z = 0, -1, -2, ...) give inf or nan, silently.
"""

import functools
import math
from fractions import Fraction

import numpy as np

__all__ = ["digamma", "trigamma", "tetragamma", "re_digamma_half",
           "im_trigamma_half", "re_tetragamma_half", "cel_g"]

# Bernoulli numbers B_2, B_4, ..., B_24 (exact; scipy.special.bernoulli
# loses up to 1e-12 in B_4).
_B2K = np.array([float(Fraction(p, q)) for p, q in [
    (1, 6), (-1, 30), (1, 42), (-1, 30), (5, 66), (-691, 2730), (7, 6),
    (-3617, 510), (43867, 798), (-174611, 330), (854513, 138),
    (-236364091, 2730)]])
_K2 = 2.0 * np.arange(1, _B2K.size + 1)          # 2k

_R = 10.0            # complex series used for |z| >= _R
_Y0 = 10.0           # half-line kernels: interpolant for |y| < _Y0
_H = 1.0 / 32.0      # interpolation interval width (a power of 2: |y|/_H exact)
_DEG = 9             # polynomial degree per interval
_CHUNK = 1 << 14     # elements per block (stays in L2 cache)

# Asymptotic series with r = 1/z, r2 = r^2 and P_m(r2) = sum_k p_mk r2^(k-1):
#   psi  = ln z - r/2       - r2 P_0,   p_0k = B_2k / 2k
#   psi1 = r + r2/2         + r r2 P_1, p_1k = B_2k
#   psi2 = -r2 - r2 r       - r2 r2 P_2, p_2k = (2k+1) B_2k
_TAIL = (_B2K / _K2, _B2K, (_K2 + 1.0) * _B2K)


def _horner(coef, x):
    """sum_k coef[k] x^k (coef[0] first)."""
    p = np.full_like(x, coef[-1])
    for c in coef[-2::-1]:
        p *= x
        p += c
    return p


def _blockwise(fn, x, dtype):
    """Apply ``fn`` to 1-D blocks of ``x`` (warnings off); same shape out."""
    x = np.asarray(x, dtype=dtype)
    out = np.empty(x.shape, dtype=dtype)
    src, dst = x.reshape(-1), out.reshape(-1)
    with np.errstate(all="ignore"):
        for s in range(0, src.size, _CHUNK):
            dst[s:s + _CHUNK] = fn(src[s:s + _CHUNK])
    return out[()] if out.ndim == 0 else out


def _shift_count(z):
    """Smallest n >= 0 with |z + n| >= _R, for Re z >= 0 (0 for nan/inf)."""
    x, y = z.real, z.imag
    n = np.ceil(np.sqrt(np.maximum(_R * _R - y * y, 0.0)) - x)
    return np.where(n > 0, n, 0).astype(np.intp)


def _shift_steps(n):
    """Yield (j, idx): the elements idx that still need the j-th shift step."""
    idx = np.flatnonzero(n > 0)
    j = 0
    while idx.size:
        yield j, idx
        j += 1
        idx = idx[n[idx] > j]


def _tail(m, r2):
    """r2 P_m(r2), the Bernoulli part of the asymptotic series of psi^(m)."""
    return r2 * _horner(_TAIL[m], r2)


def _asymptotic(m, w):
    """psi^(m)(w) from the Bernoulli series; needs |w| >= _R, Re w >= 0."""
    r = 1.0 / w
    r2 = r * r
    t = _tail(m, r2)
    if m == 0:
        return np.log(w) - 0.5 * r - t
    if m == 1:
        return r + 0.5 * r2 + r * t
    return -r2 * (1.0 + r + t)


def _reflection_term(m, z):
    """-pi d^m/dz^m cot(pi z), written with q = exp(2 pi i s z), |q| <= 1.

    s = sign(Im z); Re z is first reduced by the nearest integer (exact), and
    q - 1 is taken from expm1, so the term is accurate near the poles and
    finite (tending to 0 or i pi s) for large |Im z|.
    """
    s = np.where(z.imag < 0, -1.0, 1.0)
    a = 2j * np.pi * s * (z - np.round(z.real))
    q, e = np.exp(a), np.expm1(a)                       # e = q - 1
    if m == 0:                                          # -pi cot(pi z)
        return -1j * np.pi * s * (1.0 + q) / e
    if m == 1:                                          # pi^2 / sin^2(pi z)
        return -4.0 * np.pi ** 2 * q / (e * e)
    return 8j * np.pi ** 3 * s * q * (1.0 + q) / (e * e * e)   # -2 pi^3 cos / sin^3


def _polygamma_block(m, z):
    """psi^(m)(z) on a 1-D complex block, m = 0, 1, 2."""
    refl = z.real < 0
    zz = np.where(refl, 1.0 - z, z)
    n = _shift_count(zz)
    f = _asymptotic(m, zz + n)
    # psi^(m)(z) = psi^(m)(z + n) + (-1)^(m+1) m! sum_{j<n} (z + j)^-(m+1)
    acc = np.zeros_like(zz)
    for j, idx in _shift_steps(n):
        acc[idx] += (1.0 / (zz[idx] + j)) ** (m + 1)
    f += (-1.0) ** (m + 1) * math.factorial(m) * acc
    # psi^(m)(z) = (-1)^m psi^(m)(1 - z) - pi d^m/dz^m cot(pi z)
    idx = np.flatnonzero(refl)
    if idx.size:
        f[idx] = (-1.0) ** m * f[idx] + _reflection_term(m, z[idx])
    return f


def digamma(z):
    """psi(z) for complex array-like z (complex ndarray, same shape).

    Seed 000 Eq. (S13): Sigma = (lambda Omega / 2) Re(psi_+ - psi_-).
    Method: docs/theory.md §6; see the module docstring.
    """
    return _blockwise(functools.partial(_polygamma_block, 0), z, complex)


def trigamma(z):
    """psi1(z) = psi'(z) for complex array-like z (complex ndarray, same shape).

    Seed 000 Eq. (5) (Z0^-1) and Eq. (S12) (Lee-Rainer g).
    Method: docs/theory.md §6; see the module docstring.
    """
    return _blockwise(functools.partial(_polygamma_block, 1), z, complex)


def tetragamma(z):
    """psi2(z) = psi''(z) for complex array-like z (complex ndarray, same shape).

    Seed 000 Eq. (S38) (strong-coupling Z0^-1) and Eq. (S12) (Lee-Rainer g).
    Method: docs/theory.md §6; see the module docstring.
    """
    return _blockwise(functools.partial(_polygamma_block, 2), z, complex)


# --- real kernels on the line z = 1/2 + iy ---------------------------------
#
# For |y| >= _Y0: psi(1/2 + w) ~ ln w + sum_k c_k / (2k w^2k), with
# c_k = -B_2k(1/2) = (1 - 2^(1-2k)) B_2k; with w = iy, w^2k = (-1)^k y^2k.
# The parts dropped, Im psi = (pi/2) tanh(pi y) - pi/2 sgn y and
# Re psi1 = pi^2 / (2 cosh^2 pi y), are O(exp(-2 pi |y|)) < 1e-27.
_KH = 10
_CH = ((-1.0) ** np.arange(1, _KH + 1) * (1.0 - 2.0 ** (1.0 - _K2[:_KH]))
       * _B2K[:_KH])                                        # (-1)^k c_k
# Polynomials in x2 = 1/y^2 (coefficient of x2^k, k = 0..KH):
_RE_PSI_HALF = np.concatenate([[0.0], _CH / _K2[:_KH]])     # + ln|y|
_IM_PSI1_HALF = np.concatenate([[-1.0], _CH])               # * 1/y
_RE_PSI2_HALF = np.concatenate([[1.0], -(_K2[:_KH] + 1.0) * _CH])  # * x2


# Even functions of y interpolated on [0, _Y0) (Im psi1 is odd: divided by y).
_EXACT = {"re_psi": lambda y: digamma(0.5 + 1j * y).real,
          "im_psi1_over_y": lambda y: trigamma(0.5 + 1j * y).imag / y,
          "re_psi2": lambda y: tetragamma(0.5 + 1j * y).real}


@functools.cache
def _table(name):
    """Monomial coefficients, shape (DEG+1, N), of the interpolant of
    _EXACT[name] on the N intervals [i, i+1) _H covering [0, _Y0), in the
    local variable t = |y|/_H - (i + 1/2) in [-1/2, 1/2).  Built once, from
    the complex functions at Chebyshev points (first kind, so never y = 0)."""
    nint = int(round(_Y0 / _H))
    theta = np.pi * (np.arange(_DEG + 1) + 0.5) / (_DEG + 1)
    y = (np.arange(nint)[:, None] + 0.5 + 0.5 * np.cos(theta)) * _H
    v = _EXACT[name](y)
    cheb = v @ np.cos(np.outer(theta, np.arange(_DEG + 1))) * (2.0 / (_DEG + 1))
    cheb[:, 0] *= 0.5
    # Chebyshev -> monomial is linear: row k of ``basis`` holds the monomial coefficients of T_k
    # (T_{k+1} = 2x T_k - T_{k-1}), so all intervals convert in one product
    basis = np.zeros((_DEG + 1, _DEG + 1))
    basis[0, 0] = 1.0
    basis[1, 1] = 1.0
    for k in range(1, _DEG):
        basis[k + 1, 1:] = 2.0 * basis[k, :-1]
        basis[k + 1] -= basis[k - 1]
    mono = cheb @ basis
    return np.ascontiguousarray((mono * 2.0 ** np.arange(_DEG + 1)).T)


def _interp(table, a):
    """Piecewise polynomial at a = |y| < _Y0."""
    u = a * (1.0 / _H)
    i = u.astype(np.intp)
    t = u - i
    t -= 0.5
    p = table[-1].take(i)
    for row in table[-2::-1]:
        p *= t
        p += row.take(i)
    return p


def _half_line(name, asymptotic, odd, y):
    """Evaluate a kernel on a real block: the asymptotic series everywhere
    (cheap; garbage for small |y|), then the interpolant where |y| < _Y0."""
    out = asymptotic(y)
    idx = np.flatnonzero(np.abs(y) < _Y0)
    ys = y[idx]
    p = _interp(_table(name), np.abs(ys))
    out[idx] = ys * p if odd else p
    return out


def _re_psi_asymptotic(y):
    x2 = 1.0 / (y * y)
    return np.log(np.abs(y)) + _horner(_RE_PSI_HALF, x2)


def _im_psi1_asymptotic(y):
    x = 1.0 / y
    return x * _horner(_IM_PSI1_HALF, x * x)


def _re_psi2_asymptotic(y):
    x2 = 1.0 / (y * y)
    return x2 * _horner(_RE_PSI2_HALF, x2)


def re_digamma_half(y):
    """Re psi(1/2 + iy) for real array-like y (even in y).

    Seed 000 Eq. (S13): Sigma(E) with y = (E +- Omega) / 2 pi T.
    docs/theory.md §6.
    """
    return _blockwise(functools.partial(_half_line, "re_psi", _re_psi_asymptotic,
                                        False), y, float)


def im_trigamma_half(y):
    """Im psi1(1/2 + iy) for real array-like y (odd in y).

    Seed 000 Eq. (5): Z0^-1(E) = 1 - (2 pi T)^-1 sum_k w_k [h(y_k+) - h(y_k-)],
    h(y) = Im psi1(1/2 + iy), y_k+- = (E +- omega_k) / 2 pi T.
    docs/theory.md §6.
    """
    return _blockwise(functools.partial(_half_line, "im_psi1_over_y",
                                        _im_psi1_asymptotic, True), y, float)


def re_tetragamma_half(y):
    """Re psi2(1/2 + iy) for real array-like y (even in y).

    Seed 000 Eq. (S38): strong-coupling Z0^-1 = 1 - (g/2 pi T)^2 Re psi2(1/2 + iE/2 pi T).
    docs/theory.md §6.
    """
    return _blockwise(functools.partial(_half_line, "re_psi2", _re_psi2_asymptotic,
                                        False), y, float)


# --- Lee-Rainer g(x), seed 000 Eq. (S12) ------------------------------------
#
# With psi1 = 1/z + 1/2z^2 + A1 and psi2 = -1/z^2 - 1/z^3 + A2 (A2 = A1'), the
# O(x^2) terms of g cancel exactly at z = ix: g = 12x^3 Im A1(ix) + 6x^4 Re A2(ix).
# A1, A2 obey A1(u) = A1(u+1) + (u(u+1))^-2 / 2 and
# A2(u) = A2(u+1) - (2u+1) (u(u+1))^-3.  Inserting the Bernoulli series gives
# g(x) ~ sum_k (-1)^k B_2k (12k - 6) x^(2-2k) = -1 - 0.6/x^2 - ... at large x.
_X_DIRECT = 1.0      # below: defining formula (no cancellation there)
_X_SERIES = 10.0     # above: real asymptotic series, error < 3e-16
_G_SERIES = (-1.0) ** np.arange(1, _B2K.size + 1) * _B2K * (6.0 * _K2 - 6.0)


def _g_direct(x):
    """Eq. (S12) as printed; accurate for x < 1, where nothing cancels."""
    z = 1j * x
    return (6.0 * x ** 2 + 12.0 * x ** 3 * _polygamma_block(1, z).imag
            + 6.0 * x ** 4 * _polygamma_block(2, z).real)


def _g_remainder(x):
    """12x^3 Im A1(ix) + 6x^4 Re A2(ix), by recurrence and Bernoulli series."""
    z = 1j * x
    n = _shift_count(z)
    w = z + n
    r = 1.0 / w
    r2 = r * r
    a1 = r * _tail(1, r2)
    a2 = -r2 * _tail(2, r2)
    for j, idx in _shift_steps(n):
        u = z[idx] + j
        p = 1.0 / (u * (u + 1.0))
        a1[idx] += 0.5 * p * p
        a2[idx] -= (2.0 * u + 1.0) * p ** 3
    return 12.0 * x ** 3 * a1.imag + 6.0 * x ** 4 * a2.real


def _g_series(x):
    """Real asymptotic series of g, 12 terms; for x >= 10."""
    return _horner(_G_SERIES, 1.0 / (x * x))


def _g_block(x):
    """g on a real block: direct, remainder form or series by |x|."""
    x = np.abs(x)                                      # g is even
    out = np.empty_like(x)
    for sel, fn in ((~(x >= _X_DIRECT), _g_direct),  # nan too
                    ((x >= _X_DIRECT) & (x < _X_SERIES), _g_remainder),
                    (x >= _X_SERIES, _g_series)):
        out[sel] = fn(x[sel])
    out[x == 0.0] = 0.0                                # the limit 6x^2
    return out


def cel_g(x):
    """Lee-Rainer g(x) = 6x^2 + 12x^3 Im psi1(ix) + 6x^4 Re psi2(ix), real x.

    Even in x; the physics needs x = Omega / 2 pi T > 0.

    Seed 000 Eq. (S12); C_el = (2 pi^2 nu0 T / 3)[1 - lambda g(Omega/2 pi T)],
    Eq. (S11).  g ~ 6x^2 as x -> 0 and g -> -1 as x -> infinity.
    docs/theory.md §6.
    """
    return _blockwise(_g_block, x, float)
