"""The gamma spectrum of Eq. (14) at scale: matrix-free A_hat (FFT shell), sparse M_hat, no dense A_hat
above DENSE_MAX; dense and matrix-free agree where both run; ladder null modes as gamma = 0."""

import numpy as np
import pytest

from ephkin.pde.errors import InputError
from ephkin.pde.linearized import LinearizedProblem
from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers import stability as st

MODES = parse_spectrum("modes:40-60")


@pytest.mark.parametrize("spec, lam, refine", [("modes:40-60", 1.0, 1), ("modes:40-60", 5.0, 1),
                                               ("modes:40-60", 1.0, 4), ("einstein", 1.0, 1), ("einstein", 3.0, 1)])
def test_slow_modes_match_dense(spec, lam, refine):
    p = st.make_problem(parse_spectrum(spec), lam, 0.2, refine=refine)
    sm = st.slow_modes(p, 3)
    ref = st.gamma_dense(p)
    n_null = int(np.sum(np.abs(ref) < 1e-9))
    assert sm["n_zero_gamma"] == n_null == st.m_null_space(p).shape[1]
    pos, neg = np.sort(ref[ref > 1e-9])[:3], np.sort(ref[ref < -1e-9])[::-1][:3]
    np.testing.assert_allclose(sm["gamma_positive"], pos, rtol=1e-7)
    np.testing.assert_allclose(sm["gamma_negative"], neg, rtol=1e-7)
    # eigenvectors solve the pencil gamma A phi = M phi
    Ad, Md = p.ahat_dense() / np.outer(p.s, p.s), p.m_sparse().toarray()
    for g, v in zip(sm["gamma_positive"], sm["vectors_positive"].T):
        assert np.linalg.norm(Md @ v - g * Ad @ v) <= 1e-6 * np.linalg.norm(Md @ v)


def test_summary_counts_and_slicing_agree():
    p = st.make_problem(MODES, 5.0, 0.2)
    s = st.stability_summary(p, nev=4)
    ref = st.gamma_dense(p)
    assert s["unstable"] and s["n_negative"] == s["n_negative_slepc"] == int(np.sum(ref < 0))
    assert s["n_negative_method"] == "inertia" and s["inertia_backend"] == "scipy-ldl"


def test_no_dense_ahat_above_reference_size(monkeypatch):
    orig = LinearizedProblem.ahat_dense

    def guarded(self):
        if self.grid.L > st.DENSE_MAX:
            raise AssertionError(f"ahat_dense called at L = {self.grid.L}")
        return orig(self)

    monkeypatch.setattr(LinearizedProblem, "ahat_dense", guarded)
    monkeypatch.setattr(st.window, "WINDOW_MEM_MAX", 0.0)  # force the labelled count (window split refused)
    p = st.make_problem(MODES, 5.0, 0.2, refine=4)
    assert p.grid.L > st.DENSE_MAX
    s = st.stability_summary(p, nev=2)
    assert s["unstable"] and len(s["gamma_negative"]) == 2 and s["gamma_min_positive"] > 0
    assert s["n_negative"] is None and s["n_negative_method"].startswith("lower-bound")
    assert s["n_negative_found"] == 2


def test_memory_check_names_parameter(monkeypatch):
    monkeypatch.setattr(st.common, "available_memory", lambda: 2**20)  # the memory check of slow_modes
    p = st.make_problem(MODES, 1.0, 0.2)
    with pytest.raises(InputError) as e:
        st.slow_modes(p, 4)
    assert e.value.param == "nev" and "MemAvailable" in str(e.value)


def test_a_ladder_cluster_beyond_the_basis_limit_is_refused_unless_the_user_chooses_the_basis(monkeypatch, capsys):
    """--nev > 1 on a commensurate grid asks Krylov-Schur for about one gamma per ladder (Einstein at refine 125:
    6249 ladders, a 6285-vector basis, 11 GB and an hour): refused with the estimate (exit 2, naming --nev) above
    NCV_CLUSTER_MAX, here lowered so that Einstein at refine 2 (99 ladders) crosses it; -stab_eps_ncv, the user's
    own basis, is obeyed (one iteration allowed: SLEPc's own failure, exit 4, not the refusal)."""
    import json

    import ephkin.solvers.stability.matrix_free as mf
    from ephkin.solvers.cli import main

    monkeypatch.setattr(mf, "NCV_CLUSTER_MAX", 100)
    argv = ["stability", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2", "--refine", "2", "--json"]
    assert main(argv + ["--nev", "4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("ephkin stability: error: --nev 4") and "99 ladders" in err and "-stab_eps_ncv" in err
    assert main(argv + ["--nev", "1"]) == 0  # the slowest mode needs no room for the cluster
    assert json.loads(capsys.readouterr().out)["n_zero_gamma"] == 99
    assert main(argv + ["--nev", "4", "-stab_eps_ncv", "40", "-stab_eps_max_it", "1"]) == 4
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "solver_failed" and out["solver_reason"] == "DIVERGED_ITS"
