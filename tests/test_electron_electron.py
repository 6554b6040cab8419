"""Electron-electron collisions, seed 000 (S22)-(S25): conservation laws, Fermi zeros, M^ee, the theorem."""

import numpy as np
import pytest

from ephkin.pde.electron_electron import collision_ee, gaussian_p, m_ee_folded
from ephkin.pde.eliashberg import fermi
from ephkin.pde.errors import InputError
from ephkin.pde.grids import FoldedGrid
from ephkin.pde.linearized import fermi_prime
from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers.stability import gamma_dense, make_problem

EPS, L = 0.02, 120
E = EPS * np.arange(-L, L + 1)
P = gaussian_p(0.3)


@pytest.mark.parametrize("T", [0.1, 0.2, 0.35, 0.6])
def test_vanishes_on_any_fermi_function(T):
    assert np.max(np.abs(collision_ee(fermi(E, T), EPS, P, 60))) < 1e-16


def test_conserves_number_and_energy():
    rng = np.random.default_rng(1)
    f = np.clip(fermi(E, 0.2) + 0.05 * rng.standard_normal(E.size), 0, 1)
    I = collision_ee(f, EPS, P, 60)
    scale = np.max(np.abs(I)) * np.max(np.abs(E))
    assert abs(np.sum(I)) < 1e-14 * scale and abs(np.sum(E * I)) < 1e-14 * scale  # (S24)
    assert np.max(np.abs(I)) > 1e-6  # and is not trivially zero


def test_m_ee_is_minus_jacobian_symmetric_psd_energy_null():
    T = 0.2
    M = m_ee_folded(FoldedGrid(EPS, L), T, P, 60)

    def I_fold(phi):  # I_ee on E > 0 for delta f = -f0' phi, phi odd
        full = np.concatenate([-phi[::-1], [0.0], phi])
        return collision_ee(fermi(E, T) - fermi_prime(E, T) * full, EPS, P, 60)[L + 1:]

    h, J = 1e-6, np.empty((L, L))
    for j in range(L):
        e = np.zeros(L)
        e[j] = h
        J[:, j] = -(I_fold(e) - I_fold(-e)) / (2 * h)
    np.testing.assert_allclose(M, J, atol=1e-9 * np.abs(M).max())
    assert np.max(np.abs(M - M.T)) < 1e-15
    ev = np.linalg.eigvalsh(M)
    assert ev.min() > -1e-14 * ev.max()
    Ei = EPS * np.arange(1, L + 1)
    assert np.max(np.abs(M @ Ei)) < 1e-14 * np.abs(M).max()  # the temperature mode is conserved


def test_p_must_be_even():
    with pytest.raises(InputError, match="even"):
        collision_ee(fermi(E, 0.2), EPS, lambda w: np.exp(w), 10)


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
