"""The electron-phonon operators by FFT against the mode-by-mode reference (issue 29).

For every spectrum kind -- a comb forced onto the FFT path, Debye, Lorentzian, the tabulated Pb model --
the FFT products of I_ep, its Jacobian, M^ep (scaled and not), Z0^-1, the kernel generators and the
Sigma tail equal the per-mode sums to round-off, including the fold at E = 0 and the cutoff.
"""

import numpy as np
import pytest

import ephkin.pde.linearized as lin
from ephkin.pde.electron_phonon import CombCollisions, EPCollisions, collision_ep
from ephkin.pde.eliashberg import fermi
from ephkin.pde.grids import default_grid
from ephkin.pde.kinetic import KineticModel
from ephkin.pde.linearized import LinearizedProblem, _pole_free_sum
from ephkin.pde.spectra import make_spectrum

PB = "file:docs/examples/pb_model.a2f"
# (spectrum, lambda, T0, cutoff): continuous, tabulated, and two combs; the cutoffs put phonon shifts
# of up to ~Lambda/2 at the edge, and every case has shifts E - omega across the fold E = 0
CASES = [(PB, None, 0.2, None), ("debye", 1.0, 0.1, None), ("lorentz:1:0.05", 1.0, 0.2, None),
         ("lorentz:1:0.3,2:0.2", 1.0, 0.15, 5.0), ("modes:40-60", 1.0, 0.2, None), ("einstein", 1.0, 0.2, 5.2)]


def _problem(spec, lam, T0, cutoff, fft=True, monkeypatch=None):
    s = make_spectrum(spec, lam, "g")
    if monkeypatch is not None:
        monkeypatch.setattr(lin, "FFT_MODES_MIN", 0 if fft else 10**9)
    return LinearizedProblem(s, T0, default_grid(s, T0, cutoff=cutoff))


def _states(p, rng):
    """An equilibrium at another temperature, a noisy one and a random one (not a distribution at all)."""
    L = p.grid.L
    return [fermi(p.E, 1.2 * p.T0), np.clip(p.f0 + 0.05 * rng.standard_normal(L), 0, 1), rng.random(L)]


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("spec,lam,T0,cutoff", CASES)
def test_collisions_and_jacobian_by_fft(spec, lam, T0, cutoff, monkeypatch):
    p = _problem(spec, lam, T0, cutoff)
    L, eps = p.grid.L, p.grid.eps
    ep = EPCollisions(L, eps, p.r, p.lam_r, T0)
    m = KineticModel(p)
    rng = np.random.default_rng(7)
    for f in _states(p, rng):
        ref = collision_ep(f, eps, p.r, p.lam_r, T0)
        got = ep.collisions(f)
        # relative to the scale of the terms (D0 |g|): near equilibrium I is a small difference of them
        assert np.max(np.abs(got - ref)) <= 1e-13 * ep.D0 * np.max(np.abs(f - 0.5))
        J = m._ep_jacobian(f)  # mode by mode, exact (the comb path's Jacobian)
        v = rng.standard_normal(L)
        assert _rel(ep.jvp(f, v), J @ v) < 1e-12
        np.testing.assert_allclose(ep.jacobian_diagonal(f), J.diagonal(), rtol=1e-12, atol=1e-14 * ep.D0)
    f = rng.random(L)
    assert _rel(ep.collisions(f), collision_ep(f, eps, p.r, p.lam_r, T0)) < 1e-12  # random vectors: 1e-12


@pytest.mark.parametrize("spec,lam,T0,cutoff", CASES)
def test_m_ep_by_fft(spec, lam, T0, cutoff, monkeypatch):
    p = _problem(spec, lam, T0, cutoff, fft=True, monkeypatch=monkeypatch)
    assert p.ep_fft
    rng = np.random.default_rng(3)
    X = rng.standard_normal((p.grid.L, 3))
    for scaled in (True, False):
        M = p.m_sparse(scaled=scaled)  # mode by mode, the reference
        assert _rel(p.m_matvec(X[:, 0], scaled), M @ X[:, 0]) < 1e-12
        assert _rel(p.m_matvec(X, scaled), M @ X) < 1e-12
    np.testing.assert_allclose(p.m_ep_diagonal(scaled=True), p.m_sparse(scaled=True).diagonal(), rtol=1e-11)


@pytest.mark.parametrize("spec,lam,T0,cutoff", CASES)
def test_mode_sums_by_fft(spec, lam, T0, cutoff, monkeypatch):
    """Z0^-1 on the grid, the kernel K (both principal-value rules) and the Sigma tail of the kinetic model."""
    pf = _problem(spec, lam, T0, cutoff, fft=True, monkeypatch=monkeypatch)
    ps = _problem(spec, lam, T0, cutoff, fft=False, monkeypatch=monkeypatch)
    assert pf.ep_fft and not ps.ep_fft
    np.testing.assert_allclose(pf.zinv, ps.zinv, rtol=0, atol=1e-13)
    scale = np.max(np.abs(ps.K.t))
    assert np.max(np.abs(pf.K.t - ps.K.t)) < 1e-13 * scale and np.max(np.abs(pf.K.h - ps.K.h)) < 1e-13 * scale
    for pv in ("subtracted", "dropped"):
        c = pf.grid.eps * pf.lam_r * pf.r.astype(float) ** 2
        monkeypatch.setattr(lin, "FFT_MODES_MIN", 10**9)
        ref = _pole_free_sum(0, 2 * pf.grid.L, pf.r, c, pv)
        monkeypatch.setattr(lin, "FFT_MODES_MIN", 0)
        assert np.max(np.abs(_pole_free_sum(0, 2 * pf.grid.L, pf.r, c, pv) - ref)) < 1e-13 * np.max(np.abs(ref))
    monkeypatch.setattr(lin, "FFT_MODES_MIN", 0)
    tf = KineticModel(pf)._tail()
    monkeypatch.setattr(lin, "FFT_MODES_MIN", 10**9)
    np.testing.assert_allclose(tf, KineticModel(ps)._tail(), rtol=0, atol=1e-12 * np.max(np.abs(tf)))


def test_pole_rule_at_r_equal_one(monkeypatch):
    """The one place where u(n + r) meets the pole rule's u(1): n = 0 with a mode at r = 1."""
    r, c = np.arange(1, 50), np.linspace(1.0, 2.0, 49)
    monkeypatch.setattr(lin, "FFT_MODES_MIN", 10**9)
    ref = _pole_free_sum(0, 120, r, c, "subtracted")
    monkeypatch.setattr(lin, "FFT_MODES_MIN", 0)
    assert np.max(np.abs(_pole_free_sum(0, 120, r, c, "subtracted") - ref)) < 1e-14 * np.max(np.abs(ref))


def test_kinetic_model_paths_agree(monkeypatch):
    """The whole residual and Jacobian product of Eq. (15) on the Pb model: FFT path = stencil path."""
    pf = _problem(PB, None, 0.2, None, fft=True, monkeypatch=monkeypatch)
    mf = KineticModel(pf)
    monkeypatch.setattr(lin, "FFT_MODES_MIN", 10**9)
    ps = _problem(PB, None, 0.2, None)
    ms = KineticModel(ps)
    assert isinstance(mf.ep, EPCollisions) and isinstance(ms.ep, CombCollisions)
    rng = np.random.default_rng(11)
    f = fermi(pf.E, 0.23)
    fdot, v = rng.standard_normal(pf.grid.L) * pf.fp, rng.standard_normal(pf.grid.L)
    assert np.max(np.abs(mf.residual(fdot, f) - ms.residual(fdot, f))) < 1e-12
    assert _rel(mf.collisions_jvp(f, v), ms.collisions_jvp(f, v)) < 1e-12
    np.testing.assert_allclose(mf.collisions_jacobian_diagonal(f), ms.collisions_jacobian(f).diagonal(), rtol=1e-12)
    np.testing.assert_allclose(ms.collisions_jacobian_diagonal(f), ms.collisions_jacobian(f).diagonal(), rtol=1e-12)


@pytest.mark.parametrize("csr", [True, False])
@pytest.mark.parametrize("spec,lam,T0,cutoff", CASES)
def test_stencil_jacobian_product_and_diagonal(spec, lam, T0, cutoff, csr, monkeypatch):
    """The comb path's matrix-free Jacobian product and diagonal against the assembled per-mode Jacobian: the
    mode-by-mode reference sums and the stencil of the time integrator (``CombCollisions``, as one CSR product
    and slice by slice), and its collision integral against the reference sum."""
    import ephkin.pde.electron_phonon as ep
    from ephkin.pde.electron_phonon import collision_ep_diagonal, collision_ep_jvp

    p = _problem(spec, lam, T0, cutoff)
    m = KineticModel(p)
    monkeypatch.setattr(ep, "SPARSE_STENCIL_L_MAX", 10**9 if csr else 0)
    cc = CombCollisions(p.grid.L, p.grid.eps, p.r, p.lam_r, T0)
    assert (cc.B is not None) == csr
    rng = np.random.default_rng(5)
    for f in _states(p, rng):
        J = m._ep_jacobian(f)
        v = rng.standard_normal(p.grid.L)
        atol = 1e-14 * np.max(np.abs(J.diagonal()))
        assert _rel(collision_ep_jvp(f, v, p.grid.eps, p.r, p.lam_r, T0), J @ v) < 1e-12
        np.testing.assert_allclose(collision_ep_diagonal(f, p.grid.eps, p.r, p.lam_r, T0), J.diagonal(), rtol=1e-12,
                                   atol=atol)
        assert _rel(cc.jvp(f, v), J @ v) < 1e-12
        np.testing.assert_allclose(cc.jacobian_diagonal(f), J.diagonal(), rtol=1e-12, atol=atol)
        ref = collision_ep(f, p.grid.eps, p.r, p.lam_r, T0)
        assert np.max(np.abs(cc.collisions(f) - ref)) <= 1e-13 * cc.D0 * np.max(np.abs(f - 0.5))


def test_projection_fills_every_grid_frequency():
    """A continuous alpha^2F on a fine grid: one grid frequency per grid step of its support (no comb of
    quadrature nodes), lambda and g^2 kept."""
    s = make_spectrum(PB, None, "g")
    for refine in (1, 16):
        p = LinearizedProblem(s, 0.2, default_grid(s, 0.2, refine))
        assert np.all(np.diff(p.r) == 1)  # no gaps (the table starts at its first frequency, 0.05 meV)
        assert abs(np.sum(p.lam_r * p.omega_r**2) - s.g**2) < 1e-9 * s.g**2


@pytest.mark.parametrize("lam", [None, 3.3])
def test_modes_below_the_continuum_dense_and_slepc(lam):
    """The Pb model: the discrete gamma and their count below the continuum's edges agree between the dense
    path (per-mode M^ep, one LAPACK eigh, every gamma) and the matrix-free one (FFT operators, the count by
    Sylvester); every dense gamma between 0 and the edge is a mode, none of the rest is reported.  lam = 3.3
    (lambda_c = 3.03 at T0 = 0.2) makes Z0^-1 negative somewhere: a negative continuum and unstable modes."""
    from ephkin.solvers.stability import (
        CONTINUUM_MARGIN,
        continuum_edges,
        dense_summary,
        gamma_dense,
        n_discrete,
        stability_summary,
    )

    s = make_spectrum(PB, lam, "g")
    p = LinearizedProblem(s, 0.2, default_grid(s, 0.2))
    assert p.ep_fft
    pos, neg = continuum_edges(p)
    g = gamma_dense(p)
    want_pos = np.sort(g[(g > 0) & (g < (1 - CONTINUUM_MARGIN) * pos)])
    assert want_pos.size >= 1
    assert n_discrete(p, (1 - CONTINUUM_MARGIN) * pos, 6) == min(want_pos.size, 7)
    d, m = dense_summary(p, nev=4, counts=False), stability_summary(p, nev=4, counts=False)
    for res in (d, m):
        assert res["gamma_continuum_edge"] == pytest.approx(pos, rel=1e-14)
        assert res["n_discrete_positive"] == min(want_pos.size, 4 if res is m else want_pos.size)
    np.testing.assert_allclose(m["gamma_min_positive"], want_pos[0], rtol=1e-9)
    np.testing.assert_allclose(d["gamma_min_positive"], want_pos[0], rtol=1e-12)
    if lam is not None:
        assert neg is not None and neg < 0
        want_neg = np.sort(g[(g < 0) & (g > (1 - CONTINUUM_MARGIN) * neg)])[::-1]  # nearest 0 first
        assert want_neg.size >= 1 and m["n_discrete_negative"] == min(want_neg.size, 4)
        np.testing.assert_allclose(m["gamma_negative"], want_neg[:4], rtol=1e-8)
        np.testing.assert_allclose(d["gamma_negative"][: want_neg.size], want_neg[:4], rtol=1e-12)
    else:
        assert neg is None


def test_kinetic_memory_estimate_refuses(monkeypatch):
    """The kinetic run's memory is estimated before anything of size L is allocated, and refused with it."""
    import ephkin.pde.grids as grids
    from ephkin.pde.errors import InputError

    p = _problem("einstein", 1.0, 0.2, None)
    monkeypatch.setattr(grids, "available_memory", lambda: 10**5)  # the estimate is ~0.8 MB at L = 800
    with pytest.raises(InputError, match="kinetic equation on L = 800 points needs about") as exc:
        KineticModel(p)
    assert exc.value.param == "refine"


def test_evolve_fft_path_equals_stencil_path(monkeypatch):
    """Eq. (15) integrated with PETSc TS on the Pb model: the FFT operators and the per-mode stencils give the
    same relaxation (same steps, f to the time integrator's tolerance), and the run is stable and decays."""
    from ephkin.solvers.evolution import evolve

    out = {}
    for fft in (True, False):
        p = _problem(PB, None, 0.2, None, fft=fft, monkeypatch=monkeypatch)
        m = KineticModel(p)
        assert isinstance(m.ep, EPCollisions if fft else CombCollisions)
        out[fft] = evolve(m, 0.202, 2.0)
    a, b = out[True], out[False]
    assert a["status"] == b["status"] == "stable"
    assert abs(a["steps"] - b["steps"]) <= 1
    np.testing.assert_allclose(a["f_final"], b["f_final"], rtol=0, atol=1e-9)
    assert a["max_deviation"] < a["initial_deviation"]


@pytest.mark.parametrize("spec", ["einstein", PB])
def test_derivative_matrix_is_the_derivative(spec):
    """The time integrator's preconditioner stencil: KineticModel.derivative of an odd perturbation, as a matrix
    (the rows at E = 0 and at the cutoff included)."""
    m = KineticModel(_problem(spec, 1.0 if spec == "einstein" else None, 0.2, None))
    v = np.random.default_rng(2).standard_normal(m.L)
    D = m.derivative_matrix()
    assert D.nnz <= 5 * m.L
    np.testing.assert_allclose(D @ v, m.derivative(v, 0.0, [0.0, 0.0]), rtol=0, atol=1e-12 / m.eps)
