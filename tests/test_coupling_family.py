"""A_hat(lambda) of seed 000 Eq. (14) as the coupling varies: the analytic dA_hat/dlambda and the family's caches.

In units of g the phonon frequencies scale as lambda^-1/2 (docs/theory.md §0) and so does the grid
step of ``default_grid``; the derivative is checked against central differences of problems
built from scratch at lambda +- d, exactly as a caller builds them.
"""

import numpy as np
import pytest
import scipy.linalg as sla

from ephkin.pde.eliashberg import zinv
from ephkin.pde.errors import InputError
from ephkin.pde.grids import default_grid
from ephkin.pde.linearized import CouplingFamily, LinearizedProblem
from ephkin.pde.spectra import parse_spectrum

CASES = [("modes:40-60", "g", "exact", 1.55, 0.204), ("einstein", "g", "exact", 1.27, 0.2),
         ("modes:40-60", "plain", "exact", 1.3, 0.2), ("modes:40-60", "g", "paper", 1.56, 0.204),
         ("einstein", "g", "paper", 2.0, 0.2), ("einstein", "plain", "exact", 2.0, 0.25)]


def fresh(shape, lam, T0, units, kernel, L, grid_step=None):
    spec = shape.with_lambda(lam, units)
    return LinearizedProblem(spec, T0, default_grid(spec, T0, grid_step=grid_step, points=L), kernel)


def family_at(spec, units, kernel, lam, T0):
    shape = parse_spectrum(spec)
    L = int(1.1 * default_grid(shape.with_lambda(lam, units), T0).L)
    return shape, L, CouplingFamily(shape, T0, units, kernel, points=L)


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.mark.parametrize("spec, units, kernel, lam, T0", CASES)
def test_dahat_dlam_against_finite_difference(spec, units, kernel, lam, T0):
    shape, L, fam = family_at(spec, units, kernel, lam, T0)
    p = fam.problem(lam)
    assert fam.follows(p)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((L, 2)) * np.exp(-p.E / 1.0)[:, None]
    d = 1e-5 * lam
    fd = (fresh(shape, lam + d, T0, units, kernel, L).ahat_matvec(X)
          - fresh(shape, lam - d, T0, units, kernel, L).ahat_matvec(X)) / (2 * d)
    an = p.dahat_dlam_matvec(X)
    assert rel(an, fd) < 1e-9
    assert rel(p.dahat_dlam_matvec(X[:, 0]), fd[:, 0]) < 1e-9
    # the Hellmann-Feynman quadratic form with one product
    v = X[:, 0]
    n0 = p.K.matvecs
    assert p.dmu_dlam(v) == pytest.approx(float(v @ an[:, 0]) / float(v @ v), rel=1e-12)
    assert p.K.matvecs == n0 + 1


@pytest.mark.parametrize("spec, units, kernel, lam, T0", CASES[:3])
def test_family_problem_equals_fresh_problem(spec, units, kernel, lam, T0):
    shape, L, fam = family_at(spec, units, kernel, lam, T0)
    x = np.random.default_rng(4).standard_normal(L)
    for lam_i in (lam, 0.9 * lam, 1.3 * lam):
        p, q = fam.problem(lam_i), fresh(shape, lam_i, T0, units, kernel, L)
        assert p.kernel_reused == (lam_i != lam)
        np.testing.assert_allclose(p.zinv, q.zinv, rtol=0, atol=1e-13)
        np.testing.assert_allclose(p.ahat_matvec(x), q.ahat_matvec(x), rtol=0, atol=1e-13 * np.abs(x).max())
        np.testing.assert_allclose(p.ahat_diagonal(), q.ahat_diagonal(), rtol=0, atol=1e-13)
    assert fam.problems_built == 3
    assert fam.problem(1.3 * lam) is p  # the last lambda is cached
    assert fam.kernel_matvecs == 3  # one product per problem, all on the reference transforms


def test_lattice_zinv_equals_mode_sum():
    # Z0^-1 (Eq. (5)) from the polygamma kernel on the integer lattice == the direct sum over modes and energies
    for spec in ("modes:40-60", "einstein"):
        shape = parse_spectrum(spec)
        for refine in (1, 3):
            s = shape.with_lambda(1.4, "g")
            p = LinearizedProblem(s, 0.2, default_grid(s, 0.2, refine))
            np.testing.assert_allclose(p.zinv, zinv(p.proj, p.E, 0.2), rtol=0, atol=2e-15)


def test_slope_is_hellmann_feynman_of_mu_min():
    # d mu_min/d lambda from the eigenvector (analytic) == central difference of the dense mu_min
    shape, L, fam = family_at("modes:40-60", "g", "exact", 1.5, 0.204)
    lam, d = 1.5, 1e-5

    def mu(l):
        return sla.eigh(fresh(shape, l, 0.204, "g", "exact", L).ahat_dense(), subset_by_index=[0, 0])

    w, V = mu(lam)
    slope = fam.slope(lam, V[:, 0])
    assert fam.slope_method == "analytic"
    fd = (mu(lam + d)[0][0] - mu(lam - d)[0][0]) / (2 * d)
    assert slope == pytest.approx(fd, rel=1e-7)


def test_grid_not_following_the_family_falls_back():
    # a fixed grid step in units of g: omega_k moves across the grid, the projection changes with lambda
    shape = parse_spectrum("einstein")
    lam, T0 = 1.27, 0.2
    eps = shape.with_lambda(lam, "g").omega_max / 100.0 * 1.0003
    L = int(9.0 / eps)
    fam = CouplingFamily(shape, T0, "g", grid_step=eps, points=L)
    p = fam.problem(lam)
    assert not fam.follows(p)
    v = np.exp(-((p.E - 1.0) / 0.3) ** 2)
    s = fam.slope(lam, v)
    assert fam.slope_method == "forward-difference"
    d = 1e-6 * lam
    q = fresh(shape, lam + d, T0, "g", "exact", L, grid_step=eps)
    assert s == pytest.approx((v @ q.ahat_matvec(v) - v @ p.ahat_matvec(v)) / (d * (v @ v)), rel=1e-9)


def test_derivative_needs_lambda():
    s = parse_spectrum("einstein").with_lambda(1.0, "g")
    p = LinearizedProblem(s, 0.2, default_grid(s, 0.2))
    with pytest.raises(InputError) as e:
        p.dmu_dlam(np.ones(p.grid.L))
    assert e.value.param == "lam"
