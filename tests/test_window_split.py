"""Issue 26: the quasi-definite window split of A_hat (solvers/stability/window.py, docs/theory.md §3): the count
|N| + n_negative(S) with S on a band of |M| points, far fewer than the window's |W|, equals the dense inertia; its
memory is known from the diagonal alone and a refusal builds nothing."""

import numpy as np
import pytest

from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers import stability as st
from ephkin.solvers.stability import window as win

MODES = parse_spectrum("modes:40-60")


@pytest.fixture(scope="module")
def unstable():
    p = st.make_problem(MODES, 5.0, 0.2, refine=2)
    return p, st.AhatWindow(p, plain_max=0.0)  # the quasi-definite split (the default takes it above |W| = 4000)


def test_quasi_definite_split_is_certified_and_counts_the_dense_inertia(unstable):
    p, w = unstable
    A = p.ahat_dense()
    assert w.delta == win.WINDOW_DELTA and w.N.size > 0
    # the Schur complement lives on a band: a small fraction of the window (refine 2: 27 of 231 points)
    assert 0 < w.M.size < w.W.size // 4
    assert set(w.M) | set(w.X) == set(range(p.grid.L)) and not set(w.M) & set(w.X)
    # the certificates, checked densely: A_NN negative and A_PP positive definite with their margins
    P = np.setdiff1d(w.X, w.N)
    assert np.linalg.eigvalsh(A[np.ix_(w.N, w.N)])[-1] == pytest.approx(w.lambda_max_N, abs=1e-6)
    assert np.linalg.eigvalsh(A[np.ix_(P, P)])[0] == pytest.approx(w.lambda_min_P, abs=1e-6)
    assert w.lambda_max_N < -win.WINDOW_MARGIN and w.lambda_min_P > win.WINDOW_MARGIN
    assert w.n_negative == int(np.sum(np.linalg.eigvalsh(A) < 0)) == 125 and w.certified()
    # S is the Schur complement of the dense A_hat (to the MINRES residuals)
    X, M = w.X, w.M
    S = A[np.ix_(M, M)] - A[np.ix_(M, X)] @ np.linalg.solve(A[np.ix_(X, X)], A[np.ix_(X, M)])
    assert w.N.size + int(np.sum(np.linalg.eigvalsh(S) < 0)) == w.n_negative
    b = np.random.default_rng(7).standard_normal(p.grid.L)
    assert np.linalg.norm(A @ w.solve(b) - b) <= 1e-10 * np.linalg.norm(b)


def test_plain_split_is_the_fallback_and_agrees(unstable):
    """delta None, or a small window (the default at this L): no core (the window split of issue 24, S on all of
    W): the same count, a larger S."""
    p, w = unstable
    plain = st.AhatWindow(p, lu=False, delta=None)
    assert st.AhatWindow(p, lu=False).delta is None
    assert plain.N.size == 0 and plain.M.size == plain.W.size > w.M.size
    assert plain.n_negative == w.n_negative and plain.certified()


def test_core_not_definite_widens_the_band(monkeypatch):
    """A band too narrow for A_NN to be negative definite (delta 1e-4 at refine 2: lambda_max(A_NN) > 0) is
    doubled until it is."""
    p = st.make_problem(MODES, 5.0, 0.2, refine=2)
    w = st.AhatWindow(p, lu=False, delta=1e-4, max_doublings=12, plain_max=0.0)
    assert w.delta > 1e-4 and w.lambda_max_N < -win.WINDOW_MARGIN
    assert w.n_negative == 125


def test_memory_from_the_diagonal_and_refusal_before_work(monkeypatch):
    """The estimate needs the diagonal only; with a budget below it nothing is built (no Schur complement, no
    block below the window) and ``need`` says how much."""
    p = st.make_problem(MODES, 5.0, 0.2, refine=64)  # L = 50 928: nothing is built here but the diagonal
    s = win.window_split(p.ahat_diagonal())
    fits, need = win.window_fits(p)  # the quasi-definite split: the plain one's S would take 16 |W|^2 = 0.9 GB
    assert 16.0 * s.W.size**2 > win.WINDOW_PLAIN_MAX
    assert need == win.window_memory(p.grid.L, s.M.size, s.below.size, kept=win._kept_y(p.grid.L, s.M.size))
    # the split's S is ~100x smaller than the plain window's: 16 |M|^2 against 16 |W|^2
    assert 16.0 * s.W.size**2 > 50 * 16.0 * s.M.size**2
    assert need < 0.5 * win.window_memory(p.grid.L, s.W.size, s.below.size)

    def boom(*a, **k):
        raise AssertionError("large work before the refusal")

    monkeypatch.setattr(win.AhatWindow, "_schur", boom)
    monkeypatch.setattr(win.AhatWindow, "_below_block", boom)
    monkeypatch.setattr(win.AhatWindow, "_choose_split", _cheap_split)
    w = win.AhatWindow(p, budget=0.0)
    assert not w.fits and w.need > 0 and w.n_negative is None


def _cheap_split(self, tau, delta, max_doublings):
    """The split without its SLEPc certificates (the refusal test checks only what is built after it)."""
    s = win.window_split(self.d, tau, delta)
    self.tau, self.delta = tau, delta
    self.W, self.N, self.M, self.X, self.below = s.W, s.N, s.M, s.X, s.below
    self.lambda_min_P, self.lambda_max_N, self.lambda_min_OO = 1.0, -1.0, 1.0
