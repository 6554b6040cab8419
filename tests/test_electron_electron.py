"""Electron-electron collisions, seed 000 (S22)-(S25): the FFT collision integral against the loop,
conservation laws and Fermi zeros (with the discretisations that break them), power-law P
convergence, M^ee matrix-free against dense, FD Jacobians, the theorem."""

import time

import numpy as np
import pytest

from ephkin.pde.electron_electron import (
    DENSE_MAX,
    EECollisions,
    MeeOperator,
    collision_ee,
    collision_ee_reference,
    constant_p,
    gaussian_p,
    m_ee_folded,
    power_law_p,
)
from ephkin.pde.eliashberg import fermi
from ephkin.pde.errors import InputError
from ephkin.pde.grids import FoldedGrid
from ephkin.pde.linearized import fermi_prime
from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers.stability import gamma_dense, make_problem

EPS, L = 0.02, 120
E = EPS * np.arange(-L, L + 1)
P = gaussian_p(0.3)
ALL_P = [gaussian_p(0.3), constant_p(0.5), power_law_p(1), power_law_p(2), power_law_p(3, cutoff=1.5)]
IDS = ["gauss", "const", "d1", "d2", "d3"]


def _noisy(seed=1, T=0.2, amp=0.05):
    """A distribution with neither particle-hole symmetry nor any thermal form (full grid)."""
    rng = np.random.default_rng(seed)
    return np.clip(fermi(E, T) + amp * rng.standard_normal(E.size), 0, 1)


def _scales(coll, f):
    """Round-off scales: the gain and loss terms that cancel in I_ee are bounded by the
    out-scattering rate r(E): number ~ sum r, energy ~ sum |E| r, Fermi zero ~ max r."""
    r = coll.rate(f)
    return np.sum(r), np.sum(np.abs(E) * r), np.max(r)


@pytest.mark.parametrize("P", ALL_P, ids=IDS)
def test_fft_equals_loop_reference(P):
    f = _noisy()
    ref = collision_ee_reference(f, EPS, P, 2 * L)
    assert np.max(np.abs(collision_ee(f, EPS, P) - ref)) < 1e-13 * np.max(np.abs(ref))
    ref60 = collision_ee_reference(f, EPS, P, 60)  # P truncated to |m| <= m_max: the same truncation
    assert np.max(np.abs(collision_ee(f, EPS, P, m_max=60) - ref60)) < 1e-13 * np.max(np.abs(ref60))


@pytest.mark.parametrize("P", ALL_P, ids=IDS)
def test_conserves_number_and_energy(P):
    coll = EECollisions(L, EPS, P)
    for seed in (1, 2, 3):
        f = _noisy(seed)
        I = coll.full(f)
        sN, sE, _ = _scales(coll, f)
        assert abs(np.sum(I)) < 1e-15 * sN and abs(np.sum(E * I)) < 1e-15 * sE  # (S24)
        assert np.max(np.abs(I)) > 1e-4  # and not trivially zero


@pytest.mark.parametrize("P", ALL_P, ids=IDS)
def test_vanishes_on_every_fermi_function(P):
    coll = EECollisions(L, EPS, P)
    for T in (0.01, 0.05, 0.1, 0.2, 0.35, 0.6, 1.0, 3.0):
        f = fermi(E, T)
        assert np.max(np.abs(coll.full(f))) < 1e-14 * np.max(coll.rate(f)), T
    f = _noisy()  # a non-equilibrium f is far from it
    assert np.max(np.abs(coll.full(f))) > 1e-2 * np.max(coll.rate(f))


def test_wrong_discretisations_break_the_laws():
    """The tests above would catch an aliased FFT or weights P_m != P_-m."""
    f, f0 = _noisy(), fermi(E, 0.2)
    N = E.size
    aliased = EECollisions(L, EPS, P, nfft=N + 40)  # circular sums: lags wrap around
    good = EECollisions(L, EPS, P)
    assert np.max(np.abs(aliased.full(f0))) > 1e-6 * np.max(good.rate(f0))  # Fermi zero lost
    uneven = EECollisions(L, EPS, P)
    uneven.pc[uneven.S - 7] *= 1.01  # P_{-7} != P_7
    I = uneven.full(f)
    sN, sE, _ = _scales(uneven, f)
    assert abs(np.sum(I)) < 1e-15 * sN  # number is conserved lag by lag ...
    assert abs(np.sum(E * I)) > 1e-7 * sE  # ... energy (S24) needs an even P on the grid


def test_folded_is_the_odd_half():
    coll = EECollisions(L, EPS, P)
    Ep = EPS * np.arange(1, L + 1)
    f = fermi(Ep, 0.2) + 0.02 * np.exp(-((Ep - 0.5) / 0.1) ** 2)  # f(-E) = 1 - f(E) by the folding
    full = coll.full(coll.unfold(f))
    np.testing.assert_allclose(full[::-1], -full, atol=1e-14 * np.max(coll.rate(coll.unfold(f))))
    np.testing.assert_array_equal(coll.folded(f), full[L + 1:])
    assert abs(2 * np.sum(Ep * coll.folded(f))) < 1e-15 * _scales(coll, coll.unfold(f))[1]  # energy, folded grid


@pytest.mark.parametrize("d", [1, 2, 3])
def test_power_law_regularisation_converges(d):
    """P ~ |w|^(d/2-2) with cell-averaged weights: I_ee converges as eps -> 0.

    Order ~1.5 for d = 1, ~2 for d = 2, 3."""
    Pd, Lam, res = power_law_p(d), 6.0, []
    for k in range(5):
        eps = 0.04 / 2**k
        n = int(round(Lam / eps))
        En = eps * np.arange(-n, n + 1)
        res.append(collision_ee(0.5 * (fermi(En, 0.15) + fermi(En, 0.3)), eps, Pd)[:: 2**k])  # at E = 0.04 j
    diffs = np.array([np.max(np.abs(res[k + 1] - res[k])) for k in range(4)])
    order = np.log2(diffs[:-1] / diffs[1:])
    assert np.all(order > {1: 1.0, 2: 1.4, 3: 1.7}[d]), order
    assert diffs[-1] < 5e-4 * np.max(np.abs(res[-1]))


def test_power_law_weights():
    w = power_law_p(2).weights(0.1, 3)
    assert w[0] == 0.0 and w[1] == pytest.approx(np.log(3.0) / 0.1)  # cell [0.05, 0.15] of 1/|w|
    w3 = power_law_p(3, cutoff=0.2).weights(0.1, 4)
    assert w3[3] == 0.0 and w3[4] == 0.0 and 0 < w3[2] < w3[1]  # cell [0.15, 0.25] cut at 0.2
    with pytest.raises(InputError) as e:
        power_law_p(4)
    assert e.value.param == "d"
    with pytest.raises(InputError) as e:
        gaussian_p(0.0)
    assert e.value.param == "width" and "--" not in str(e.value)


def test_p_must_be_even():
    with pytest.raises(InputError, match="even"):
        collision_ee(fermi(E, 0.2), EPS, lambda w: np.exp(w), 10)


@pytest.mark.parametrize("P", ALL_P, ids=IDS)
def test_m_ee_matrix_free_equals_dense_symmetric_psd(P):
    T, g = 0.2, FoldedGrid(EPS, L)
    M = m_ee_folded(g, T, P)
    op = MeeOperator(g, T, P)
    Mf = op.matvec(np.eye(L))
    assert np.max(np.abs(Mf - M)) < 1e-13 * np.abs(M).max()
    assert np.max(np.abs(Mf - Mf.T)) < 1e-13 * np.abs(M).max()
    ev = np.linalg.eigvalsh(0.5 * (Mf + Mf.T))
    assert ev.min() > -1e-13 * ev.max()
    Ei = EPS * np.arange(1, L + 1)
    assert np.max(np.abs(op.matvec(Ei))) < 1e-13 * np.abs(M).max()  # the temperature mode is conserved
    # the leading diagonal (for preconditioners) is exact to O(eps/T)
    assert np.max(np.abs(op.diagonal() - np.diag(M))) < (EPS / T) * np.max(np.diag(M))


def test_m_ee_diagonal_error_is_first_order():
    errs = []
    for eps in (0.04, 0.02, 0.01):
        g = FoldedGrid(eps, int(round(2.4 / eps)))
        M = m_ee_folded(g, 0.2, P)
        errs.append(np.max(np.abs(MeeOperator(g, 0.2, P).diagonal() - np.diag(M))) / np.max(np.diag(M)))
    assert 1.6 < errs[0] / errs[1] < 2.4 and 1.6 < errs[1] / errs[2] < 2.4


def test_m_ee_is_minus_jacobian_at_f0():
    T = 0.2
    op = MeeOperator(FoldedGrid(EPS, L), T, P)

    def I_fold(phi):  # I_ee on E > 0 for delta f = -f0' phi, phi odd
        full = np.concatenate([-phi[::-1], [0.0], phi])
        return collision_ee(fermi(E, T) - fermi_prime(E, T) * full, EPS, P)[L + 1:]

    h, J = 1e-6, np.empty((L, L))
    for j in range(L):
        e = np.zeros(L)
        e[j] = h
        J[:, j] = -(I_fold(e) - I_fold(-e)) / (2 * h)
    M = op.matvec(np.eye(L))
    np.testing.assert_allclose(M, J, atol=1e-8 * np.abs(M).max())


@pytest.mark.parametrize("P", [gaussian_p(0.3), power_law_p(1)], ids=["gauss", "d1"])
def test_jacobian_action_away_from_equilibrium(P):
    coll, f = EECollisions(L, EPS, P), _noisy(4)
    v = np.random.default_rng(5).standard_normal(E.size)
    h = 1e-5
    fd = (coll.full(f + h * v) - coll.full(f - h * v)) / (2 * h)
    assert np.max(np.abs(coll.jacobian(f).matvec(v) - fd)) < 1e-8 * np.max(np.abs(fd))


def test_dense_reference_refused_at_scale():
    with pytest.raises(InputError) as e:
        m_ee_folded(FoldedGrid(1e-3, DENSE_MAX + 1), 0.2, P)
    assert e.value.param == "L"


def test_linearized_problem_m_matvec():
    shape = parse_spectrum("modes:40-60")
    p = make_problem(shape, 1.0, 0.2, cutoff=5.0, a_ee=3.0, p_ee=power_law_p(2))
    x = np.random.default_rng(0).standard_normal(p.grid.L)
    for scaled in (False, True):
        Md = p.m_matrix(scaled)
        assert np.max(np.abs(p.m_matvec(x, scaled) - Md @ x)) < 1e-12 * np.max(np.abs(Md @ x))
        assert np.max(np.abs(p.m_operator(scaled) @ x - Md @ x)) < 1e-12 * np.max(np.abs(Md @ x))
    d = p.m_diagonal()
    assert np.max(np.abs(d - np.diag(p.m_matrix()))) < 0.1 * np.max(d)
    with pytest.raises(InputError) as e:
        make_problem(shape, 1.0, 0.2, cutoff=5.0, a_ee=-1.0, p_ee=P)
    assert e.value.param == "a_ee" and "a_ee must be >= 0" in str(e.value)
    with pytest.raises(InputError) as e:
        make_problem(shape, 1.0, 0.2, cutoff=5.0, a_ee=1.0)
    assert e.value.param == "p_ee"


def test_m_matvec_at_scale_is_fast_symmetric_psd():
    """L >= 2e4 (the stability acceptance point, modes:40-60, lam 5, refine 32): products in milliseconds."""
    shape = parse_spectrum("modes:40-60")
    p = make_problem(shape, 5.0, 0.2, refine=32, a_ee=1.0, p_ee=gaussian_p(0.3))
    L_ = p.grid.L
    assert L_ >= 20000
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(L_), rng.standard_normal(L_)
    p.m_matvec(x, scaled=True)
    t = time.perf_counter()
    for _ in range(10):
        Mx = p.m_matvec(x, scaled=True)
    assert (time.perf_counter() - t) / 10 < 0.5
    My = p.m_matvec(y, scaled=True)
    assert abs(x @ My - y @ Mx) < 1e-12 * np.linalg.norm(x) * np.linalg.norm(My)
    Mee = p.ee_operator
    assert all(z @ Mee.matvec(z) >= 0 for z in (x, y, np.sign(x)))
    assert np.all(p.m_diagonal(scaled=True) > 0)


def test_theorem_and_two_temperature_limit():
    # seed 000: if A > 0 (stable with e-ph only), adding a_ee M^ee keeps every gamma > 0; for
    # a_ee -> infinity the slowest gamma tends to the temperature-mode Rayleigh quotient
    # <E, M^ep E>/<E, A E> (electrons thermalised at T(t), Eq. (16)).
    shape = parse_spectrum("modes:40-60")
    base = make_problem(shape, 1.0, 0.2, cutoff=5.0)
    Ei = base.E
    rq = float(Ei @ (base.m_sparse() @ Ei)) / float(Ei @ base.a_matvec(Ei))
    slow = []
    for a in (1.0, 1e3, 1e5):
        p = make_problem(shape, 1.0, 0.2, cutoff=5.0, a_ee=a, p_ee=gaussian_p(0.3))
        g = gamma_dense(p)
        assert np.all(g > 0)
        slow.append(g.min())
    assert abs(slow[2] / rq - 1) < abs(slow[1] / rq - 1) < abs(slow[0] / rq - 1)
    assert slow[2] == pytest.approx(rq, rel=1e-3)
