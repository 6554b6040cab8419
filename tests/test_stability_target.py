"""``ephkin stability --target`` and the residual of every reported eigenpair (issue 23): the nev gamma nearest
a target on the dense and the SLEPc path against a dense reference (scipy ``eigh`` of the pencil), for targets
of either sign, in the bulk and in the pole region; a target inside the continuous spectrum of a continuous
alpha^2F said so; the backward error of each pair, tiny on both paths and large for a perturbed pair."""

import json

import numpy as np
import pytest
import scipy.linalg as sla

from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers import stability as st
from ephkin.solvers.cli import main

NEV = 3


def reference(p):
    """Every (gamma, phi) of gamma A phi = M phi by scipy's generalized eigh of (A_hat, M_hat) (M_hat > 0 here):
    gamma = 1/mu, phi = S x."""
    Mh = p.m_matrix(scaled=True)
    mu, X = sla.eigh(np.array(p.ahat_dense()), Mh.toarray() if hasattr(Mh, "toarray") else Mh)
    return 1.0 / mu, X * p.s[:, None]


def nearest(g, target, k=NEV):
    return g[np.argsort(np.abs(g - target), kind="stable")[:k]]


@pytest.fixture(scope="module", params=[1.0, 2.0], ids=["stable", "unstable"])
def case(request):
    # lambda = 2 is above lambda_c: negative gamma, and the poles of Fig. 2 (largest |gamma|) on both sides
    p = st.make_problem(parse_spectrum("modes:40-60"), request.param, 0.2, cutoff=5.0)
    return p, reference(p)[0]


def targets(g):
    """Targets in the bulk, negative, near 0, in the pole region (near the largest |gamma| of either sign)."""
    s = np.sort(g)
    out = [0.0142, -0.05, 0.3 * s[s.size // 2] + 0.7 * s[s.size // 2 + 1], 0.99 * s[-1]]  # no ties
    if s[0] < 0:
        out += [0.99 * s[0], 0.5 * s[s < 0][-1]]
    return out


@pytest.mark.parametrize("path", ["dense", "slepc"])
def test_gamma_nearest_the_target_on_both_paths(case, path):
    p, g = case
    summary = st.dense_summary if path == "dense" else st.stability_summary
    tol = 1e-10 if path == "dense" else st.RESIDUAL_TOL
    for target in targets(g):
        s = summary(p, NEV, target, counts=False)
        want = nearest(g, target)
        np.testing.assert_allclose(s["gamma"], want, rtol=1e-9, err_msg=f"{path}, target {target}")
        assert s["gamma_near_target"] == s["gamma"]
        assert len(s["gamma_residual"]) == NEV and max(s["gamma_residual"]) < tol, (target, s["gamma_residual"])
        assert s["gamma_flagged"] == []


def test_no_target_and_target_zero_are_the_gamma_nearest_zero(case):
    p, g = case
    want = nearest(g, 0.0)
    for target in (None, 0.0):
        for summary in (st.dense_summary, st.stability_summary):
            s = summary(p, NEV, target, counts=False)
            np.testing.assert_allclose(s["gamma"], want, rtol=1e-9)
            assert max(s["gamma_residual"]) < st.RESIDUAL_TOL
            assert ("gamma_near_target" in s) == (target is not None)


def test_residuals_with_ladder_null_modes():
    # refine 4: M has ladder null modes, deflated on the SLEPc path (no dense summary); the residual is that of
    # the original pencil, computed from the returned phi, not of the deflated one
    p = st.make_problem(parse_spectrum("modes:40-60"), 1.0, 0.2, refine=4, cutoff=5.0)
    assert st.dense_refusal(p) is not None
    for target in (None, 0.0142):
        s = st.stability_summary(p, NEV, target, counts=False)
        assert s["n_zero_gamma"] > 0 and len(s["gamma"]) == NEV and all(abs(x) > 1e-6 for x in s["gamma"])
        assert max(s["gamma_residual"]) < st.RESIDUAL_TOL and s["gamma_flagged"] == []


def test_a_perturbed_pair_has_a_large_residual():
    p = st.make_problem(parse_spectrum("modes:40-60"), 1.0, 0.2, cutoff=5.0)
    g, Phi = reference(p)
    idx = np.argsort(np.abs(g))[:NEV]
    g, Phi = g[idx], Phi[:, idx]
    assert st.eigen_residuals(p, g, Phi).max() < 1e-12
    rng = np.random.default_rng(1)
    bad = Phi * (1.0 + 1e-4 * rng.standard_normal(Phi.shape))  # a relative 1e-4 perturbation of phi
    r = st.eigen_residuals(p, g, bad)
    assert r.min() > 1e-6 and st.flagged(g, r) == g.tolist()
    r = st.eigen_residuals(p, g * (1.0 + 1e-5), Phi)  # a wrong gamma with its vector
    assert r.min() > 1e-8 and len(st.flagged(g, r, tol=1e-9)) == NEV


def test_pencil_norms_estimate_the_2_norms():
    p = st.make_problem(parse_spectrum("modes:40-60"), 2.0, 0.2, cutoff=5.0)
    nm, na = st.pencil_norms(p)
    Mh = p.m_matrix(scaled=True).toarray()
    for est, exact in ((nm, np.linalg.norm(Mh, 2)), (na, np.linalg.norm(p.ahat_dense(), 2))):
        assert 0.9 * exact < est <= exact * (1 + 1e-12)  # a lower bound, within a few per cent


def test_slepc_compute_error_agrees(case):
    # SLEPc's own backward error (EPS.computeError, BACKWARD: infinity norms) of the shift-and-invert solve
    # (gamma_spectrum's set-up) is below the tolerance too, as is ours from the returned vectors
    from ephkin.solvers.bridge import aij, destroy
    from ephkin.solvers.eps import create_eps, eigenpairs
    from ephkin.solvers.petsc_env import init_petsc

    _, SLEPc = init_petsc()
    p, g = case
    target = 0.99 * np.max(g)  # the pole region
    Am = Mm = eps = None
    try:
        Am, Mm = aij(p.ahat_dense(), drop=1e-300), aij(p.m_matrix(scaled=True))
        eps = create_eps(Mm, Am, prefix="test_target_", problem_type="GNHEP", eps_type="krylovschur",
                         which="TARGET_MAGNITUDE", nev=NEV, target=target, tol=1e-12, st_type="sinvert",
                         pc_type="lu", mumps=True)
        eps.solve()
        n = min(NEV, eps.getConverged())
        slepc_err = [eps.computeError(i, SLEPc.EPS.ErrorType.BACKWARD) for i in range(n)]
        vals, vecs = eigenpairs(eps, n, scale=p.s)
    finally:
        destroy(eps, Am, Mm)
    assert n == NEV and max(slepc_err) < st.RESIDUAL_TOL
    assert st.eigen_residuals(p, vals, vecs).max() < st.RESIDUAL_TOL
    np.testing.assert_allclose(np.sort(vals), np.sort(nearest(g, target)), rtol=1e-9)


@pytest.mark.parametrize("spec", ["lorentz:1:0.05", "file:docs/examples/pb_model.a2f"])
def test_target_in_the_continuous_spectrum_is_said(spec):
    p = st.make_problem(parse_spectrum(spec), 1.0, 0.2, cutoff=5.0)
    g = reference(p)[0]
    edge = st.continuum_edges(p)[0]
    for summary in (st.dense_summary, st.stability_summary):
        inside = summary(p, NEV, 2.0 * edge, counts=False)
        np.testing.assert_allclose(inside["gamma"], nearest(g, 2.0 * edge), rtol=1e-9)
        assert inside["target_in_continuum"] is True and inside["gamma_in_continuum"] == [True] * NEV
        assert max(inside["gamma_residual"]) < st.RESIDUAL_TOL
        below = summary(p, NEV, 0.5 * edge, counts=False)  # below the edge: the nearest may still be samples
        np.testing.assert_allclose(below["gamma"], nearest(g, 0.5 * edge), rtol=1e-9)
        assert below["target_in_continuum"] is False
        assert below["gamma_in_continuum"] == [bool(x >= (1 - st.CONTINUUM_MARGIN) * edge) for x in below["gamma"]]
        assert "target_in_continuum" not in summary(p, NEV, counts=False)


def run_json(capsys, *argv):
    assert main(["stability", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("solver", ["dense", "slepc"])
def test_cli_target_changes_gamma(capsys, tmp_path, solver):
    # the command of issue 23: --target 0.0142 used to give the same gamma as without it
    base = ["--spectrum", "modes:40-60", "--lam", "1.0", "--T0", "0.2", "--nev", "3", "--solver", solver]
    plain = run_json(capsys, *base)
    out = tmp_path / solver
    r = run_json(capsys, *base, "--target", "0.0142", "-o", str(out))
    p = st.make_problem(parse_spectrum("modes:40-60"), 1.0, 0.2)
    g = reference(p)[0]
    np.testing.assert_allclose(plain["gamma"], nearest(g, 0.0), rtol=1e-9)
    np.testing.assert_allclose(r["gamma"], nearest(g, 0.0142), rtol=1e-9)
    assert r["gamma"] != plain["gamma"] and r["status"] == plain["status"] == "stable"
    assert max(r["gamma_residual"]) < st.RESIDUAL_TOL and r["gamma_flagged"] == []
    assert r["message"] == plain["message"]  # the physics verdict; nothing flagged, no continuum
    rows = [line.split(",") for line in (out / "gamma.csv").read_text().splitlines()]
    assert rows[0] == ["gamma", "residual"]
    np.testing.assert_allclose([[float(x) for x in row] for row in rows[1:]],
                               np.column_stack([r["gamma"], r["gamma_residual"]]), rtol=1e-12)


def test_a_loose_slepc_tolerance_is_flagged(capsys):
    # a real solve stopped early (-stab_eps_tol 1e-3): its pairs are flagged in gamma_flagged and the message,
    # and status stays the physics verdict
    r = run_json(capsys, "--spectrum", "modes:40-60", "--lam", "1.0", "--T0", "0.2", "--nev", "3", "--cutoff", "5",
                 "--target", "0.3", "-stab_eps_tol", "1e-3", "-stab_eps_ncv", "8")
    assert r["eigen_solver"] == "slepc" and r["status"] == "stable"
    bad = [g for g, res in zip(r["gamma"], r["gamma_residual"]) if res > st.RESIDUAL_TOL]
    assert bad and r["gamma_flagged"] == bad and "residual above" in r["message"]
