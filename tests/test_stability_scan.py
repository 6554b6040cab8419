"""gamma(lambda) of Eq. (14) (seed 000 Fig. 2, ``ephkin stability --lam-scan``): gamma_dense's one symmetric
eigvalsh per lambda (banded Cholesky of M_hat) against an independent dense reference, and the ladder null
modes of M (docs/theory.md §5) as gamma = 0, never as spurious huge gamma."""

import numpy as np
import pytest
import scipy.sparse as sp

from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers import stability as st
from ephkin.solvers.cli import main

# (spectrum, lambda, grid keywords, ladder null modes of M): small grids, stable and unstable
CASES = [
    ("modes:40-60", 1.0, dict(cutoff=5.0), 0),
    ("modes:40-60", 2.0, dict(cutoff=5.0), 0),  # above lambda_c: negative gamma and the poles of Fig. 2
    ("einstein", 1.0, dict(cutoff=5.0, grid_step=0.05), 9),  # commensurate grid: ladder null modes
    ("einstein", 2.0, dict(cutoff=5.0, grid_step=0.05), 0),  # omega/eps not an integer: none
    ("einstein", 2.0, dict(cutoff=5.0, grid_step=2**-0.5 / 15), 7),  # commensurate again, and unstable
]


def reference(p):
    """Every gamma of M x = gamma A x as the eigenvalues of A_hat^-1 M_hat (LU + nonsymmetric QR, no
    Cholesky, no QZ): 0 for each null vector of M_hat, ascending."""
    return np.sort(np.linalg.eigvals(np.linalg.solve(p.ahat_dense(), p.m_sparse(scaled=True).toarray())).real)


def scan_row(g, nev):
    """What --lam-scan writes at one lambda: the nev nonzero gamma nearest 0, then the two largest |gamma|."""
    g = g[np.abs(g) > 1e-9 * np.abs(g).max()]
    order = np.argsort(np.abs(g))
    return np.concatenate([g[order[:nev]], g[order[-2:]]])


@pytest.mark.parametrize("spec, lam, grid, n_null", CASES)
def test_gamma_dense_matches_reference(spec, lam, grid, n_null):
    p = st.make_problem(parse_spectrum(spec), lam, 0.2, **grid)
    g, ref = st.gamma_dense(p), reference(p)
    assert st.m_null_space(p).shape[1] == n_null and st.m_definite(p.m_matrix(scaled=True)) == (n_null == 0)
    scale = np.abs(ref).max()
    assert np.sum(np.abs(g) <= 1e-9 * scale) == np.sum(np.abs(ref) <= 1e-9 * scale) == n_null
    np.testing.assert_allclose(g, ref, rtol=1e-8, atol=1e-9 * scale)
    if lam == 2.0:
        assert np.sum(g < 0) > 0


def test_m_definite_is_the_null_space_threshold():
    # M_hat shifted so that its smallest eigenvalue sits just above / below NULL_TOL dmax (or at 0):
    # the shifted Cholesky, banded (sparse M_hat) and dense, sees which, as m_null_space's eigenvalues do
    p = st.make_problem(parse_spectrum("modes:40-60"), 1.0, 0.2, cutoff=5.0)
    Mh = p.m_matrix(scaled=True)
    w0 = np.linalg.eigvalsh(Mh.toarray())[0]
    for w, definite in ((2.0, True), (0.5, False), (0.0, False)):
        Mw = (Mh + (w * st.NULL_TOL * Mh.diagonal().max() - w0) * sp.identity(Mh.shape[0])).tocsr()
        assert st.m_definite(Mw) == st.m_definite(Mw.toarray()) == definite


def test_lam_scan_cli_against_reference(tmp_path):
    # einstein on grid_step 0.05: lambda = 1 has 9 ladder null modes (stable), lambda = 2 none (unstable)
    grid = dict(cutoff=5.0, grid_step=0.05)
    out = tmp_path / "scan"
    assert main(["stability", "--spectrum", "einstein", "--T0", "0.2", "--cutoff", "5", "--grid-step", "0.05",
                 "--nev", "3", "--lam-scan", "1", "2", "2", "-o", str(out), "--json"]) == 0
    rows = (out / "gamma_scan.csv").read_text().splitlines()[1:]
    assert len(rows) == 2
    for row in rows:
        lam, gam = row.split(",")
        lam, gam = float(lam), np.array([float(x) for x in gam.split()])
        want = scan_row(reference(st.make_problem(parse_spectrum("einstein"), lam, 0.2, **grid)), 3)
        np.testing.assert_allclose(gam, want, rtol=1e-8)
        assert np.abs(gam).max() < 1e3  # no spurious huge gamma from the null modes of M


def test_lam_scan_keeps_the_e_e_collisions(tmp_path):
    # --a-ee enters the scan's problems as it enters the main result (M = M^ep + a_ee M^ee, Eq. (15))
    for a_ee in ("0", "0.5"):
        out = tmp_path / f"ee{a_ee}"
        args = ["stability", "--spectrum", "modes:40-60", "--T0", "0.2", "--lam", "1.2", "--cutoff", "5",
                "--a-ee", a_ee, "--lam-scan", "1.2", "1.3", "2", "-o", str(out)]
        assert main(args) == 0
        main_gamma = float((out / "gamma.csv").read_text().splitlines()[1].split(",")[0])  # gamma,residual
        row = (out / "gamma_scan.csv").read_text().splitlines()[1].split(",")
        assert float(row[0]) == 1.2 and float(row[1].split()[0]) == pytest.approx(main_gamma, rel=1e-9)


@pytest.mark.parametrize("lam", [1.0, 5.0])
def test_dense_summary_equals_the_slepc_summary(lam):
    # one dense eigh (the stability command's "auto" at small L) against the matrix-free SLEPc engine
    p = st.make_problem(parse_spectrum("modes:40-60"), lam, 0.2)
    d, s = st.dense_summary(p, nev=4), st.stability_summary(p, nev=4)
    assert (d["eigen_solver"], s["eigen_solver"]) == ("dense", "slepc")
    for key in ("gamma", "gamma_negative"):
        np.testing.assert_allclose(d[key], s[key], rtol=1e-9)
    assert d["n_negative"] == d["n_negative_dense"] == s["n_negative"] == s["n_negative_slepc"]
    assert d["gamma_min_positive"] == pytest.approx(s["gamma_min_positive"], rel=1e-9)
    assert d["mu_min_ahat"] == pytest.approx(s["mu_min_ahat"], abs=1e-10)
    np.testing.assert_allclose(d["eigenvector_gammas"], s["eigenvector_gammas"], rtol=1e-9)
    # eigenvectors (max-normalised) up to sign
    for u, v in zip(d["eigenvectors"].T, s["eigenvectors"].T):
        assert min(np.max(np.abs(u - v)), np.max(np.abs(u + v))) < 1e-5  # SLEPc tolerance, close gammas


def test_stability_solver_choice():
    from ephkin.pde.errors import InputError
    from ephkin.solvers import api

    assert api.stability("modes:40-60", 1.0, 0.2, nev=2)["eigen_solver"] == "dense"
    assert api.stability("modes:40-60", 1.0, 0.2, nev=2, solver="slepc")["eigen_solver"] == "slepc"
    # ladder null modes (Einstein, commensurate grid) or e-e collisions: SLEPc, and "dense" is refused
    assert api.stability("einstein", 1.0, 0.2, nev=2, grid_step=0.05, cutoff=5.0)["eigen_solver"] == "slepc"
    assert api.stability("modes:40-60", 1.0, 0.2, nev=2, a_ee=0.5, p_ee="gaussian:0.3")["eigen_solver"] == "slepc"
    with pytest.raises(InputError):
        api.stability("einstein", 1.0, 0.2, nev=2, solver="dense", grid_step=0.05, cutoff=5.0)
