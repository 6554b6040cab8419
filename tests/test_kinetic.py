"""The full kinetic equation (seed 000 Eqs. (1), (4), (S26)-(S31)) and its PETSc TS integration."""

import numpy as np
import pytest

from ephkin.pde import eliashberg as eq
from ephkin.pde.kinetic import KineticModel
from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers.evolution import evolve, evolve_scipy, linear_prediction, slowest_rate
from ephkin.solvers.stability import make_problem

MODES, EINSTEIN = parse_spectrum("modes:40-60"), parse_spectrum("einstein")


@pytest.mark.parametrize("shape", [MODES, EINSTEIN])
def test_equilibrium_pieces(shape):
    p = make_problem(shape, 1.0, 0.2)
    m = KineticModel(p)
    # Sigma[f0] by the FFT kernel + cutoff tail = the closed form (S13) at every grid energy
    assert np.max(np.abs(m.sigma(p.f0) - eq.sigma(p.proj, p.E, 0.2))) < 2e-5
    # 1 - Sigma'[f0] = Z0^-1 (Eq. (5)); detailed balance I(f0) = 0
    assert np.max(np.abs(m.mass_diag(p.f0) - p.zinv)) < 1e-4
    assert np.max(np.abs(m.collisions(p.f0))) < 1e-15
    # M(f0) delta fdot = A phidot for delta f = -f0' phi (Eq. (13)), up to Sigma' vs Z0^-1
    phi = np.random.default_rng(2).standard_normal(p.grid.L) * np.exp(-p.E)
    lhs = m.mass_apply(p.f0, -p.fp * phi)
    assert np.max(np.abs(lhs - p.a_matvec(phi))) < 1e-4 * np.max(np.abs(p.a_matvec(phi)))


def test_collision_jacobian_exact():
    p = make_problem(EINSTEIN, 1.5, 0.2, cutoff=5.5)
    m = KineticModel(p)
    f = m.initial(0.3)
    L, h = p.grid.L, 1e-6
    J = np.empty((L, L))
    for j in range(L):
        e = np.zeros(L)
        e[j] = h
        J[:, j] = (m.collisions(f + e) - m.collisions(f - e)) / (2 * h)
    np.testing.assert_allclose(m.collisions_jacobian(f).toarray(), J, atol=1e-9)


def test_ts_matches_scipy_and_ladder_modes_persist():
    # Einstein, lambda = 1 (stable): TS (BDF, matrix-free Jacobian) = SciPy BDF; about 60% of the
    # initial deviation never decays (ladder null modes of M, docs/theory.md §5) = linear modal prediction
    p = make_problem(EINSTEIN, 1.0, 0.2, grid_step=0.02)
    assert p.grid.L == 400  # the acceptance's N = 400
    m = KineticModel(p)
    r = evolve(m, 0.202, 20.0, rtol=1e-7, atol=1e-11)
    sol = evolve_scipy(m, 0.202, 20.0, rtol=1e-7, atol=1e-11)
    assert r["status"] == "stable" and np.max(np.abs(sol.y[:, -1] - r["f_final"])) < 1e-6
    assert 0.5 < r["max_deviation"] / r["initial_deviation"] < 0.7
    pred = np.max(np.abs(linear_prediction(m, m.initial(0.202), 20.0)))
    assert r["max_deviation"] == pytest.approx(pred, rel=0.05)


def test_decay_rate_equals_slowest_linear_gamma():
    # modes:40-60, lambda = 1: late-time decay of f - f0(T0) at the slowest gamma (docs/theory.md §5)
    p = make_problem(MODES, 1.0, 0.2)
    m = KineticModel(p)
    r = evolve(m, 0.202, 400.0, rtol=1e-6, atol=1e-10)
    assert r["status"] == "stable"
    assert r["decay_rate"] == pytest.approx(slowest_rate(m), rel=0.05)


def test_instability_reported_between_the_zeros():
    p = make_problem(EINSTEIN, 2.169, 0.2, grid_step=EINSTEIN.with_lambda(2.169).omega[0] / 50)
    m = KineticModel(p)
    r = evolve(m, 0.202, 20.0, rtol=1e-3, atol=1e-6)
    assert r["status"] == "unstable" and 0 <= r["t_instability"] < 20.0
    assert [round(z, 2) for z in r["zinv_zeros"]] == [0.93, 1.30]
    assert r["growth_energies"] and all(0.88 <= e <= 1.36 for e in r["growth_energies"])
    assert r["min_mass_diagonal"] < 0  # the mass matrix 1 - Sigma' lost definiteness


def test_burgers_strong_coupling_limit():
    # Eq. (8): f0 is a steady state up to the O(eps^2) central differences; stable above 1.63 T_c,
    # unstable at T_c with the growth inside the negative-viscosity window 0.39 < E < 1.16 (Eq. S38)
    from ephkin.pde.burgers import BurgersModel
    from ephkin.solvers.evolution import evolve_burgers

    res = [np.max(np.abs(m.rhs(m.f_eq))) for m in (BurgersModel(0.5, h, 15.5) for h in (0.04, 0.02))]
    assert res[0] / res[1] == pytest.approx(4.0, rel=0.1)
    stable = evolve_burgers(BurgersModel(0.5, 0.5 / 16, 15.5), 0.505, 20.0)
    assert stable["status"] == "stable" and stable["max_deviation"] < 0.1 * stable["initial_deviation"]
    unstable = evolve_burgers(BurgersModel(0.1827, 0.1827 / 16, 7.6), 0.1827 * 1.01, 20.0)
    assert unstable["status"] == "unstable" and 0.39 < unstable["growth_energy"] < 1.17



def test_evolve_diagnostics_share_one_dense_eigh():
    # the slowest gamma from the dense modes (evolve's default below L = 1200) = the matrix-free SLEPc one;
    # above 1200 the O(L^3) modal prediction is skipped by default and said so
    from ephkin.solvers import api

    small = api.evolve("modes:40-60", 1.0, 0.2, 0.202, 2.0)
    assert "max_deviation_linear_prediction" in small and "prediction_skipped" not in small
    p = make_problem(MODES, 1.0, 0.2)
    assert small["gamma_min_positive"] == pytest.approx(slowest_rate(KineticModel(p)), rel=1e-9)
    big = api.evolve("modes:40-60", 1.0, 0.2, 0.202, 0.5, refine=2, cutoff=12.0)
    assert big["L"] > api.PREDICTION_MAX_L and "max_deviation_linear_prediction" not in big
    assert "prediction_skipped" in big and big["gamma_min_positive"] > 0


def test_newton_stops_at_the_step_tolerance():
    # Fig. 1(b) case of benchmarks/evolve_ida.py (N = 496, rtol 1e-3): Newton stopped by IDA's rule
    # (solvers.ts.NewtonTest) takes ~1 iteration per step and a few kernel products, and gives the
    # state PETSc's residual test (1e-8 drop, 1e-10 linear solves) gives, to the integration accuracy
    from ephkin.solvers.petsc_env import init_petsc

    PETSc, _ = init_petsc()
    m = KineticModel(make_problem(EINSTEIN, 1.0, 0.2, grid_step=1.0 / 62))
    k0 = m.kernel_matvecs
    r = evolve(m, 0.202, 20.0, rtol=1e-3, atol=1e-6)
    assert r["status"] == "stable" and (m.kernel_matvecs - k0) / r["steps"] < 15
    opts = PETSc.Options()
    opts.setValue("kin_snes_convergence_test", "default")
    opts.setValue("kin_ksp_rtol", "1e-10")
    try:
        k0 = m.kernel_matvecs
        d = evolve(m, 0.202, 20.0, rtol=1e-3, atol=1e-6)
    finally:
        opts.delValue("kin_snes_convergence_test")
        opts.delValue("kin_ksp_rtol")
    assert (m.kernel_matvecs - k0) / d["steps"] > 20  # the default really was in force
    assert np.max(np.abs(r["f_final"] - d["f_final"])) < 5e-6  # |f_IDA - f_TS| ~ 4e-6 (rtol 1e-3)


def test_sigma_of_the_last_state_is_kept():
    m = KineticModel(make_problem(EINSTEIN, 1.0, 0.2, grid_step=0.05))
    f = m.initial(0.21)
    s = m.sigma(f)
    k = m.kernel_matvecs
    assert m.sigma(f) is not None and m.kernel_matvecs == k and not s.flags.writeable
    f[3] += 1e-3  # the caller's array changed in place: recomputed
    assert m.sigma(f)[3] != s[3] and m.kernel_matvecs == k + 1
