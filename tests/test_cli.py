"""The ephkin command line: JSON contracts of issue 2, one-line errors, output files."""

import json
import os
import subprocess
import sys

import pytest

from ephkin.solvers.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_json(capsys, *argv):
    assert main(list(argv) + ["--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one JSON object, nothing else on stdout
    return json.loads(out)


def test_lambda_c_json_modes(capsys):
    r = run_json(capsys, "lambda-c", "--spectrum", "modes:40-60", "--T0", "0.180")
    assert r["lambda_c"] == pytest.approx(1.1333, rel=2e-4)
    assert r["units"] == "g" and r["E_min"] > 0
    assert r["lambda_c_cel"] > r["lambda_c"]


def test_lambda_c_json_einstein(capsys):
    r = run_json(capsys, "lambda-c", "--spectrum", "einstein", "--T0", "0.20")
    assert round(r["lambda_c"], 2) == 1.27 and round(r["E_min_over_omega"], 2) == 1.44
    assert r["E_min"] == pytest.approx(r["E_min_over_omega"] / r["lambda_c"] ** 0.5, rel=1e-12)


def test_lambda_c_several_T0(capsys):
    r = run_json(capsys, "lambda-c", "--spectrum", "einstein", "--T0", "0.18", "0.2")
    assert [row["T0"] for row in r["rows"]] == [0.18, 0.2]


def test_zinv_strong_coupling(capsys):
    # seed: 0.40 < E < 1.16; the exact Eq. (S38) gives 0.3898 < E < 1.1606 (see test_instability)
    r = run_json(capsys, "zinv", "--strong-coupling", "--T0", "0.1827")
    assert [round(x, 3) for x in r["negative_interval"]] == [0.390, 1.161]
    assert round(r["T0_max_negative_over_Tc"], 2) == 1.63
    r = run_json(capsys, "zinv", "--strong-coupling", "--T0", "0.5")
    assert r["negative_interval"] is None


def test_cel_einstein(capsys):
    r = run_json(capsys, "cel", "--spectrum", "einstein", "--lam", "4.5", "--units", "plain")
    assert round(r["T_minus"], 2) == 0.39 and round(r["T_plus"], 2) == 0.67
    assert round(r["lambda_min"], 2) == 3.69


def test_spectrum_and_transport(capsys):
    r = run_json(capsys, "spectrum", "--spectrum", "debye", "--lam", "1.0", "--units", "plain")
    assert r["lambda"] == pytest.approx(1.0) and r["Tc_allen_dynes"] > 0
    r = run_json(capsys, "transport", "--bloch-gruneisen", "1.0", "--lam", "0.5", "--T", "2", "5")
    assert len(r["rate"]) == 2 and r["rate"][1] > r["rate"][0]


@pytest.mark.parametrize("argv, word", [
    # the physics layer names the parameter (T0, lam); the command layer may map it to its flag
    (["lambda-c", "--spectrum", "einstein", "--T0", "-0.2"], "T0"),
    (["lambda-c", "--spectrum", "einstein", "--T0", "abc"], "--T0"),
    (["zinv", "--spectrum", "einstein", "--lam", "-1", "--T0", "0.2"], "lam"),
    (["lambda-c", "--spectrum", "phonons", "--T0", "0.2"], "spectrum"),
    (["lambda-c", "--spectrum", "file:/no/such/file", "--T0", "0.2"], "cannot read"),
    (["lambda-c", "--spectrum", "einstein", "--T0", "0.2", "--bogus"], "--bogus"),
    (["cel", "--spectrum", "einstein", "--T-range", "1", "0.5"], "T_lo"),
])
def test_bad_input_one_line_exit_2(capsys, argv, word):
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and word in err and "Traceback" not in err


def test_negative_spectrum_file_via_console_script(tmp_path):
    f = tmp_path / "neg.dat"
    f.write_text("0.1 0.1\n0.2 -0.3\n0.3 0.1\n")
    p = subprocess.run([sys.executable, "-m", "ephkin.solvers.cli", "lambda-c", "--spectrum", f"file:{f}",
                        "--T0", "0.1"], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and "negative" in p.stderr


def test_output_directory(tmp_path, capsys):
    out = tmp_path / "z"
    r = run_json(capsys, "zinv", "--spectrum", "einstein", "--lam", "2.169", "--T0", "0.2", "-o", str(out))
    s = json.loads((out / "summary.json").read_text())
    assert s["zeros"] == r["zeros"] and "versions" in s["provenance"] and "git" in s["provenance"]
    assert (out / "zinv.png").stat().st_size > 1000 and (out / "zinv.csv").exists()


def test_result_and_summary_report_one_rank(tmp_path, capsys):
    # without mpirun a command runs on one rank, and says so (mpirun -n K: tests/test_mpi.py)
    out = tmp_path / "z"
    r = run_json(capsys, "zinv", "--spectrum", "einstein", "--lam", "2.169", "--T0", "0.2", "-o", str(out))
    assert r["ranks"] == 1 and json.loads((out / "summary.json").read_text())["ranks"] == 1


def test_info(capsys):
    r = run_json(capsys, "info")
    for k in ("ephkin", "numpy", "scipy", "petsc", "slepc", "mpi4py", "mumps"):
        assert k in r
    assert r["petsc"] is not None and r["slepc"] is not None


def test_help_everywhere():
    for cmd in ([], ["info"], ["spectrum"], ["zinv"], ["lambda-c"], ["cel"], ["transport"], ["run"]):
        with pytest.raises(SystemExit) as e:
            main(cmd + ["--help"])
        assert e.value.code == 0


def test_lambda_c_linear_json_contract(capsys):
    r = run_json(capsys, "lambda-c", "--spectrum", "modes:40-60", "--T0", "0.180", "--method", "linear",
                 "--kernel", "paper")
    assert r["lambda_c"] == pytest.approx(1.1335, rel=2e-4)
    r = run_json(capsys, "lambda-c", "--spectrum", "modes:40-60", "--T0", "0.204", "--method", "linear")
    assert round(r["lambda_c"], 3) == 1.557
    for k in ("grid_step", "cutoff", "L", "kernel", "n_negative"):
        assert k in r
    assert r["kernel"] == "exact" and r["n_negative"] >= 1


def test_lambda_c_converge_prints_order(capsys):
    r = run_json(capsys, "lambda-c", "--spectrum", "modes:40-60", "--T0", "0.204", "--method", "linear",
                 "--converge", "3", "--pv", "dropped")
    assert len(r["levels"]) == 3 and 0.7 < r["observed_order"] < 1.3
    assert abs(r["richardson"] - r["lambda_c"]) == pytest.approx(r["error_bar"])
    s = run_json(capsys, "lambda-c", "--spectrum", "modes:40-60", "--T0", "0.204", "--method", "linear")
    assert s["pv"] == "subtracted" and s["lambda_c"] == pytest.approx(r["richardson"], rel=2e-5)


def test_stability_json_and_petsc_options(capsys, tmp_path):
    argv = ["stability", "--spectrum", "modes:40-60", "--T0", "0.20", "--lam", "5.0", "--nev", "6",
            "-o", str(tmp_path), "-stab_eps_tol", "1e-11", "-stab_no_such_option", "1"]
    assert main(argv + ["--json"]) == 0
    cap = capsys.readouterr()
    r = json.loads(cap.out)
    assert len(r["gamma"]) == 6 and r["n_negative"] > 0 and r["gamma_min_positive"] > 0
    assert r["n_positive"] + r["n_negative"] == r["L"]
    assert "-stab_no_such_option was not used" in cap.err and "-stab_eps_tol" not in cap.err
    assert (tmp_path / "eigenvectors.png").exists()


def test_petsc_options_refused_where_unused(capsys):
    try:
        code = main(["cel", "--spectrum", "einstein", "-stab_eps_nev", "3"])
    except SystemExit as e:
        code = e.code
    assert code == 2 and "takes no PETSc options" in capsys.readouterr().err


def test_evolve_cli(capsys, tmp_path):
    r = run_json(capsys, "evolve", "--spectrum", "einstein", "--lam", "2.169", "--T0", "0.20", "--T-in", "0.202",
                 "--t-end", "20", "--grid-step", "0.0135800", "--rtol", "1e-3", "--atol", "1e-6")
    assert r["status"] == "unstable" and "t_instability" in r and r["zinv_zeros"]
    assert all(0.88 <= e <= 1.36 for e in r["growth_energies"])
    r = run_json(capsys, "evolve", "--spectrum", "einstein", "--lam", "1.0", "--T0", "0.20", "--T-in", "0.202",
                 "--t-end", "5", "--grid-step", "0.025", "-o", str(tmp_path))
    assert r["status"] == "stable" and r["max_deviation"] < r["initial_deviation"]
    import meshio

    with meshio.xdmf.TimeSeriesReader(str(tmp_path / "f_E_t.xdmf")) as rd:
        points, _ = rd.read_points_cells()
        assert rd.num_steps > 5 and points.shape[0] == r["L"]
    assert (tmp_path / "f_E_t.png").exists()
    for bad, words in ((["--T-in", "-1"], ("T_in", "--T-in")), (["--t-end", "0"], ("--t-end",))):
        argv = ["evolve", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2", "--T-in", "0.202", "--t-end", "1"]
        argv = argv[:7] + bad + argv[9:] if bad[0] == "--T-in" else argv[:9] + bad
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert any(w in err for w in words)  # the parameter, or its flag once the command layer maps it


@pytest.mark.parametrize("env, threads", [({}, 1), ({"OPENBLAS_NUM_THREADS": "2"}, 2)])
def test_one_blas_thread_per_process_unless_the_user_chose(env, threads):
    code = ("import ctypes, ephkin.solvers.cli, numpy\n"
            "lib = [l.split()[-1] for l in open('/proc/self/maps') if 'openblas' in l or 'libblas' in l][0]\n"
            "f = getattr(ctypes.CDLL(lib), 'openblas_get_num_threads', None)\n"
            "print(f() if f else -1)\n")
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    r = subprocess.run([sys.executable, "-c", code], env=dict(clean, **env), capture_output=True, text=True)
    got = int(r.stdout.strip())
    if got == -1:
        pytest.skip("BLAS is not OpenBLAS")
    assert got == threads
