"""Negative absolute conductivity, seed 001: operators, invariants, Eq. (8), Fig. 2a/2e/3a, DoS models."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp, trapezoid
from scipy.optimize import brentq

from ephkin.pde.dos import cosine, cubic_tables, from_file, make_dos, semicircle
from ephkin.pde.errors import InputError
from ephkin.pde.nac import NACModel, fermi, periodic_limit

SEMI = semicircle()


def _random_state(m, seed=0, zeta=3.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, m.N), zeta


# ------------------------------------------------------------------ invariants
@pytest.mark.parametrize("delta_omega", [0.0, 0.01])
def test_particle_number_conserved_by_st_el_and_st_e(delta_omega):
    # sum Delta D St = 0 for an arbitrary f: the D(eps - omega) terms are the D(eps + omega) terms shifted
    m = NACModel(SEMI, 0.26, T=0.01, gamma_in=0.2, delta_omega=delta_omega)
    f, zeta = _random_state(m)
    w = m.Delta * m.D
    for st in (m.st_el(f, zeta), m.st_field(f, 0.3**2), m.st_in(f)):
        assert abs(w @ st) < 1e-14 * (w @ np.abs(st)) and np.max(np.abs(st)) > 0.1


def test_energy_conserved_by_st_el_plus_st_ph():
    # Gamma_in = 0, tau_ph = oo, I_p = 0, E = 0: d/dt (int eps D f + omega_p zeta) = 0 (pins Gamma/D0 in Eqs. (4), (5))
    for band, om in ((SEMI, 0.26), (SEMI, 0.53), (cosine(), 0.31)):
        m = NACModel(band, om, T=0.01)
        f, zeta = _random_state(m, zeta=7.0)
        dy = m.rhs(0.0, np.concatenate([f, [zeta]]))
        dE = np.sum(m.Delta * m.D * m.eps * dy[:-1]) + m.omega_p * dy[-1]
        assert abs(dy[-1]) > 1e-3
        assert abs(dE) < 1e-13 * m.omega_p * abs(dy[-1])


def test_joule_heating_equals_sigma_e_squared():
    # St_E alone: d/dt int eps D f = (F^2/3) D_F sigma/sigma0 (cosine band: D > 0 at the grid ends)
    m = NACModel(cosine(), 0.3, T=0.02)
    f, _ = _random_state(m, seed=1)
    F2 = 0.2**2
    heat = np.sum(m.Delta * m.D * m.eps * m.st_field(f, F2))
    assert heat == pytest.approx(F2 / 3 * m.DF * m.conductivity(f), rel=1e-12)


def test_st_in_relaxes_any_f_to_fermi_with_same_particle_number():
    # omega_p > W: no phonon links, only the bath; the end state is f_T(mu') with mu' fixed by the particle number
    m = NACModel(SEMI, 2.0, T=0.02, gamma_in=1.0)
    rng = np.random.default_rng(2)
    f0 = np.clip(periodic_limit(SEMI, 0.3, 0.0, 0.003, m.eps) + 0.1 * rng.standard_normal(m.N), 0, 1)
    f = m.steady_state(0.0, f0=f0, tol=1e-12)
    n0 = m.particle_number(f0)
    assert m.particle_number(f) == pytest.approx(n0, rel=1e-12)
    mu = brentq(lambda mu: m.particle_number(fermi(m.eps, mu, m.T)) - n0, -0.5, 0.5, xtol=1e-15)
    assert np.max(np.abs(f - fermi(m.eps, mu, m.T))) < 1e-9


@pytest.mark.parametrize("T", [0.003, 0.05])
def test_detailed_balance_fermi_and_bose_is_fixed_point(T):
    m = NACModel(SEMI, 0.26, T=T, gamma_in=0.3, tau_ph=5.0, delta_omega=0.0)
    y = m.initial(0.0)  # f_T and zeta = 0: phonons at the Bose occupation b(omega_p, T)
    f, _ = _random_state(m)
    scale = np.max(np.abs(m.rhs(0.0, np.concatenate([f, [0.0]]))))
    assert np.max(np.abs(m.rhs(0.0, y))) < 1e-12 * scale


# ------------------------------------------------------------------ operators against the continuum
def test_st_el_is_eq44_pointwise():
    # on the omega_p-periodic grid the discrete St_el is Eq. (44) evaluated at the nodes, independent code
    m = NACModel(SEMI, 0.26, T=0.01)
    om, zeta, b = m.omega_p, 4.0, m.b
    fa = lambda e: 0.3 + 0.2 * np.sin(9 * e) + 0.1 * np.cos(23 * e)  # noqa: E731
    e, D = m.eps, SEMI.dos
    n = zeta + b
    ref = (D(e - om) * (n * (fa(e - om) - fa(e)) - fa(e) * (1 - fa(e - om)))
           + D(e + om) * (n * (fa(e + om) - fa(e)) + fa(e + om) * (1 - fa(e)))) / m.D0
    assert np.max(np.abs(m.st_el(fa(e), zeta) - ref)) < 1e-12 * np.max(np.abs(ref))
    m_ph = (D(e) * D(e + om) * (fa(e + om) * (1 - fa(e)) + n * (fa(e + om) - fa(e)))) / m.D0
    assert m.st_ph(fa(e), zeta) == pytest.approx(np.sum(m.Delta * m_ph), rel=1e-12)


def _continuum_errors(refine):
    # St_in (Eq. (6)) and -St_E (Eq. (7)) of a smooth f = f_T'(mu', T') vs closed-form derivatives
    T, Tp, mup, g_in = 0.02, 0.05, 0.05, 1.0
    m = NACModel(SEMI, 0.26, T=T, gamma_in=g_in, refine=refine)
    inner = np.abs(m.eps) < 0.4
    e = np.where(inner, m.eps, 0.0)  # closed forms away from the edges, where D' diverges
    f = fermi(e, mup, Tp)
    f1 = -f * (1 - f) / Tp
    f2 = -(1 - 2 * f) * f1 / Tp
    D = 4 / np.pi * np.sqrt(1 - 4 * e**2)
    D1 = -16 / np.pi * e / np.sqrt(1 - 4 * e**2)
    g, g1 = T * f1 + f * (1 - f), T * f2 + (1 - 2 * f) * f1
    st_in = g_in / m.DF * (2 * D1 * g + D * g1)
    st_e = (D1 / D * f1 + f2) / 3  # (F^2/3)(D_F/D) d/de[(D/D_F) f'] at F = 1
    fg = fermi(m.eps, mup, Tp)
    return (np.max(np.abs(m.st_in(fg) - st_in)[inner]), np.max(np.abs(m.st_field(fg, 1.0) - st_e)[inner]))


def test_diffusion_operators_second_order():
    err = np.array([_continuum_errors(r) for r in (1, 2, 4)])
    order = np.log2(err[:-1] / err[1:])
    assert np.all(order > 1.8) and np.all(order < 2.3), order


# ------------------------------------------------------------------ Jacobian
@pytest.mark.parametrize("hold", [False, True])
def test_jacobian_matches_finite_differences(hold):
    m = NACModel(SEMI, 0.26, T=0.03, gamma_in=0.1, field=0.1, tau_ph=5.0, pump="pulse", zeta0=10.0,
                 delta_omega=0.01, hold_zeta=hold, refine=0.3)
    f, _ = _random_state(m, seed=3)
    y = np.concatenate([f, [2.0]])
    J = m.jacobian(0.1, y)
    assert J.format == "csr" and J.nnz < 0.15 * (m.N + 1) ** 2   # sparse: 7 Gauss-Hermite shifts, zeta row/column
    h = 1e-6
    Jfd = np.empty((m.N + 1, m.N + 1))
    for k in range(m.N + 1):
        e = np.zeros(m.N + 1)
        e[k] = h
        Jfd[:, k] = (m.rhs(0.1, y + e) - m.rhs(0.1, y - e)) / (2 * h)
    assert np.max(np.abs(J.toarray() - Jfd)) < 1e-7 * np.max(np.abs(Jfd))


# ------------------------------------------------------------------ Eq. (8), Fig. 2a, long-time limit
def test_fig2a_sign_pattern_from_eq8():
    # semicircle, mu = 0, T = 0.003 W: sigma < 0 near W/4 and 0.5-0.6 W, > 0 in between (Fig. 2a)
    sig = {}
    for om in (0.26, 0.4, 0.53, 0.6):
        m = NACModel(SEMI, om)
        sig[om] = m.conductivity(m.periodic_limit())
        assert m.conductivity(m.fermi()) == pytest.approx(1.0, abs=1e-3)
    assert sig[0.26] < -0.05 and sig[0.4] > 0.05 and sig[0.53] < -0.2 and sig[0.6] < -0.2


def test_long_time_solution_approaches_eq8():
    # the zeta -> oo state is Eq. (8) (closed form, independent of the operators); the gap closes as 1/zeta
    m = NACModel(SEMI, 0.26)
    f8 = m.periodic_limit()
    d3, d4 = (np.max(np.abs(m.steady_state(z) - f8)) for z in (1e3, 1e4))
    assert d4 < 1e-4
    assert d3 / d4 == pytest.approx(10.0, rel=0.05)


def test_fixed_zeta_evolution_reaches_steady_state():
    # Fig. 1/2 protocol: 10/Gamma_eph at zeta = 20 (Gamma_in = 0) is the t -> oo state
    m = NACModel(SEMI, 0.36, filling=1 / 3)
    f10 = m.evolve_fixed(20.0, 10.0)
    fss = m.steady_state(20.0)
    assert np.max(np.abs(f10 - fss)) < 1e-6
    assert m.particle_number(f10) == pytest.approx(m.particle_number(m.fermi()), rel=1e-10)


def test_grid_convergence_observed_order():
    # sigma of the zeta = 20 state: error ~ h^1.5 (sqrt band-edge kinks of f at eps = edge +- j omega_p)
    models = [NACModel(SEMI, 0.53, refine=r) for r in (1, 2, 4, 8)]
    s = np.array([m.conductivity(m.steady_state(20.0)) for m in models])
    d = np.abs(np.diff(s))
    order = np.log2(d[:-1] / d[1:])
    assert np.all(d[1:] < d[:-1]) and 1.2 < order[-1] < 1.7, (s, order)


def test_dispersive_phonons_smooth_the_inversion_fig1e():
    # Eq. (52): delta_omega -> 0 recovers Eq. (44); T_eff = T + zeta delta_omega ~ omega_p washes out the
    # local inversion (sum of upward steps of f) after 10/Gamma_eph at zeta = 20 (Fig. 1e, omega_p = 0.36 W)
    out = {}
    for dw in (0.0, 1e-7, 0.03 * 0.36):
        m = NACModel(SEMI, 0.36, filling=1 / 3, delta_omega=dw)
        f = m.evolve_fixed(20.0, 10.0)
        out[dw] = (m.conductivity(f), np.sum(np.clip(np.diff(f), 0, None)))
    assert out[1e-7][0] == pytest.approx(out[0.0][0], abs=1e-5) and out[0.0][0] < 0
    assert out[0.03 * 0.36][1] < 0.05 * out[0.0][1] and out[0.03 * 0.36][0] > 0


# ------------------------------------------------------------------ field, E*, Fig. 3
@pytest.mark.slow
def test_zero_conductivity_field_fig2e():
    m = NACModel(SEMI, 0.53, gamma_in=0.01)
    Fs, omega_E, fs = m.zero_conductivity_field(20.0)
    assert m.conductivity(m.evolve_fixed(20.0, 10.0, field=0.0)) < 0
    assert abs(m.conductivity(fs)) < 1e-7
    # the seed's estimate E* ~ sqrt(omega_p Gamma_in/tau)/(e v_F): eEv_F sqrt(tau/Gamma_in)/omega_p ~ 1
    assert 0.5 < Fs / math.sqrt(m.gamma_in) / m.omega_p < 2.0
    assert omega_E > 0


def test_spontaneous_field_holds_sigma_at_zero():
    m = NACModel(SEMI, 0.53, gamma_in=0.01, spontaneous=True, tau_M=1e-3)
    f = m.periodic_limit()
    y = np.concatenate([f, [20.0]])
    assert m.conductivity(f) < 0
    E2 = m.field_squared(0.0, y)
    assert E2 > 0
    dsig = m.conductivity(m.rhs(0.0, y)[:-1])
    assert dsig == pytest.approx(-m.conductivity(f) / m.tau_M, rel=1e-8)
    assert m.field_squared(0.0, m.initial(20.0)) == 0.0  # sigma(f_T) > 0: no field


@pytest.mark.slow
def test_pulse_gives_transient_negative_conductivity_fig3a():
    m = NACModel(SEMI, 2 / 3, filling=1 / 3, tau_ph=5.0, pump="pulse", zeta0=10.0, tau_pulse=0.3, gamma_in=0.01)
    sol = solve_ivp(m.rhs, (0.0, 20.0), m.initial(), method="BDF", jac=m.jacobian, rtol=1e-7, atol=1e-10,
                    t_eval=np.linspace(0, 20, 81))
    sig = np.array([m.conductivity(y[:-1]) for y in sol.y.T])
    assert sol.status == 0 and sig[0] > 0.99
    assert sig[(sol.t > 0.5) & (sol.t < 5)].max() < -0.1   # NAC within ~1/Gamma_eph of the pulse
    assert sig[-1] > 0                                      # and gone after a few tau_ph
    assert sol.y[-1].max() > 0.5 * m.zeta0


# ------------------------------------------------------------------ DoS models and input errors
def test_dos_models_normalised_and_parser():
    x = np.linspace(-0.6, 0.6, 400001)
    for spec in ("semicircle", "cosine:tau=const", "cosine:tau=dos,eta=0.1", "cubic"):
        band = make_dos(spec)
        assert trapezoid(band.dos(x), x) == pytest.approx(1.0, abs=2e-4), spec
        assert np.all(band.transport(x) >= 0)
    c = make_dos("cosine:tau=dos")
    assert c.transport(0.25) / c.transport(0.0) == pytest.approx(0.75)   # Eq. (55): sigma~ ~ 1 - (2 eps/W)^2
    for bad in ("lorentz", "cosine:tau=foo", "cosine:eta", "semicircle:W=-1", "cubic:nk=x", "file:"):
        with pytest.raises(InputError):
            make_dos(bad)


def test_cubic_dos_converges_in_k_grid():
    D = [cubic_tables(nk)[1] for nk in (12, 24, 48)]
    d1, d2 = np.max(np.abs(D[1] - D[0])), np.max(np.abs(D[2] - D[1]))
    assert d2 < 0.3 * d1 and d2 < 0.1 * np.max(D[2])


def test_file_dos(tmp_path):
    e = np.linspace(-0.5, 0.5, 201)
    p = tmp_path / "d.txt"
    np.savetxt(p, np.column_stack([e, SEMI.dos(e)]))
    band = from_file(str(p))
    m = NACModel(band, 0.26)
    ref = NACModel(SEMI, 0.26)
    assert m.conductivity(m.periodic_limit()) == pytest.approx(ref.conductivity(ref.periodic_limit()), abs=0.01)
    for text, word in (("0 1\n1 x\n2 1\n", "malformed"), ("0 1\n0.5 -1\n1 1\n", "negative"),
                       ("0\n1\n2\n", "columns"), ("0 1\n1 1\n", "3 rows")):
        p.write_text(text)
        with pytest.raises(InputError, match=word):
            from_file(str(p))


@pytest.mark.parametrize("kw, name", [(dict(omega_p=0.0), "omega_p"), (dict(omega_p=-1), "omega_p"),
                                      (dict(filling=1.0), "filling"), (dict(filling=0), "filling"),
                                      (dict(T=0.0), "T"), (dict(pump="steady"), "tau_ph"),
                                      (dict(gamma_in=-1), "gamma_in")])
def test_bad_input_is_input_error(kw, name):
    args = dict(omega_p=0.3)
    args.update(kw)
    with pytest.raises(InputError, match=name):
        NACModel(SEMI, **args)
