"""Eq. (15) of seed 000 in the engines: e-e collisions in the kinetic DAE (PETSc TS) and in the linear
problem (SLEPc, matrix-free M^ee), against the dense references and the seed's theorems."""

import csv
import json

import numpy as np
import pytest

from ephkin.pde.electron_electron import gaussian_p
from ephkin.pde.spectra import parse_spectrum
from ephkin.solvers import api
from ephkin.solvers.cli import main
from ephkin.solvers.stability import gamma_dense, make_problem, slow_modes

STABLE = dict(spectrum="einstein", lam=1.0, T0=0.2, T_in=0.22, units="plain")


def test_two_temperature_limit():
    # a_ee >> a_ep: f stays a Fermi function at T_eff(t), which obeys Eq. (16); the gap closes ~ 1/a_ee
    gaps = {}
    for a in (10.0, 1000.0):
        r = api.evolve(t_end=2.0, a_ee=a, diagnostics=False, **STABLE)
        assert r["status"] == "stable" and r["a_ee"] == a and r["a_ep"] == 1.0
        assert r["particle_number_drift"] < 1e-12 and r["energy_balance_error"] < 2e-3
        assert len(r.history["T_eff"]) == len(r.history["t"])
        assert "gamma_min_positive" not in r and "diagnostics_seconds" not in r
        gaps[a] = r["two_temp_gap_max"]
    assert gaps[1000.0] < 0.02 and gaps[1000.0] < gaps[10.0] / 5


def test_no_ee_means_no_t_eff_history():
    r = api.evolve(t_end=0.5, **STABLE)
    assert r["a_ee"] == 0.0 and "T_eff" not in r.history and "two_temp_gap_max" not in r
    assert abs(r["T_eff_final"] - 0.2) < 0.02  # the final T_eff is always reported


@pytest.mark.parametrize("lam", [1.0, 5.0])
def test_matrix_free_ee_slow_modes_equal_dense(lam):
    p = make_problem(parse_spectrum("modes:40-60"), lam, 0.2, cutoff=5.0, a_ee=1.0, p_ee=gaussian_p(0.3))
    sm = slow_modes(p, 3)
    g = gamma_dense(p)
    assert np.allclose(sm["gamma_positive"], np.sort(g[g > 0])[:3], rtol=1e-7)
    assert np.allclose(sm["gamma_negative"], np.sort(g[g < 0])[::-1][:3], rtol=1e-7)


def test_theorem_inertia_unchanged_while_gamma_moves():
    # M = M^ep + a_ee M^ee stays positive (semi)definite, so by Sylvester the number of unstable modes is
    # that of A alone: a_ee moves the gamma, never the count (seed 000, below Eq. (15))
    runs = [api.stability("modes:40-60", 5.0, 0.2, nev=3, a_ee=a) for a in (0.0, 1.0, 100.0)]
    assert {r["n_negative"] for r in runs} == {63}
    assert all(r["n_negative_method"].startswith("inertia") for r in runs)
    slow = [r["gamma_min_positive"] for r in runs]
    assert len({round(x, 6) for x in slow}) == 3


def test_cli_evolve_with_ee_writes_t_eff(tmp_path, capsys):
    out = tmp_path / "ee"
    assert main(["evolve", "--spectrum", "einstein", "--lam", "1", "--units", "plain", "--T0", "0.2", "--T-in", "0.22",
                 "--t-end", "0.5", "--a-ee", "50", "--p-ee", "constant:1.0", "--no-diagnostics", "--json", "-o",
                 str(out)]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["p_ee"].startswith("constant_p") and r["T_eff_final"] > 0.2
    rows = list(csv.DictReader(l for l in open(out / "history.csv") if not l.startswith("#")))
    assert "T_eff" in rows[0] and float(rows[-1]["T_eff"]) == pytest.approx(r["T_eff_final"], rel=1e-6)
    assert (out / "T_eff.png").exists()


@pytest.mark.parametrize("argv, words", [(["--a-ee", "-1"], "--a-ee"),
                                         (["--a-ee", "1", "--p-ee", "lorentz:1"], "--p-ee"),
                                         (["--a-ep", "-2"], "--a-ep")])
def test_cli_ee_bad_input(capsys, argv, words):
    base = ["evolve", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2", "--T-in", "0.21", "--t-end", "0.1"]
    assert main(base + argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err
