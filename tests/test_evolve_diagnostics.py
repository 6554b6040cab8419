"""evolve's linear comparison with e-e collisions costs less than the run (issue 24): the dense M^ee by BLAS
against the loop of its definition, and the preconditioner of B = M^ep + a_ee M^ee bounded in a_ee."""

import time

import numpy as np
import pytest
import scipy.sparse.linalg as spla

from ephkin.pde.electron_electron import constant_p, gaussian_p, m_ee_folded, m_ee_full, power_law_p
from ephkin.pde.grids import FoldedGrid
from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers.stability import make_problem


@pytest.mark.parametrize("P", [gaussian_p(0.3), power_law_p(1), constant_p(0.5)], ids=["gauss", "d1", "const"])
@pytest.mark.parametrize("m_max", [None, 13])
def test_m_ee_folded_is_the_folded_loop(P, m_max):
    L, eps, T = 60, 0.02, 0.2
    E = eps * np.arange(-L, L + 1)
    Mf = m_ee_full(E, T, P, 2 * L if m_max is None else m_max)
    pos, neg = np.arange(L + 1, 2 * L + 1), np.arange(L - 1, -1, -1)
    ref = Mf[np.ix_(pos, pos)] - Mf[np.ix_(pos, neg)]
    for block in (256, 7):  # several blocks of lags sum to the same
        M = m_ee_folded(FoldedGrid(eps, L), T, P, m_max=m_max, block=block)
        assert np.max(np.abs(M - ref)) < 1e-13 * np.abs(ref).max()


def test_m_ee_folded_is_fast_at_the_docs_point():
    """L = 800 with every lag: the loop took 95 s (evolve --a-ee 200 spent it in its diagnostics); BLAS ~1 s."""
    t = time.perf_counter()
    m_ee_folded(FoldedGrid(0.01, 800), 0.2, gaussian_p(0.3))
    assert time.perf_counter() - t < 20.0


def _cg_iterations(problem, B, pc):
    from ephkin.solvers.stability.matrix_free import _MatrixFreeB

    L = problem.grid.L
    ctx = _MatrixFreeB(problem)
    M = spla.LinearOperator((L, L), matvec=ctx.precondition if pc else ctx._base, dtype=float)
    b = np.random.default_rng(3).standard_normal(L)
    its = [0]

    def count(_):
        its[0] += 1

    x, info = spla.cg(B, b, M=M, tol=1e-10, atol=0.0, maxiter=2000, callback=count)
    assert info == 0
    assert np.linalg.norm(B @ x - b) <= 1e-9 * np.linalg.norm(b)
    return its[0]


def test_b_preconditioner_bounded_in_a_ee():
    """The temperature mode (the null vector of M^ee, Eq. (S24)) deflated: CG's count stays bounded as a_ee grows
    by 10^6, and below that of the base preconditioner alone (M^ep + a_ee diag M^ee).  B is the dense M_hat here:
    the FFT product's round-off, amplified by the scaling s ~ exp(E/2T0) at the cutoff, is not what is tested."""
    counts, base = [], []
    for a_ee in (1.0, 1e2, 1e4, 1e6):
        p = make_problem(parse_spectrum("einstein"), 1.0, 0.2, "plain", "exact", 1, 0.02, None, a_ee=a_ee,
                         p_ee=gaussian_p(0.3))
        B = p.m_matrix(scaled=True)
        B = 0.5 * (B + B.T)
        counts.append(_cg_iterations(p, B, True))
        base.append(_cg_iterations(p, B, False))
    assert max(counts) <= 24, counts
    assert base[-1] >= counts[-1] + 3, (base, counts)


def test_the_dense_prediction_says_so_on_stderr():
    """A phase that lasts says what it does (solvers.progress; EPHKIN_PROGRESS_EVERY=0 prints it at once)."""
    import os
    import subprocess
    import sys

    p = subprocess.run(
        [sys.executable, "-m", "ephkin.solvers.cli", "evolve", "--spectrum", "einstein", "--units", "plain",
         "--T0", "0.2", "--T-in", "0.22", "--t-end", "0.5", "--a-ee", "10", "--grid-step", "0.04", "--json"],
        capture_output=True, text=True, env=dict(os.environ, EPHKIN_PROGRESS_EVERY="0"),
    )
    assert p.returncode == 0, p.stderr
    assert "evolve: the dense modal prediction of Eq. (13) (M with M^ee assembled, one eigh, L = 200)" in p.stderr
    assert "diagnostics_seconds" in p.stdout


def test_no_linear_comparison_for_another_a_ep():
    """The linear problem is built for a_ep = 1: with another a_ep its gammas are not the run's, so the comparison
    is skipped with the reason instead of reporting wrong rates."""
    from ephkin.solvers import api

    r = api.evolve("einstein", 1.0, 0.2, 0.21, 1.0, a_ep=0.5, grid_step=0.05, cutoff=6)
    d = r.to_dict()
    assert "a_ep = 0.5" in d["diagnostics_skipped"] and "gamma_min_positive" not in d
    d1 = api.evolve("einstein", 1.0, 0.2, 0.21, 1.0, grid_step=0.05, cutoff=6).to_dict()
    assert "diagnostics_skipped" not in d1 and d1["gamma_min_positive"] > 0
