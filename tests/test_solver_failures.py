"""Issue 23: a solver failure is its own outcome (status solver_failed, PETSc's reason by name, exit 4), never
physics; a PETSc option that cannot work for the problem is bad input (exit 2); the physical instability stays
status unstable with exit 0."""

import json
import os
import subprocess
import sys

from ephkin.solvers.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: the cheap Fig. 1(b)-like problem of tests/test_cli.py: lambda = 2.169 > lambda_c, unstable at t ~ 2e-4
FIG1B = ["evolve", "--spectrum", "einstein", "--lam", "2.169", "--T0", "0.20", "--T-in", "0.202", "--t-end", "2",
         "--grid-step", "0.0135800", "--rtol", "1e-3", "--atol", "1e-6"]


def run(capsys, *argv):
    """(exit status, the one JSON object on stdout or None, stderr)."""
    code = main(list(argv))
    cap = capsys.readouterr()
    if not cap.out:
        return code, None, cap.err
    assert cap.out.count("\n") == 1, cap.out  # one JSON object, nothing else on stdout
    return code, json.loads(cap.out), cap.err


def test_explicit_ts_is_a_solver_failure_exit_4():
    # the case: was status "unstable", reason "TS failed: PETSc error 75", exit 0
    argv = ["evolve", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2", "--T-in", "0.22", "--t-end", "5",
            "-kin_ts_type", "rk", "--json"]
    p = subprocess.run([sys.executable, "-m", "ephkin.solvers.cli", *argv], capture_output=True, text=True,
                       cwd=ROOT, timeout=300)
    assert p.returncode == 4, p.stderr
    assert p.stdout.count("\n") == 1
    r = json.loads(p.stdout)
    assert r["status"] == "solver_failed" and "t_instability" not in r and "growth_energies" not in r
    assert r["solver_reason"].startswith("PETSc error 75: ") and "explicit" in r["solver_reason"]
    assert "rk is explicit" in r["message"] and "-kin_ts_type" in r["message"] and "\n" not in r["message"]


def test_diverged_newton_is_named(capsys):
    # a solver that ran and gave up (every linear solve capped at one iteration): the TS reason by name
    code, r, _ = run(capsys, "evolve", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2", "--T-in", "0.22",
                     "--t-end", "5", "--json", "-kin_ksp_max_it", "1")
    assert code == 4 and r["status"] == "solver_failed"
    assert r["solver_reason"] == "DIVERGED_NONLINEAR_SOLVE" and "DIVERGED_LINEAR_SOLVE" in r["message"]


def test_physical_instability_stays_unstable(capsys):
    code, r, _ = run(capsys, *FIG1B, "--json")
    assert code == 0 and r["status"] == "unstable" and "solver_reason" not in r
    assert "collapsed" in r["reason"] and all(0.88 <= e <= 1.36 for e in r["growth_energies"])


def test_sweep_records_solver_failures_as_failed_points(capsys, tmp_path):
    # [petsc] applies to every point: one Newton failure is allowed none.  lambda = 1 relaxes without any;
    # lambda = 2.169 (unstable with the defaults) now stops in the solver: a failed point, not an instability
    f = tmp_path / "run.toml"
    f.write_text('model = "evolve"\n[parameters]\nspectrum = "einstein"\nT0 = 0.2\nT_in = 0.202\nt_end = 2.0\n'
                 'grid_step = 0.01358\nrtol = 1e-3\natol = 1e-6\ndiagnostics = false\n[sweep]\nlam = [1.0, 2.169]\n'
                 '[petsc]\nkin_ts_max_snes_failures = 1\n')
    out = tmp_path / "out"
    code, s, _ = run(capsys, "sweep", str(f), "-o", str(out), "--json")
    assert code == 3
    assert s["ok"] == 1 and [x["index"] for x in s["failed"]] == [1]
    assert "solver_failed" in s["failed"][0]["error"] and "DIVERGED_NONLINEAR_SOLVE" in s["failed"][0]["error"]
    ok, failed = (json.loads((out / "points" / f"{i:05d}.json").read_text()) for i in (0, 1))
    assert ok["status"] == "ok" and ok["result"]["status"] == "stable"
    assert failed["status"] == "failed" and failed["result"]["status"] == "solver_failed"
    assert "unstable" not in (out / "results.csv").read_text()


def test_run_file_with_a_failing_solver_exits_4(capsys, tmp_path):
    f = tmp_path / "one.toml"
    f.write_text('model = "evolve"\n[parameters]\nspectrum = "einstein"\nlam = 1.0\nT0 = 0.2\nT_in = 0.22\n'
                 't_end = 1.0\ngrid_step = 0.025\n[petsc]\nkin_ts_type = "rk"\n')
    code, r, _ = run(capsys, "run", str(f), "--json", "-o", str(tmp_path / "out"))  # never the checkout's out/
    assert code == 4 and r["status"] == "solver_failed" and r["solver_reason"].startswith("PETSc error 75")


def test_incompatible_eigensolver_is_bad_input(capsys):
    # lobpcg needs ST precond (SLEPc error 56 in EPSSetUp): was "internal error ... please report it", exit 1.  The
    # slow modes of a comb are a standard problem (no ST of ours), where lobpcg picks its own ST: asked for shift
    code, r, err = run(capsys, "stability", "--spectrum", "modes:40-60", "--lam", "1", "--T0", "0.2", "--refine", "8",
                       "--solver", "slepc", "-stab_eps_type", "lobpcg", "-stab_st_type", "shift")
    assert code == 2 and r is None
    assert err.count("\n") == 1 and "-stab_eps_type lobpcg" in err and "ST=PRECOND" in err
    assert "internal error" not in err and "drop it" in err


def test_eps_short_of_pairs_is_a_solver_failure(capsys):
    # one restart of a small basis: no pair converges; was a silently short (empty) list, status stable
    code, r, _ = run(capsys, "stability", "--spectrum", "modes:40-60", "--lam", "1", "--T0", "0.2", "--refine", "8",
                     "--solver", "slepc", "--json", "-stab_eps_max_it", "1", "-stab_eps_ncv", "13")
    assert code == 4 and r["status"] == "solver_failed" and r["solver_reason"] == "DIVERGED_ITS"
    assert "-stab_eps_max_it" in r["message"]


def test_nac_ts_and_avalanche_snes_failures(capsys):
    code, r, _ = run(capsys, "nac", "sigma", "--mu", "0", "--omega-p", "0.5", "--zeta", "20", "--t-end", "10",
                     "--json", "-nac_snes_max_it", "1", "-nac_ts_max_snes_failures", "1")
    assert code == 4 and r["status"] == "solver_failed" and r["solver_reason"] == "DIVERGED_NONLINEAR_SOLVE"
    code, r, _ = run(capsys, "avalanche", "lattice", "--gamma", "0.005", "--g-ep", "0.3", "--omega0", "0.3",
                     "--delta", "1", "--E", "0.01", "--n-omega", "8192", "--solver", "snes", "--json",
                     "-aval_snes_max_it", "2")
    assert code == 4 and r["status"] == "solver_failed" and r["solver_reason"] == "DIVERGED_MAX_IT"
    assert r["converged"] is False


def test_failed_target_solve_with_output_dir_is_a_status_not_a_crash(capsys, tmp_path):
    # stability --target -o DIR whose shift-and-invert solve stops early used to crash writing gamma.csv from the
    # missing residuals ("internal error: TypeError"); it is the solver's status, exit 4, and summary.json
    code, r, err = run(capsys, "stability", "--spectrum", "modes:40-60", "--lam", "1", "--T0", "0.2", "--refine", "4",
                       "--target", "-100", "-o", str(tmp_path / "out"), "--json", "-stab_eps_max_it", "2")
    assert code == 4 and r["status"] == "solver_failed" and "internal error" not in err
    assert (tmp_path / "out" / "summary.json").exists() and not (tmp_path / "out" / "gamma.csv").exists()


def test_sigterm_inside_a_slepc_solve_is_interrupted_not_an_internal_error(tmp_path):
    """SIGTERM (a batch system's time limit) while SLEPc iterates: the KeyboardInterrupt leaves the EPS mid-operation,
    and destroying it failed with PETSc error 58 ("Need to call MatDenseRestoreSubMatrix() first"), which replaced
    the interruption: "internal error ... please report it", exit 1.  Now "interrupted", exit 130, one line."""
    import signal
    import time

    err = tmp_path / "err.txt"
    argv = ["stability", "--spectrum", "modes:40-60", "--lam", "1", "--T0", "0.2", "--refine", "128", "--nev", "4",
            "--json"]
    with open(err, "w") as fe:
        proc = subprocess.Popen([sys.executable, "-m", "ephkin.solvers.cli"] + argv, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=fe, text=True)
        try:
            deadline = time.time() + 120
            # the slow modes' own monitor line: the signal lands inside their Krylov-Schur iterations
            while time.time() < deadline and "SLEPc stab_: iteration" not in err.read_text():
                assert proc.poll() is None, err.read_text()
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    text = err.read_text()
    assert proc.returncode == 130, text
    assert text.strip().splitlines()[-1] == "ephkin stability: interrupted", text
    assert "internal error" not in text and "Segmentation" not in text and out == ""
