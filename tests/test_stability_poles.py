"""Issue 24: the poles of Fig. 2 (largest |gamma|) and the exact unstable-mode count at any L by the window split of
A_hat (solvers/stability/window.py, docs/theory.md §3): the same numbers as the dense path where both run."""

import json

import numpy as np
import pytest

from ephkin.pde.linearized import LinearizedProblem
from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers import stability as st
from ephkin.solvers.cli import main
from ephkin.solvers.stability import window as win

MODES = parse_spectrum("modes:40-60")


def _dense_count(p):
    return int(np.sum(np.linalg.eigvalsh(p.ahat_dense()) < 0))


@pytest.mark.parametrize("spec, lam, refine", [("modes:40-60", 5.0, 1), ("modes:40-60", 5.0, 2),
                                               ("modes:40-60", 2.0, 1), ("einstein", 3.0, 1)])
def test_window_count_is_the_dense_inertia(spec, lam, refine):
    p = st.make_problem(parse_spectrum(spec), lam, 0.2, refine=refine)
    w = st.AhatWindow(p)
    assert w.n_negative == _dense_count(p) > 0
    assert w.lambda_min_OO > win.WINDOW_MARGIN and w.certified()
    # A_hat^-1 by block elimination solves A_hat x = b
    b = np.random.default_rng(3).standard_normal(p.grid.L)
    x = w.solve(b)
    assert np.linalg.norm(p.ahat_dense() @ x - b) <= 1e-10 * np.linalg.norm(b)


def test_window_of_a_definite_ahat_counts_zero():
    p = st.make_problem(MODES, 1.0, 0.2)  # stable: Z0^-1 dips below WINDOW_TAU, not below 0
    w = st.AhatWindow(p)
    assert w.W.size > 0 and w.n_negative == 0 == _dense_count(p)
    b = np.random.default_rng(4).standard_normal(p.grid.L)
    assert np.linalg.norm(p.ahat_dense() @ w.solve(b) - b) <= 1e-10 * np.linalg.norm(b)


def test_sytrf_negatives_counts_two_by_two_blocks():
    rng = np.random.default_rng(5)
    for n in (1, 2, 7, 60):
        X = rng.standard_normal((n, n))
        S = X + X.T
        S[np.diag_indices(n)] *= 1e-3  # small pivots: Bunch-Kaufman takes 2x2 blocks
        ldu, ipiv, _ = __import__("scipy.linalg", fromlist=["lapack"]).lapack.dsytrf(S, lower=1)
        assert win.sytrf_negatives(ldu, ipiv) == int(np.sum(np.linalg.eigvalsh(S) < 0))
    assert np.any(ipiv < 0)


@pytest.mark.parametrize("spec, lam, refine", [("modes:40-60", 5.0, 1), ("modes:40-60", 5.0, 2),
                                               ("einstein", 3.0, 1)])
def test_poles_match_dense(spec, lam, refine):
    p = st.make_problem(parse_spectrum(spec), lam, 0.2, refine=refine)
    g, V = st.pole_gammas(p, 4, vectors=True)
    ref = st.nonzero_gammas(st.gamma_dense(p))
    ref = ref[np.argsort(-np.abs(ref))][:4]
    np.testing.assert_allclose(g, ref, rtol=1e-9)
    assert np.all(st.eigen_residuals(p, g, V) <= st.RESIDUAL_TOL)


def test_summary_above_dense_max_is_exact_and_agrees_with_dense(monkeypatch):
    """The window path (forced by a lower DENSE_MAX) gives the dense path's count and poles exactly."""
    p = st.make_problem(MODES, 5.0, 0.2, refine=2)
    ref = st.dense_summary(p, nev=2)
    for mod in (st.counting, st.summary):
        monkeypatch.setattr(mod, "DENSE_MAX", 500)
    s = st.stability_summary(p, nev=2)
    assert s["n_negative_method"] == "inertia" and s["inertia_backend"].startswith("window Schur complement")
    assert s["n_negative"] == ref["n_negative"] == ref["n_negative_dense"] == 125
    assert s["window"]["certified"] and s["window"]["n_window"] < p.grid.L // 4
    np.testing.assert_allclose(s["gamma_poles"], ref["gamma_poles"], rtol=1e-9)
    assert s["gamma_most_negative"] == pytest.approx(ref["gamma_most_negative"], rel=1e-9)
    assert ref["gamma_most_negative"] == pytest.approx(float(np.min(st.gamma_dense(p))), rel=1e-10)
    assert max(s["gamma_poles_residual"]) <= st.RESIDUAL_TOL and not s["gamma_flagged"]


def test_above_reference_size_without_dense_ahat(monkeypatch):
    orig = LinearizedProblem.ahat_dense

    def guarded(self, *a, **k):
        if self.grid.L > st.DENSE_MAX:
            raise AssertionError(f"ahat_dense called at L = {self.grid.L}")
        return orig(self, *a, **k)

    monkeypatch.setattr(LinearizedProblem, "ahat_dense", guarded)
    p = st.make_problem(MODES, 5.0, 0.2, refine=4)
    assert p.grid.L > st.DENSE_MAX
    s = st.stability_summary(p, nev=2)
    # refine 1, 2: 63, 125 (dense): one per grid point with Z0^-1 < 0
    assert s["n_negative"] == 250 and s["n_negative_method"] == "inertia"
    assert len(s["gamma_poles"]) == 4 and s["gamma_most_negative"] < -1000
    # beyond the memory budget: the labelled lower bound, with the memory the split would need
    monkeypatch.setattr(win, "WINDOW_MEM_MAX", 0.0)
    s = st.stability_summary(p, nev=2)
    assert s["n_negative"] is None and s["n_negative_method"].startswith("lower-bound")
    assert "GiB" in s["n_negative_method"] and s["n_negative_found"] == 2
    assert s.get("gamma_poles") is None and "GiB" in s["gamma_poles_note"]


def test_poles_flag(capsys):
    base = ["stability", "--spectrum", "modes:40-60", "--T0", "0.20", "--lam", "5.0", "--json"]
    for k in (0, 2):
        assert main(base + ["--poles", str(k)]) == 0
        r = json.loads(capsys.readouterr().out)
        assert len(r.get("gamma_poles") or []) == k
    assert r["gamma_poles"][1] == r["gamma_most_negative"] < -300
