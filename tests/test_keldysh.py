"""Steady-state Keldysh solver of the biased Holstein chain (seed 003, lattice model).

Each check is against an independent reference: the exact Lorentzian Hilbert
transform, a dense finite chain (matrix inversion, no Wannier-Stark reduction),
the equilibrium fluctuation-dissipation theorem, the spectral sum rule, the
continuity equation and grid refinement.
"""

import numpy as np
import pytest

from ephkin.pde.avalanche import criterion, lambda_a6
from ephkin.pde.errors import InputError
from ephkin.pde.keldysh import (
    _kk_kernel_fft,
    anderson,
    avalanche_field,
    branching_ratio,
    kramers_kronig,
    lattice_avalanche_field,
    lattice_problem,
    replica_map,
    replica_problem,
    replica_ratio,
    residual,
    solve_lattice,
)
from ephkin.pde.wannier_stark import check_grid, fermi, make_grid


def test_kramers_kronig_of_a_lorentzian():
    w = np.linspace(-20, 20, 4001)
    F = 1.0 / (w - 0.3 + 0.2j)
    size = 8192
    re = kramers_kronig(F.imag, _kk_kernel_fft(w.size, size), size)
    inner = np.abs(w) < 5          # away from the truncated tails (~ eta/20)
    assert np.max(np.abs(re - F.real)[inner]) < 2e-3


def _dense_chain(omega, gamma, E, T, delta, L=300):
    """G^R_00, -i G^<_00, -i G^<_10 of a finite chain with per-site baths (site 0 in the middle)."""
    sites = np.arange(-L // 2, L // 2)
    H = np.diag(delta + 2.0 - sites * E) - np.eye(L, k=1) - np.eye(L, k=-1)
    i0 = L // 2
    out = []
    for w in omega:
        GR = np.linalg.inv((w + 1j * gamma) * np.eye(L) - H)
        less = (GR * (2 * gamma * fermi(w + sites * E, T))) @ GR.conj().T
        out.append((GR[i0, i0], less[i0, i0].real, less[i0 + 1, i0]))
    return np.array(out).T


def test_noninteracting_chain_matches_dense_finite_chain():
    gamma, E, T, delta = 0.05, 0.1, 0.05, 1.0
    r = solve_lattice(gamma, 0.0, 0.3, delta, E, T=T, n_omega=2**11)
    cf, _ = r["problem"].greens(r["x"])
    idx = np.arange(40, 2**11, 127)
    G, n, less10 = _dense_chain(r["spectra"].omega[idx], gamma, E, T, delta)
    assert np.max(np.abs(cf.G[idx] - G)) < 1e-6
    assert np.max(np.abs(cf.n[idx] - n)) < 1e-6
    # bond-current density: J = -2t Re int G^<_10 = 2 int Im(-i G^<_10)
    j_dense = 2 * less10.imag
    j_ws = 2 * (-cf.n * cf.aR.imag + cf.bR * cf.G.imag)[idx]
    assert np.max(np.abs(j_ws - j_dense)) < 1e-8 + 1e-6 * np.max(np.abs(j_dense))
    assert r["current"] > 0 and r["residual"] == 0.0


def test_equilibrium_fdt_with_phonons():
    r = solve_lattice(0.05, 0.4, 0.3, 1.0, 0.0, T=0.1, n_omega=2**11)
    sp = r["spectra"]
    assert r["converged"]
    assert np.max(np.abs(sp.n - sp.f * sp.A)) < 1e-12 * sp.A.max()
    # detailed balance of the phonon self-energy itself (Bose factors)
    tot = sp.sigma_less + sp.sigma_gtr
    assert np.max(np.abs(sp.sigma_less - sp.f * tot)) < 1e-12 * tot.max()
    assert abs(r["current"]) < 1e-14


def test_small_field_approaches_equilibrium():
    gamma, T, N = 0.05, 0.1, 2**12
    d = 13.0 / N
    E = d                                          # E = gamma/16: one grid step per site
    eq = solve_lattice(gamma, 0.4, 0.3, 1.0, 0.0, T=T, n_omega=N, omega_min=-4.0, d_omega=d)
    ne = solve_lattice(gamma, 0.4, 0.3, 1.0, E, T=T, n_omega=N, omega_min=-4.0, d_omega=d)
    a, b = eq["spectra"], ne["spectra"]
    assert ne["grid"].shift == 1
    assert np.max(np.abs(b.A - a.A)) < 0.02 * a.A.max()
    # FDT with the local bath's Fermi function holds up to O(E/T)
    assert np.max(np.abs(b.n - b.f * b.A)) < 0.05 * np.max(b.f * b.A) * E / T
    assert abs(ne["n_ex"] - eq["n_ex"]) < 1e-4 * eq["n_ex"]


@pytest.fixture(scope="module")
def biased():
    return solve_lattice(0.05, 0.4, 0.3, 1.0, 0.05, T=0.05, n_omega=2**12)


def test_spectral_sum_rule(biased):
    assert biased["converged"]
    assert abs(biased["weight"] - 1.0) < 1e-4


def test_current_conservation(biased):
    sp = biased["spectra"]
    dw = biased["grid"].d_omega / (2 * np.pi)
    J = biased["current"]
    assert J > 0
    # the bond current into site 0 (left lead) equals the one out of it (right lead)
    assert abs(biased["current_left"] - J) < 1e-8 * J
    # the SCBA collision integral conserves particles; the bath exchanges none net
    scale = np.sum(sp.sigma_less * sp.p) * dw
    assert abs(np.sum(sp.sigma_less * sp.p - sp.sigma_gtr * sp.n) * dw) < 1e-5 * scale
    assert abs(np.sum(2 * 0.05 * (sp.f * sp.A - sp.n)) * dw) < 1e-5 * scale
    assert abs(biased["bath_current"]) < 1e-5 * scale
    # hence n_ex is the spectral weight below the local Fermi level, int f A dw/2pi
    tails = biased["problem"].tails(sp.f[0], sp.f[-1])
    assert abs(np.sum(sp.f * sp.A) * dw + tails - biased["n_ex"]) < 1e-6 * biased["n_ex"]


def test_residual_vanishes_and_plain_mixing_agrees(biased):
    p, x = biased["problem"], biased["x"]
    N = p.grid.n
    r = residual(x, p)
    assert np.linalg.norm(r[:N]) < 1e-7 * np.linalg.norm(x[:N])
    x_plain, info = anderson(p.phi, np.zeros(2 * N), N, tol=1e-10, history=0, mixing=1.0)
    assert info["converged"]
    assert np.max(np.abs(x_plain - x)) < 1e-6 * np.max(x)


def test_grid_convergence():
    """Fixed window [-4, 9], d_omega = E/m for m = 4, 8, 16: the changes shrink (J: second order)."""
    E = 0.05
    res = [solve_lattice(0.05, 0.4, 0.3, 1.0, E, T=0.05, n_omega=int(round(13 * m / E)),
                         omega_min=-4.0, d_omega=E / m) for m in (4, 8, 16)]
    for key, ratio in (("n_ex", 0.6), ("current", 0.4), ("weight", 0.4)):
        v = [r[key] for r in res]
        d1, d2 = abs(v[1] - v[0]), abs(v[2] - v[1])
        assert d2 < ratio * d1
        assert d2 < 1e-5 * abs(v[2])


def test_grid_step_adjusted_to_divide_E():
    g = make_grid(0.01, 2**12, -4.0, 9.0)
    assert g.shift >= 1 and abs(g.shift * g.d_omega - 0.01) < 1e-15
    assert g.omega_max >= 9.0 - g.d_omega and "adjusted" in g.note
    assert check_grid(0.01, -4.0, 0.0025, 2**10).shift == 4


@pytest.mark.parametrize("kw, name", [
    (dict(gamma=0.0), "gamma"),
    (dict(omega0=-0.3), "omega0"),
    (dict(g_ep=-0.1), "g_ep"),
    (dict(d_omega=0.003), "d_omega"),
    (dict(n_omega=10), "n_omega"),
])
def test_bad_input_names_the_parameter(kw, name):
    args = dict(gamma=0.005, g_ep=0.3, omega0=0.3, delta=1.0, E=0.01, n_omega=2**10)
    args.update(kw)
    with pytest.raises(InputError, match=name):
        lattice_problem(**args)


def test_avalanche_field_needs_a_jump_in_the_bracket():
    with pytest.raises(InputError, match="E_hi"):
        avalanche_field(0.05, 0.3, 0.3, 1.0, 0.01, 0.02, n_omega=2**10)


@pytest.mark.slow
def test_acceptance_example_converges():
    r = solve_lattice(0.005, 0.3, 0.3, 1.0, 0.01, n_omega=2**16)
    assert r["converged"] and r["residual"] < 1e-8
    assert 0 < r["n_ex"] < 1 and r["current"] > 0
    assert abs(r["weight"] - 1) < 1e-4


# --- replica (rainbow-generation) criterion: lattice analogue of Eq. (A6) -----------------

TINY = dict(gamma=0.05, omega0=0.3, delta=1.0, E=0.05, d_omega=0.025, margin=0.5)


def test_replica_ratio_is_exactly_quadratic_in_g():
    """One generation carries g^2 / 2 omega0 (Eq. (2)): lambda_lat / g^2 is constant, 0 at g = 0."""
    r = [replica_ratio(g_ep=g, **TINY) / g**2 for g in (1e-3, 0.15, 0.3)]
    assert max(r) - min(r) < 1e-5 * r[-1]
    assert replica_ratio(g_ep=0.0, **TINY) == 0.0
    be = [replica_ratio(g_ep=g, generation="band_edge", **TINY) / g**2 for g in (1e-3, 0.3)]
    assert abs(be[0] - be[1]) < 1e-12 * be[1]


def test_replica_perron_root_matches_dense_eigensolve():
    """Power iteration / Arnoldi vs numpy.linalg.eig of the assembled map on a tiny grid."""
    p = replica_problem(TINY["gamma"], 0.3, TINY["omega0"], TINY["delta"], TINY["E"],
                        d_omega=TINY["d_omega"], margin=TINY["margin"])
    L, N = replica_map(p), p.grid.n
    M = np.column_stack([L(e) for e in np.eye(N)])
    assert M.min() >= 0.0                                  # a positive map (Perron-Frobenius)
    ev, vec = np.linalg.eig(M)
    i = np.argmax(np.abs(ev))
    rho = replica_ratio(g_ep=0.3, **TINY)
    assert abs(ev[i].imag) < 1e-10 and abs(ev[i].real - rho) < 1e-6 * rho
    v = np.real(vec[:, i]) * np.sign(np.real(vec[:, i]).sum())
    assert v.min() > -1e-10 * v.max()                      # the Perron vector is nonnegative
    # linearity: L(a x + b y) = a L x + b L y
    x, y = np.random.default_rng(0).random((2, N))
    assert np.allclose(L(2 * x + 3 * y), 2 * L(x) + 3 * L(y), rtol=1e-12, atol=0)


def test_replica_ratio_does_not_depend_on_delta():
    """No Fermi level enters the map: Delta only shifts the frequency axis (Fig. 3(b), large Delta)."""
    for gen in ("perron", "band_edge"):
        r = [replica_ratio(g_ep=0.3, generation=gen, **dict(TINY, delta=d)) for d in (0.3, 1.0, 3.0)]
        assert max(r) - min(r) < 1e-5 * r[0]


def test_band_edge_ratio_follows_eq_a6_for_small_gamma():
    """The seed's one-step ratio Sigma^(4)<(0)/Sigma^(2)<(0) on the lattice tracks lambda(E) of
    Eq. (A6) through its exponential rise (x = 2 Gamma sqrt(2 m omega0)/E from 1.1 to 5.5)."""
    gamma, g, w0 = 0.005, 0.3, 0.3
    E = np.array([0.001, 0.002, 0.005])
    lat = np.array([replica_ratio(gamma, g, w0, 1.0, e, generation="band_edge") for e in E])
    a6 = lambda_a6(E, 0.5, g, gamma, w0)
    assert np.all(np.diff(lat) > 0)
    assert np.all((lat / a6 > 0.5) & (lat / a6 < 2.5))      # A6 itself rises 34-fold here


def test_lattice_avalanche_field_grows_with_gamma():
    """Fig. 3(a): E_av(Gamma) increases; band-edge ratio, each within a factor 2 of Eq. (11)."""
    out = []
    for gamma in (0.01, 0.02):
        r = lattice_avalanche_field(gamma, 0.3, 0.3, 1.0, 0.1 * gamma, 2 * gamma, n_scan=5,
                                    rtol=1e-2, generation="band_edge", d_omega=gamma / 2)
        out.append(r["E_av"])
        assert 0.5 < r["E_av"] / criterion(0.5, 0.3, gamma, 0.3)["E_av"] < 2.0
    assert out[1] > 1.5 * out[0]


@pytest.mark.slow
def test_perron_avalanche_field_grows_with_gamma():
    e = [lattice_avalanche_field(gamma, 0.3, 0.3, 1.0, 0.05 * gamma, gamma, n_scan=5,
                                 rtol=1e-2)["E_av"] for gamma in (0.01, 0.02)]
    assert e[1] > 1.5 * e[0]


@pytest.mark.parametrize("kw, name", [
    (dict(E=0.0), "E"),
    (dict(generation="rainbow"), "generation"),
    (dict(gamma=-1.0), "gamma"),
    (dict(d_omega=0.0), "d_omega"),
])
def test_replica_bad_input_names_the_parameter(kw, name):
    args = dict(TINY, g_ep=0.3)
    args.update(kw)
    with pytest.raises(InputError, match=name):
        replica_ratio(**args)


def test_lattice_avalanche_field_bracket_errors():
    with pytest.raises(InputError, match="E_hi"):
        lattice_avalanche_field(0.05, 0.3, 0.3, 1.0, 0.1, 0.05)
    with pytest.raises(InputError, match="E_lo"):     # already above 1 at E_lo
        lattice_avalanche_field(0.05, 0.3, 0.3, 1.0, 0.05, 0.1, d_omega=0.025, margin=0.5)


def test_dressed_branching_stays_below_one_where_the_bare_one_avalanches():
    # seed parameters (Gamma = 0.005, g = 0.3, omega0 = 0.3): the Gamma-only generation map
    # (the seed's Eq. (10)) has Perron root >> 1, the SCBA-dressed one stays below 1 because each
    # emission is also out-scattering of the emitting generation (particle number is conserved)
    for E in (0.02, 0.1):
        b = branching_ratio(0.005, 0.3, 0.3, 1.0, E, T=0.0, n_omega=2**12)
        assert b["converged"]
        assert b["rho_bare"] > 10.0
        assert 0.0 < b["rho_scba"] < 1.0


def test_dressed_branching_tends_to_the_bare_one_as_g_squared():
    # Sigma_ph^R = O(g^2), so 1 - rho_scba / rho_bare = O(g^2): halving g divides it by ~4
    deficit = []
    for g in (0.005, 0.0025):
        b = branching_ratio(0.005, g, 0.3, 1.0, 0.05, T=0.0, n_omega=2**12)
        deficit.append(1.0 - b["rho_scba"] / b["rho_bare"])
    assert deficit[1] > 0.0
    assert 3.6 < deficit[0] / deficit[1] < 4.2


def test_branching_needs_a_field():
    with pytest.raises(InputError, match="E > 0"):
        branching_ratio(0.005, 0.3, 0.3, 1.0, 0.0, n_omega=2**10)
