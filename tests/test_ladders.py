"""The ladders of a comb's M_hat (solvers/stability/ladders.py): null vectors from the signed bond graph against each
component's own eigenvectors, the grounded banded Cholesky whose band does not grow with the grid, and the standard
form of the slow modes against the MUMPS-deflated pencil and the dense reference."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers import stability as st
from ephkin.solvers.stability import ladders, matrix_free
from ephkin.solvers.stability.common import NULL_TOL

CASES = [("modes:40-60", 4), ("modes:40-60", 16), ("einstein", 2), ("peaks:1:0.5,0.5:0.3", 2), ("modes:40-60", 1)]


def _problem(spec, refine):
    return st.make_problem(parse_spectrum(spec), 1.0, 0.2, refine=refine)


@pytest.mark.parametrize("spec, refine", CASES)
def test_null_vectors_are_the_components_own(spec, refine):
    p = _problem(spec, refine)
    Mh = sp.csr_matrix(p.m_matrix(scaled=True))
    lad = ladders.Ladders(p, Mh)
    N = lad.N.toarray()
    dmax = Mh.diagonal().max()
    # every component diagonalised on its own (the reference the bond-graph signs replace)
    off = (Mh - sp.diags(Mh.diagonal())).tocsr()
    off.eliminate_zeros()
    ncomp, lab = connected_components(off, directed=False)
    ref = []
    for c in range(ncomp):
        idx = np.nonzero(lab == c)[0]
        w, v = np.linalg.eigh(Mh[idx][:, idx].toarray())
        for j in np.nonzero(w <= NULL_TOL * dmax)[0]:
            full = np.zeros(p.grid.L)
            full[idx] = v[:, j]
            ref.append(full)
    assert N.shape[1] == len(ref)
    np.testing.assert_allclose(N.T @ N, np.eye(N.shape[1]), atol=1e-13)
    if ref:  # the same space: each reference vector lies in span(N), and N is null to the threshold
        R = np.array(ref).T
        assert np.abs(R - N @ (N.T @ R)).max() < 1e-8
        assert np.abs(Mh @ N).max() <= NULL_TOL * dmax


def test_polish_makes_the_null_vectors_exact():
    p = _problem("modes:40-60", 16)
    Mh = sp.csr_matrix(p.m_matrix(scaled=True))
    lad = ladders.Ladders(p, Mh)
    chol = ladders.GroundedCholesky(Mh, lad, p.E).factorise()
    dmax = Mh.diagonal().max()
    before = np.abs(Mh @ lad.N).max() / dmax
    after = np.abs(Mh @ chol.polish(Mh, lad.N)).max() / dmax
    assert before > 1e-13  # sigma/s misses by the bonds leaving the grid at the cutoff
    assert after < 1e-15


def test_band_does_not_grow_with_the_grid():
    bands = {}
    for refine in (4, 16, 32):
        p = _problem("modes:40-60", refine)
        Mh = p.m_matrix(scaled=True)
        bands[refine] = ladders.GroundedCholesky(Mh, ladders.Ladders(p, Mh), p.E).band
    assert bands == {4: 60, 16: 60, 32: 60}  # max r_k / gcd(r_k) of the comb 40..60, not max r_k (up to 1920)
    p = _problem("einstein", 4)
    Mh = p.m_matrix(scaled=True)
    assert ladders.GroundedCholesky(Mh, ladders.Ladders(p, Mh), p.E).band == 1


def test_grounded_cholesky_solves_the_grounded_system():
    p = _problem("modes:40-60", 8)
    Mh = sp.csr_matrix(p.m_matrix(scaled=True))
    chol = ladders.GroundedCholesky(Mh, ladders.Ladders(p, Mh), p.E).factorise()
    B = Mh[chol.order][:, chol.order]
    b = np.random.default_rng(1).standard_normal(chol.order.size)
    x = chol.solve(b)
    assert np.linalg.norm(B @ x - b) <= 1e-10 * np.linalg.norm(b)
    np.testing.assert_allclose(chol.upper(chol.lower(b)), x, rtol=1e-12)


@pytest.mark.parametrize("spec, refine", [("modes:40-60", 4), ("einstein", 2)])
def test_standard_form_matches_the_mumps_pencil(monkeypatch, spec, refine):
    p = _problem(spec, refine)
    banded = st.slow_modes(p, 3, negative=False)
    monkeypatch.setattr(matrix_free, "BAND_MAX", -1)  # every band too wide: the MUMPS-deflated GHEP
    mumps = st.slow_modes(p, 3, negative=False)
    assert banded["n_zero_gamma"] == mumps["n_zero_gamma"] > 0
    np.testing.assert_allclose(banded["gamma_positive"], mumps["gamma_positive"], rtol=1e-10)
    # the eigenvectors solve the pencil gamma A phi = M phi
    Ad, Md = p.ahat_dense() / np.outer(p.s, p.s), p.m_sparse().toarray()
    for g, v in zip(banded["gamma_positive"], banded["vectors_positive"].T):
        assert np.linalg.norm(Md @ v - g * Ad @ v) <= 1e-9 * np.linalg.norm(Md @ v)
