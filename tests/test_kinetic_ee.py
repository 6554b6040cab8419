"""Eq. (15) in the kinetic model: a_ep I_ep + a_ee I_ee, the e-e Jacobian action and its
preconditioner, energy/number bookkeeping, T_eff (Eq. (S6)), and the two-temperature limit Eq. (16)."""

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.integrate import solve_ivp

from ephkin.pde import two_temperature as tt
from ephkin.pde.electron_electron import gaussian_p, power_law_p
from ephkin.pde.eliashberg import fermi
from ephkin.pde.errors import InputError
from ephkin.pde.kinetic import KineticModel
from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers.stability import make_problem

EINSTEIN = parse_spectrum("einstein")


def _problem(step=0.025):
    return make_problem(EINSTEIN, 1.0, 0.2, units="plain", grid_step=step, cutoff=5.0)


def _dense_integrate(m, f_in, t_eval, rtol=1e-8, atol=1e-11):
    """Reference: M(f) fdot = I(f) by SciPy BDF, dense mass matrix and the exact dense Jacobian
    (e-ph sparse + e-e columns from the FFT action), small L only."""
    Kd, L = m.K.dense(), m.L

    def mass(f):
        return np.diag(m.mass_diag(f)) - m.f_prime(f)[:, None] * Kd

    def jac(t, f):
        J = m.ee_jacobian(f) if m.a_ee > 0 else None
        cols = np.column_stack([m.collisions_jvp(f, e, J) for e in np.eye(L)])
        return sla.solve(mass(f), cols)

    return solve_ivp(lambda t, f: sla.solve(mass(f), m.collisions(f)), (0.0, t_eval[-1]), f_in,
                     method="BDF", rtol=rtol, atol=atol, jac=jac, t_eval=t_eval)


def test_weights_and_errors():
    p = _problem()
    P = gaussian_p(0.5)
    f = p.f0 + 1e-3 * np.exp(-((p.E - 0.5) / 0.1) ** 2)
    m0, m = KineticModel(p), KineticModel(p, a_ep=0.7, a_ee=3.0, p_ee=P)
    np.testing.assert_allclose(m.collisions(f), 0.7 * m0.collisions(f) + 3.0 * m.collisions_ee(f), rtol=0, atol=1e-16)
    np.testing.assert_array_equal(m0.collisions(f), m0.collisions_ep(f))  # defaults: a_ep = 1, a_ee = 0
    assert np.max(np.abs(m.residual(np.zeros_like(f), f) + m.collisions(f))) == 0.0
    for kw, name in (({"a_ee": -1.0, "p_ee": P}, "a_ee"), ({"a_ep": -0.1}, "a_ep"), ({"a_ee": 1.0}, "p_ee")):
        with pytest.raises(InputError) as e:
            KineticModel(p, **kw)
        assert e.value.param == name and "--" not in str(e.value)


@pytest.mark.parametrize("P", [gaussian_p(0.5), power_law_p(3)], ids=["gauss", "d3"])
def test_collisions_jvp_is_the_jacobian(P):
    p = _problem()
    m = KineticModel(p, a_ep=1.0, a_ee=5.0, p_ee=P)
    f = m.initial(0.25) + 1e-3 * np.exp(-((p.E - 0.5) / 0.1) ** 2)
    v = np.random.default_rng(0).standard_normal(m.L) * np.exp(-p.E / 0.5)
    h = 1e-6
    fd = (m.collisions(f + h * v) - m.collisions(f - h * v)) / (2 * h)
    assert np.max(np.abs(m.collisions_jvp(f, v) - fd)) < 1e-8 * np.max(np.abs(fd))


def test_diagonal_preconditioner_keeps_gmres_iterations_flat_in_a_ee():
    """GMRES on the Newton matrix shift*M(f) - dI/df: with the e-e diagonal in the sparse
    preconditioner the iteration count does not grow with a_ee (without it, it does)."""
    p = make_problem(EINSTEIN, 1.0, 0.2, units="plain", grid_step=0.005, cutoff=6.0)
    L, b = p.grid.L, np.random.default_rng(0).standard_normal(p.grid.L)
    its = {}
    for a_ee in (1.0, 1e4):
        m = KineticModel(p, a_ee=a_ee, p_ee=gaussian_p(0.5))
        f = m.initial(0.22)
        Je, diag, fp, shift = m.ee_jacobian(f), m.mass_diag(f), m.f_prime(f), 10.0
        op = spla.LinearOperator((L, L),
                                 matvec=lambda v: shift * m.mass_apply(f, v, diag, fp) - m.collisions_jvp(f, v, Je))
        for name, Jp in (("ep", m.collisions_jacobian(f)), ("ep+ee", m.collisions_jacobian_approx(f, Je))):
            lu = spla.splu((sp.diags(shift * diag) - Jp).tocsc())
            count = [0]
            x, info = spla.gmres(op, b, M=spla.LinearOperator((L, L), matvec=lu.solve), restart=200, maxiter=500,
                                 atol=0.0,
                                 callback=lambda r: count.__setitem__(0, count[0] + 1), callback_type="pr_norm")
            assert info == 0 and np.linalg.norm(op.matvec(x) - b) < 1e-4 * np.linalg.norm(b)
            its[(a_ee, name)] = count[0]
    print(its)
    assert its[(1e4, "ep+ee")] <= 15 and its[(1.0, "ep+ee")] <= 15
    assert its[(1e4, "ep")] > 2 * its[(1e4, "ep+ee")]


def test_energy_functional_rate_is_eq_s6():
    """d energy/dt along the flow = 2 int E I (Eq. (S6)); the e-e part is 0 (S24); number is conserved."""
    for step in (0.05, 0.025):
        p = _problem(step)
        m = KineticModel(p, a_ep=1.0, a_ee=1.0, p_ee=gaussian_p(0.5))
        f = 0.5 * (fermi(p.E, 0.12) + fermi(p.E, 0.35))
        fdot, h = m.rate(f), 1e-6
        dE = (m.energy(f + h * fdot) - m.energy(f - h * fdot)) / (2 * h)
        # 4th-order derivatives
        assert dE == pytest.approx(m.energy_rate_collisions(f), rel=1e-3 if step == 0.05 else 2e-5)
        assert abs(m.energy_rate_ee(f)) < 1e-14
        assert abs(m.particle_number(f)) < 1e-15 and abs(m.particle_number(f + 1e-3 * fdot)) < 1e-15


def test_t_eff():
    p = _problem()
    m = KineticModel(p)
    for T in (0.1, 0.15, 0.2, 0.3, 0.6):
        assert m.t_eff(fermi(p.E, T)) == pytest.approx(T, rel=1e-10)
    f = 0.5 * (fermi(p.E, 0.12) + fermi(p.E, 0.35))
    T = m.t_eff(f)
    assert m.energy(fermi(p.E, T)) == pytest.approx(m.energy(f), rel=1e-10) and 0.12 < T < 0.35


def test_ee_only_relaxes_to_fermi_at_t_eff():
    """a_ep = 0: Eq. (15) conserves the energy of Eq. (S6) and drives any f to f0(T_eff(f_in))."""
    p = _problem(0.04)
    m = KineticModel(p, a_ep=0.0, a_ee=1.0, p_ee=gaussian_p(0.5))
    f_in = 0.5 * (fermi(p.E, 0.12) + fermi(p.E, 0.35))
    sol = _dense_integrate(m, f_in, [0.0, 20.0, 200.0])
    assert sol.status == 0
    T_in = m.t_eff(f_in)
    for k in range(3):
        f = sol.y[:, k]
        assert m.t_eff(f) == pytest.approx(T_in, rel=1e-5)
        assert abs(m.energy(f) - m.energy(f_in)) < 3e-5 * abs(m.energy(f_in))  # 4th-order f', Sigma' at eps = 0.04
    dev = [np.max(np.abs(sol.y[:, k] - fermi(p.E, T_in))) for k in range(3)]
    assert dev[2] < 5e-3 * dev[0] and dev[1] < dev[0]


def test_two_temperature_limit():
    """a_ee >> a_ep: T_eff(t) of Eq. (15) follows Eq. (16) (pde.two_temperature), closer as a_ee grows."""
    p = _problem(0.04)
    ts = np.array([1.0, 2.0, 5.0])
    T2 = tt.evolve_temperature(p.spectrum, 0.2, 0.22, 5.0).sol(ts)[0]
    err = []
    for a in (1.0, 10.0, 100.0):
        m = KineticModel(p, a_ee=a, p_ee=gaussian_p(0.5))
        sol = _dense_integrate(m, m.initial(0.22), ts)
        Te = np.array([m.t_eff(sol.y[:, k]) for k in range(ts.size)])
        err.append(np.max(np.abs(Te - T2) / (T2 - 0.2)))
    print("max |T_eff - T_2T|/(T_2T - T0) at a_ee = 1, 10, 100:", err)
    assert err[2] < err[1] < err[0] and err[2] < 0.05
