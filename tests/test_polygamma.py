"""Tests for pde.polygamma: complex psi, psi1, psi2, the real kernels on
Re z = 1/2 and the Lee-Rainer g(x), all against mpmath."""

import warnings

import mpmath as mp
import numpy as np
import pytest

from ephkin.pde.polygamma import (
    cel_g,
    digamma,
    im_trigamma_half,
    re_digamma_half,
    re_tetragamma_half,
    tetragamma,
    trigamma,
)

mp.mp.dps = 30
TINY = 1e-300
COMPLEX = {0: digamma, 1: trigamma, 2: tetragamma}
HALF = {0: (re_digamma_half, "real"), 1: (im_trigamma_half, "imag"),
        2: (re_tetragamma_half, "real")}


def mp_polygamma(m, z):
    return mp.polygamma(m, mp.mpc(z.real, z.imag))


def rel_err(value, ref):
    return np.abs(value - ref) / np.maximum(np.abs(ref), TINY)


def near_zero(m, z, dist=1e-3):
    """True if psi^(m) has a zero within ``dist`` of z (Newton from z)."""
    if abs(mp_polygamma(m, z)) > 10 * dist * abs(mp_polygamma(m + 1, z)):
        return False
    try:
        root = mp.findroot(lambda s: mp.polygamma(m, s), mp.mpc(z.real, z.imag))
    except (ValueError, ZeroDivisionError):
        return False
    return abs(complex(root) - z) < dist


def complex_grid():
    y = np.logspace(-3, 4, 36)
    y = np.concatenate([y, -y])
    z = [complex(x, t) for x in (0.0, 0.5, 1.0, 3.7, 50.0, -2.3) for t in y]
    real = np.concatenate([np.linspace(-20.3, 30.1, 61), np.logspace(-3, 4, 22),
                           [1.4616, 1.47, -0.49, -1234.567, -98.7654321, -3.999]])
    extra = [-1234.567 + 2j, -0.5 + 300j, -7.25 - 0.01j, 1e-8 + 1e-8j, 12.0 - 1e-12j]
    return np.array(z + list(real.astype(complex)) + extra)


@pytest.mark.parametrize("m", [0, 1, 2])
def test_complex_polygamma_vs_mpmath(m):
    z = complex_grid()
    ref = np.array([complex(mp_polygamma(m, s)) for s in z])
    keep = np.array([not near_zero(m, s) for s in z])
    assert keep.sum() > 0.97 * z.size          # the exclusion is rare
    err = rel_err(COMPLEX[m](z), ref)[keep]
    assert err.max() <= 1e-13, (m, z[keep][np.argmax(err)], err.max())


def test_known_values_and_identities():
    euler = 0.57721566490153286061
    zeta3 = 1.2020569031595942854
    assert abs(digamma(1.0) + euler) < 2e-15 * euler
    assert abs(trigamma(1.0) - np.pi ** 2 / 6) < 1e-15 * np.pi ** 2 / 6
    assert abs(tetragamma(0.5) + 14 * zeta3) < 1e-15 * 14 * zeta3
    # Im psi(1/2 + iy) = (pi/2) tanh(pi y); Re psi1(1/2 + iy) = pi^2 / (2 cosh^2 pi y)
    y = np.concatenate([np.linspace(-6, 6, 241), [1e-9, 30.0, -100.0]])
    z = 0.5 + 1j * y
    assert np.all(rel_err(digamma(z).imag, 0.5 * np.pi * np.tanh(np.pi * y)) < 1e-14)
    re1 = np.pi ** 2 / (2 * np.cosh(np.pi * y) ** 2)
    p1 = trigamma(z)
    assert np.all(np.abs(p1.real - re1) <= 1e-13 * re1 + 1e-15 * np.abs(p1))
    # recurrence across the reflection boundary and far from the origin
    for w in (-0.3 + 0.2j, -40.6 + 3j, 2.5 - 1e3j):
        assert abs(trigamma(w) - trigamma(w + 1) - w ** -2) < 1e-13 * abs(trigamma(w))
        assert abs(tetragamma(w) - tetragamma(w + 1) + 2 * w ** -3) < 1e-13 * abs(tetragamma(w))


def test_poles_nonfinite_without_errors():
    z = np.array([0.0, -1.0, -2.0, -30.0, np.nan, complex(np.nan, 1.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in COMPLEX.values():
            assert not np.any(np.isfinite(f(z)))
        assert np.isnan(cel_g(np.nan))


def test_shapes_and_blocks():
    assert isinstance(digamma(2.0), np.complex128)
    assert isinstance(im_trigamma_half(2.0), float)
    assert isinstance(cel_g(2.0), float)
    z = np.linspace(-3.3, 20, 12).reshape(3, 4) + 0.7j
    for f in COMPLEX.values():
        v = f(z)
        assert v.shape == (3, 4) and v.dtype == np.complex128
        assert v[1, 2] == f(z[1, 2])
    assert trigamma([1, 2]).shape == (2,)
    # many blocks: identical to element-wise evaluation
    y = np.random.default_rng(3).uniform(-30, 30, 70000)
    k = [0, 1, 16383, 16384, 40000, 69999]
    for f in (im_trigamma_half, re_digamma_half, re_tetragamma_half, cel_g):
        v = f(y.reshape(7, 10000) if f is not cel_g else np.abs(y)).reshape(-1)
        for i in k:
            assert v[i] == f(y[i] if f is not cel_g else abs(y[i]))
    assert np.all(trigamma(y[k]) == trigamma(y)[k])


def half_points():
    rng = np.random.default_rng(0)
    edges = np.arange(1, 321, 7) / 32.0
    return np.concatenate([rng.uniform(0, 12, 300), np.logspace(-6, 5, 45),
                           edges, edges - 1e-12, [10 - 1e-13, 10.0, 10 + 1e-13]])


@pytest.mark.parametrize("m", [0, 1, 2])
def test_half_line_kernels_vs_mpmath(m):
    f, part = HALF[m]
    y = half_points()
    exact = [mp_polygamma(m, complex(0.5, t)) for t in y]
    ref = np.array([float(getattr(v, part)) for v in exact])
    scale = np.array([float(abs(v)) for v in exact])       # |psi^(m)(1/2 + iy)|
    err = np.abs(f(y) - ref)
    # relative error away from zeros (Re psi: y = 1.0477, Re psi2: y = 0.3041),
    # error relative to |psi^(m)| near them
    far = np.abs(ref) >= 0.05 * scale
    assert (err / np.abs(ref))[far].max() <= 1e-13
    assert (err / scale).max() <= 1e-14


@pytest.mark.parametrize("m", [0, 1, 2])
def test_half_line_kernels_match_complex_and_parity(m):
    f, part = HALF[m]
    rng = np.random.default_rng(1)
    y = np.concatenate([np.arange(-12, 12, 1 / 256), rng.uniform(-300, 300, 2000)])
    full = COMPLEX[m](0.5 + 1j * y)
    assert np.all(np.abs(f(y) - getattr(full, part)) <= 1e-14 * np.abs(full))
    sign = -1.0 if m == 1 else 1.0
    assert np.array_equal(f(-y), sign * f(y))


def mp_cel_g(x):
    with mp.workdps(40):
        x = mp.mpf(x)
        z = mp.mpc(0, x)
        return float(6 * x ** 2 + 12 * x ** 3 * mp.im(mp.polygamma(1, z))
                     + 6 * x ** 4 * mp.re(mp.polygamma(2, z)))


def test_cel_g_vs_mpmath():
    x0 = 0.51998893675914185  # zero of g (mpmath findroot)
    x = np.concatenate([np.logspace(-3, 4, 71), np.linspace(0.3, 12, 40),
                        [1 - 1e-12, 1.0, 10 - 1e-12, 10.0]])
    x = x[np.abs(x - x0) > 1e-3]
    ref = np.array([mp_cel_g(t) for t in x])
    err = rel_err(cel_g(x), ref)
    assert err.max() <= 1e-13, (x[np.argmax(err)], err.max())
    assert abs(cel_g(x0)) < 1e-14


def test_cel_g_limits():
    assert cel_g(0.0) == 0.0 and cel_g(-2.5) == cel_g(2.5)
    x = np.array([1e-6, 1e-4])
    psi2_1 = -2 * 1.2020569031595942854
    # g = 6x^2 (1 + 3 psi2(1) x^2 + O(x^4))
    assert np.all(np.abs(cel_g(x) / (6 * x ** 2) - 1 - 3 * psi2_1 * x ** 2) < 1e-12)
    x = np.array([1e3, 1e5, 1e8, 1e70])
    # g ~ -1 - 0.6/x^2 - (5/7)/x^4 - ...
    assert np.all(np.abs(cel_g(x) + 1 + 0.6 / x ** 2 + 5 / 7 / x ** 4) < 1e-16)
    # C_el < 0 first appears at lambda = 1 / max g = 3.69 (seed 000 Fig. 3, docs/theory.md (T9))
    g = cel_g(np.linspace(0.01, 1, 2001))
    assert 1 / g.max() == pytest.approx(3.69, abs=0.005)
