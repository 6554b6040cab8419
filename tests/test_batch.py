"""Sweeps and outputs to trust in batch jobs (issue 14): point identity on --resume, one writer per
output directory, exit status 3 for failed points, validation before anything runs, --retry-failed,
and evolve -o / nac evolve -o readable after a kill -9."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from test_sweep import EVOLVE as SWEEP_EVOLVE
from test_sweep import write

from ephkin.solvers.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = [sys.executable, "-m", "ephkin.solvers.cli"]

LAMBDA_C = '''model = "lambda-c"
[parameters]
spectrum = "einstein"
[sweep]
T0 = {T0}
'''

EVOLVE = SWEEP_EVOLVE.format(fixed="T_in = 0.202", axis="t_end = [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]")

GOOD_A2F = "0.5 0\n1.0 1\n1.5 0\n"


def rows(out):
    return list(csv.DictReader(open(os.path.join(out, "results.csv"))))


def wait_for(cond, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def npoints(out):
    d = os.path.join(out, "points")
    return len([f for f in os.listdir(d) if f.endswith(".json")]) if os.path.isdir(d) else 0


# 1. stale points ---------------------------------------------------------------------------------------------

def test_resume_reuses_only_identical_points(tmp_path, capsys):
    out = str(tmp_path / "o")
    path = write(tmp_path, LAMBDA_C.format(T0="{range = [0.18, 0.22, 3]}"))
    assert main(["sweep", path, "-o", out]) == 0
    rec = json.load(open(os.path.join(out, "points", "00000.json")))
    # the full resolved parameters, defaults included, and the code version
    assert rec["identity"]["T0"] == [0.18] and rec["identity"]["lam_max"] == 1e4 and rec["identity"]["method"] == "zinv"
    assert rec["code"]["ephkin"] and "git" in rec["code"]
    capsys.readouterr()
    # the run file's range is edited: --resume stops, naming the point and the first differing parameter
    write(tmp_path, LAMBDA_C.format(T0="{range = [0.18, 0.24, 3]}"))
    assert main(["sweep", path, "-o", out, "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "point 1" in err and "T0 = [0.2]" in err and "T0 = [0.21]" in err
    assert "--recompute-changed" in err and "1 more points differ" in err
    # a changed default (not a run-file key) is a different point too
    write(tmp_path, LAMBDA_C.format(T0="{range = [0.18, 0.22, 3]}"))
    assert main(["sweep", path, "-o", out, "--resume", "--set", "lam_max=100"]) == 2
    assert "point 0" in capsys.readouterr().err
    # --recompute-changed recomputes exactly the changed points; the table holds only the new values
    write(tmp_path, LAMBDA_C.format(T0="{range = [0.18, 0.24, 3]}"))
    assert main(["sweep", path, "-o", out, "--resume", "--recompute-changed", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["recomputed_changed"] == [1, 2] and s["skipped_as_finished"] == 1 and s["computed_this_run"] == 2
    assert [float(r["param.T0"]) for r in rows(out)] == pytest.approx([0.18, 0.21, 0.24])
    assert main(["sweep", path, "-o", out, "--resume", "--json"]) == 0  # now identical: nothing recomputed
    assert json.loads(capsys.readouterr().out)["computed_this_run"] == 0


# 2. two sweeps in one directory -------------------------------------------------------------------------------

def test_second_sweep_refused_while_the_first_runs(tmp_path):
    out = str(tmp_path / "o")
    path = write(tmp_path, EVOLVE)
    # a fine grid keeps the first sweep busy (~4 s) while the second one starts
    first = subprocess.Popen(CLI + ["sweep", path, "-o", out, "--set", "grid_step=0.0025"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: npoints(out) >= 1)
        before = sorted(os.listdir(os.path.join(out, "points")))
        second = subprocess.run(CLI + ["sweep", path, "-o", out, "--set", "grid_step=0.05"], cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 1 and second.stderr.count("\n") == 1  # the machine's refusal, not bad input
        assert f"pid={first.pid}" in second.stderr and "cannot write into -o" in second.stderr
        assert "locked by another ephkin job" in second.stderr
        assert set(before) <= set(os.listdir(os.path.join(out, "points")))  # nothing deleted
    finally:
        first.wait(timeout=120)
    assert first.returncode == 0
    recs = [json.load(open(os.path.join(out, "points", f"{i:05d}.json"))) for i in range(6)]
    assert {r["identity"]["grid_step"] for r in recs} == {0.0025}  # every point from the first sweep
    assert not os.path.exists(os.path.join(out, ".ephkin.lock"))  # released and removed by its holder


def test_lock_in_process_and_stale_lock_taken_over(tmp_path, capsys):
    from ephkin.solvers.dirlock import DirLock

    out = tmp_path / "o"
    path = write(tmp_path, LAMBDA_C.format(T0="[0.18, 0.2]"))
    assert main(["sweep", path, "-o", str(out)]) == 0
    capsys.readouterr()
    with DirLock(str(out)):  # another job holds the directory: refused before anything is deleted
        assert main(["sweep", path, "-o", str(out)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"pid={os.getpid()}" in err and "locked by" in err
        assert main(["sweep", path, "-o", str(out), "--points", "0:1"]) == 1  # an array job too
        capsys.readouterr()
    assert npoints(str(out)) == 2
    # a holder line left by a killed job (dead PID on this host) is reported and taken over
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    (out / ".ephkin.lock").write_text(f"host={socket.gethostname()} pid={dead.pid} started=x sweep\n")
    assert main(["sweep", path, "-o", str(out), "--resume"]) == 0
    assert f"taking over the lock of dead PID {dead.pid}" in capsys.readouterr().err
    # array jobs of one sweep share the directory
    with DirLock(str(out), shared=True):
        assert main(["sweep", path, "-o", str(out), "--points", "1:2", "--resume"]) == 0


MPIRUN = ["mpirun", "-n", "2", "--oversubscribe"]
MPI_ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


@pytest.mark.parametrize("launcher", [[], pytest.param(MPIRUN, marks=pytest.mark.slow)], ids=["serial", "mpirun"])
def test_kill9_sweep_then_resume_equals_clean_run(tmp_path, launcher):
    # kill -9 of the sweep (of mpirun: its ranks die with it), then --resume without any cleanup: the
    # dead holder's lock is taken over and the table equals a clean run's cell for cell
    import shutil

    if launcher and not shutil.which("mpirun"):
        pytest.skip("no mpirun")
    out = str(tmp_path / "k")
    path = write(tmp_path, EVOLVE)
    proc = subprocess.Popen(launcher + CLI + ["sweep", path, "-o", out], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=MPI_ENV)
    assert wait_for(lambda: npoints(out) >= 2)
    holder = open(os.path.join(out, ".ephkin.lock")).read().split()[1]  # pid=N of rank 0
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert wait_for(lambda: subprocess.run(["kill", "-0", holder[4:]], capture_output=True).returncode != 0, 30)
    assert 2 <= npoints(out) < 6
    r = subprocess.run(launcher + CLI + ["sweep", path, "-o", out, "--resume"], cwd=ROOT, capture_output=True,
                       text=True, env=MPI_ENV)
    assert r.returncode == 0 and f"taking over the lock of dead PID {holder[4:]}" in r.stderr
    clean = str(tmp_path / "clean")
    assert main(["sweep", path, "-o", clean]) == 0
    skip = {k for k in rows(clean)[0] if k == "rank" or k.endswith("seconds") or k.endswith("_s")}  # timings
    a, b = rows(out), rows(clean)
    assert len(a) == len(b) == 6
    for ra, rb in zip(a, b):
        ra, rb = ({k: v for k, v in r.items() if k not in skip} for r in (ra, rb))
        if not launcher:
            assert ra == rb  # cell for cell
        else:  # the points' SLEPc checks (gamma_min_positive) depend on the rank's solve history to ~1e-9
            assert ra.keys() == rb.keys()
            for k in ra:
                try:
                    assert float(ra[k]) == pytest.approx(float(rb[k]), rel=1e-7, abs=1e-12), k
                except ValueError:
                    assert ra[k] == rb[k], k


# 3. exit status, and 5. --retry-failed -------------------------------------------------------------------------

def test_failed_points_exit_3_and_retry_failed(tmp_path, capsys):
    a2f = tmp_path / "a2f.dat"
    a2f.write_text("# not yet computed\n")  # readable (validation passes), but no table: the point fails
    text = f'model = "zinv"\n[parameters]\nT0 = 0.2\n[sweep]\nspectrum = ["einstein", "file:{a2f}", "modes:40-60"]\n'
    path, out = write(tmp_path, text), str(tmp_path / "o")
    assert main(["sweep", path, "-o", out, "--json"]) == 3
    cap = capsys.readouterr()
    s = json.loads(cap.out)
    assert s["ok"] == 2 and [f["index"] for f in s["failed"]] == [1] and "no numeric rows" in s["failed"][0]["error"]
    assert "1 of 3 points failed" in cap.err and "exit status 3" in cap.err
    summ = json.load(open(os.path.join(out, "summary.json")))
    assert summ["ok"] == 2 and summ["failed"][0]["index"] == 1 and "exit_status" not in summ
    # the cause is fixed: --resume alone keeps the failed record, --retry-failed recomputes it
    a2f.write_text(GOOD_A2F)
    assert main(["sweep", path, "-o", out, "--resume", "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["computed_this_run"] == 0
    assert main(["sweep", path, "-o", out, "--retry-failed", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["retried_failed"] == [1] and s["computed_this_run"] == 1 and s["ok"] == 3 and s["failed"] == []
    assert [r["status"] for r in rows(out)] == ["ok"] * 3


def test_sweep_help_documents_exit_status(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "3 finished with failed points" in text and "--retry-failed" in text and "--recompute-changed" in text


# 4. validation before anything runs ---------------------------------------------------------------------------

@pytest.mark.parametrize("model, params, axis, words", [
    ("lambda-c", 'spectrum = "einstein"', "T0 = [0.2, -0.1]", ["point 1", "--T0 must be > 0 (got -0.1)"]),
    ("evolve", 'spectrum = "einstein"\nT0 = 0.2\nT_in = 0.202', "t_end = [1.0, 0.0]",
     ["point 1", "--t-end must be > 0"]),
    ("zinv", "T0 = 0.2", 'spectrum = ["einstein", "file:/no/such.dat"]', ["point 1", "cannot read the file"]),
    ("two-temp", 'spectrum = "einstein"\nlam = 4.5\nT0 = 0.5', "T_in = [0.5, -0.5]", ["point 1", "--T-in must be > 0"]),
    ("cel", 'spectrum = "einstein"', "lam = [4.5, -1.0]", ["point 1", "--lam must be > 0"]),
    ("stability", 'spectrum = "einstein"\nT0 = 0.2', "nev = [4, 0]", ["point 1", "--nev must be > 0"]),
    ("nac sigma", "zeta = 20", "omega_p = [0.5, -0.5]", ["point 1", "--omega-p must be > 0"]),
    ("nac evolve", "omega_p = 0.5", "tau_pulse = [0.3, 0.0]", ["point 1", "--tau-pulse must be > 0"]),
    ("avalanche criterion", "g_ep = 0.1\nomega0 = 0.3", "gamma = [0.002, -0.002]", ["point 1", "--gamma must be > 0"]),
    ("avalanche lattice", "g_ep = 0.1\nomega0 = 0.3\ngamma = 0.01", "E = [0.01, -0.01]",
     ["point 1", "--E must be >= 0"]),
])
def test_every_point_validated_before_anything_runs(tmp_path, capsys, model, params, axis, words):
    path = write(tmp_path, f'model = "{model}"\n[parameters]\n{params}\n[sweep]\n{axis}\n')
    assert main(["sweep", path, "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and all(w in err for w in words), err
    assert not (tmp_path / "o" / "points").exists()  # nothing computed, nothing created


def test_set_on_swept_key_and_petsc_table(tmp_path, capsys):
    path = write(tmp_path, LAMBDA_C.format(T0="[0.18, 0.2]"))
    assert main(["sweep", path, "-o", str(tmp_path / "o"), "--set", "T0=-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--set T0=-1: T0 is swept" in err
    # a typo in the run file's [petsc] table is reported exactly as on the command line, and the
    # table's options are removed from PETSc's database after the sweep
    text = (EVOLVE.replace("[2.0, 4.0, 6.0, 8.0, 10.0, 12.0]", "[1.0]")
            + "[petsc]\nkin_ts_typo = 1\nkin_ts_max_snes_failures = 60\n")
    assert main(["sweep", write(tmp_path, text, "p.toml"), "-o", str(tmp_path / "p")]) == 0
    from_file = [ln for ln in capsys.readouterr().err.splitlines() if "PETSc option" in ln]
    evolve = ["evolve", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2", "--T-in", "0.202", "--t-end", "1",
              "--grid-step", "0.025"]
    assert main(evolve + ["-kin_ts_typo", "1"]) == 0
    from_cli = [ln for ln in capsys.readouterr().err.splitlines() if "PETSc option" in ln]
    assert from_file == from_cli == ["ephkin: warning: PETSc option -kin_ts_typo was not used (unknown, or not under "
                                     "the prefixes -kin_ read by this command)"]
    from petsc4py import PETSc

    assert not PETSc.Options().hasName("kin_ts_typo") and not PETSc.Options().hasName("kin_ts_max_snes_failures")


def test_validate_hook_runs_on_the_command_line_too(capsys):
    assert main(["two-temp", "--spectrum", "einstein", "--T0", "0.5", "--T-in", "0.5", "--t-end", "-1"]) == 2
    assert "--t-end must be > 0" in capsys.readouterr().err


# 6. long runs survive kill -9 ---------------------------------------------------------------------------------

def _read_series(xdmf):
    import meshio

    with meshio.xdmf.TimeSeriesReader(xdmf) as r:
        points, _ = r.read_points_cells()
        steps = [r.read_data(k) for k in range(r.num_steps)]
    return points, steps


def _t_reached(out):
    """summary.json's t_reached while a run writes it (0 before the file exists)."""
    try:
        return float(json.load(open(out / "summary.json"))["t_reached"])
    except (OSError, ValueError, KeyError):
        return 0.0


@pytest.mark.parametrize("argv, csv_name", [
    # steps capped at 0.1: 4027 of them, long by its step count whatever the speed of the code (the default
    # steps take 1.9 s in all since the comb collisions became one stencil product)
    (["evolve", "--spectrum", "modes:40-60", "--lam", "1", "--T0", "0.2", "--T-in", "0.205", "--t-end", "400",
      "-kin_ts_adapt_dt_max", "0.1"], "history.csv"),
    (["nac", "evolve", "--filling", "0.3333333", "--omega-p", "0.6667", "--t-end", "60"], "transient.csv"),
])
def test_kill9_during_evolve_leaves_readable_output(tmp_path, argv, csv_name):
    out = tmp_path / "e"
    proc = subprocess.Popen(CLI + argv + ["-o", str(out), "--flush-every", "0.05"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    chunks = out / "f_E_t_h5"
    # the XDMF (replaced atomically after each closed chunk) lists at least 2 steps, while the run goes on (nac
    # evolve to t = 60 takes ~2 s on a quiet machine, in chunks of 0.05 s)
    xdmf = out / "f_E_t.xdmf"
    # ... and summary.json (rewritten on its own cadence) has recorded a step beyond t = 0
    assert wait_for(lambda: chunks.is_dir() and xdmf.is_file() and xdmf.read_text().count("<Time ") >= 2
                    and _t_reached(out) > 0)
    assert proc.poll() is None, "the run ended before it could be killed: make it longer"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    points, steps = _read_series(str(out / "f_E_t.xdmf"))  # meshio reads every step the XDMF references
    assert len(steps) >= 2 and all(f["f"].shape == (points.shape[0],) for _, f, _ in steps)
    times = [t for t, _, _ in steps]
    assert times == sorted(times)
    hist = list(csv.DictReader(l for l in open(out / csv_name) if not l.startswith("#")))
    assert len(hist) >= len(steps) and float(hist[-1]["t"]) >= times[-1]  # every step up to the kill
    summ = json.load(open(out / "summary.json"))
    assert summ["run_status"] == "running" and summ["pid"] == proc.pid and "interrupted" in summ["note"]
    assert 0 < summ["t_reached"] <= float(hist[-1]["t"])


def test_evolve_output_complete_after_a_normal_run(tmp_path, capsys):
    out = tmp_path / "e"
    assert main(["evolve", "--spectrum", "einstein", "--lam", "1", "--T0", "0.2", "--T-in", "0.202", "--t-end", "5",
                 "--grid-step", "0.025", "-o", str(out), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    summ = json.load(open(out / "summary.json"))
    assert r["run_status"] == summ["run_status"] == "finished" and summ["status"] == "stable"
    _, steps = _read_series(str(out / "f_E_t.xdmf"))
    hist = list(csv.DictReader(l for l in open(out / "history.csv") if not l.startswith("#")))
    assert len(steps) == len(hist) == r["steps"] + 1 and float(hist[-1]["t"]) == pytest.approx(5.0)
    assert float(hist[-1]["max_deviation"]) == pytest.approx(r["max_deviation"], rel=1e-12)
