"""`ephkin avalanche` (seed 003): the JSON contract, the two backends of the lattice solver, errors."""

import json

import pytest

from ephkin.solvers.cli import main

KEYS = {"beta", "beta_c", "x0", "E_av", "E_av_upper", "E_av_asymptotic", "T_star"}


def run_json(capsys, *argv):
    assert main(list(argv) + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_criterion_contract(capsys):
    r = run_json(capsys, "avalanche", "criterion", "--mass", "0.5", "--g-ep", "0.1", "--gamma", "0.002",
                 "--omega0", "0.3")
    assert KEYS <= set(r) and "reason" not in r
    assert round(r["beta_c"], 3) == 8.574 and round(r["x0"], 6) == 0.595047  # Eq. (14), seed's digits
    assert 0 < r["E_av"] < r["E_av_asymptotic"] < r["E_av_upper"]
    below = run_json(capsys, "avalanche", "criterion", "--g-ep", "0.04", "--gamma", "0.002", "--omega0", "0.3")
    assert below["beta"] < below["beta_c"] and below["E_av"] is None and "beta_c" in below["reason"]


def test_curve_a6_a7_agree_in_the_avalanche_window(capsys, tmp_path):
    r = run_json(capsys, "avalanche", "curve", "--g-ep", "0.1", "--gamma", "0.002", "--omega0", "0.3",
                 "--E-range", "5e-4", "3e-2", "12", "-o", str(tmp_path))
    assert r["max_rel_diff_a7_a6_in_window"] < 0.08  # Fig. 6: (A6) within a few % of (A7) where lambda >= 1
    assert (tmp_path / "lambda.png").exists() and (tmp_path / "lambda.csv").exists()


def test_lattice_contract_and_backends_agree(capsys, tmp_path):
    base = ["avalanche", "lattice", "--gamma", "0.005", "--g-ep", "0.3", "--omega0", "0.3", "--delta", "1",
            "--E", "0.01", "--n-omega", "8192"]
    a = run_json(capsys, *base, "-o", str(tmp_path))
    assert {"n_ex", "current", "converged", "residual"} <= set(a)
    assert a["converged"] and a["residual"] < 1e-8 and abs(a["current_left"] / a["current"] - 1) < 1e-9
    assert "divides E" in a["grid_note"]  # the step was adjusted to divide E, and said so
    s = run_json(capsys, *base, "--solver", "snes")
    assert s["converged"] and abs(s["n_ex"] / a["n_ex"] - 1) < 1e-8 and abs(s["current"] / a["current"] - 1) < 1e-7
    assert (tmp_path / "spectra.png").exists()


@pytest.mark.parametrize("argv, words", [
    (["criterion", "--g-ep", "0.1", "--gamma", "0", "--omega0", "0.3"], "gamma must be > 0"),
    (["criterion", "--g-ep", "0.1", "--gamma", "0.002", "--omega0", "-0.3"], "omega0 must be > 0"),
    (["criterion", "--mass", "0", "--g-ep", "0.1", "--gamma", "0.002", "--omega0", "0.3"], "mass must be > 0"),
    (["lattice", "--g-ep", "0.3", "--gamma", "-0.005", "--omega0", "0.3", "--E", "0.01"], "gamma"),
    (["lattice", "--g-ep", "0.3", "--gamma", "0.005", "--omega0", "0", "--E", "0.01"], "omega0"),
])
def test_bad_input_one_line(capsys, argv, words):
    assert main(["avalanche"] + argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err


def test_replica_lattice_criterion_beside_eq11(capsys):
    # the lattice replica ratio (Gamma-damped propagators) crosses 1 near the analytic E_av
    r = run_json(capsys, "avalanche", "replica", "--gamma", "0.005", "--g-ep", "0.3", "--omega0", "0.3",
                 "--E-range", "2e-4", "0.01", "8")
    assert 0.6 < r["ratio_lattice_over_analytic"] < 1.2
    assert min(r["scan"]["lambda_lat"]) < 1 < max(r["scan"]["lambda_lat"])
