"""Run files and sweeps (issue 5): validation before computing, per-point output, failures, resume."""

import csv
import json
import os

import pytest

from ephkin.pde.errors import InputError
from ephkin.solvers.cli import load_runfile, main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(tmp_path, text, name="run.toml"):
    f = tmp_path / name
    f.write_text(text)
    return str(f)


EVOLVE = '''model = "evolve"
[parameters]
spectrum = "einstein"
lam = 1.0
T0 = 0.2
grid_step = 0.025
{fixed}
[sweep]
{axis}
'''

GOOD = '''model = "lambda-c"
[parameters]
spectrum = "einstein"
[sweep]
T0 = [0.18, 0.20, 0.22]
'''


@pytest.mark.parametrize("text, words", [
    ("model = 'lambda-c'\nfoo = 1\n", "unknown key 'foo'"),
    ("model = 'nonsense'\n", "model must be one of"),
    ("model = 'lambda-c'\n[parameters]\nspectrum='einstein'\n[sweep]\nT0 = []\n", "sweep.T0 is an empty axis"),
    ("model = 'lambda-c'\n[parameters]\nspectrum='einstein'\n[sweep]\nT0 = {range = [1, 2]}\n", "sweep.T0"),
    ("model = 'lambda-c'\n[parameters]\nspectrum='einstein'\nTzero = 0.2\n", "unknown parameter 'Tzero'"),
    ("model = 'lambda-c'\n[parameters]\nspectrum='einstein'\nT0 = 'warm'\n", "--T0"),
    ("model = 'lambda-c'\n[parameters]\nT0 = 0.2\n", "--spectrum"),
    ("model = 'lambda-c\n", "not valid TOML"),
    (GOOD + "[plot]\nx = 'T0'\n", "[plot] needs x"),
    (GOOD + "[plot]\nx = 'temperature'\ny = ['lambda_c']\n", "plot.x = 'temperature' is not a parameter"),
    (GOOD + "[plot]\nx = 'T0'\ny = ['lambda_c']\ncolour = 'red'\n", "plot.colour: unknown key"),
])
def test_bad_run_files_one_line_before_computing(tmp_path, capsys, text, words):
    path = write(tmp_path, text)
    assert main(["sweep", path, "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and path in err
    assert not (tmp_path / "o" / "points").exists()  # nothing was computed


def test_axes_range_logrange_zip(tmp_path):
    spec = load_runfile(write(tmp_path, '''model = "zinv"
[parameters]
spectrum = "einstein"
[sweep]
combine = "zip"
T0 = {range = [0.1, 0.3, 3]}
lam = {logrange = [1.0, 100.0, 3]}
'''))
    assert [p["T0"] for p in spec["points"]] == pytest.approx([0.1, 0.2, 0.3])
    assert [p["lam"] for p in spec["points"]] == pytest.approx([1.0, 10.0, 100.0])
    with pytest.raises(InputError, match="unreadable|cannot read"):
        load_runfile(str(tmp_path / "missing.toml"))


def test_sweep_failed_point_recorded_and_resume(tmp_path, capsys):
    # point 1's spectrum file is readable (it passes validation) but holds no table: it fails when it runs
    a2f = tmp_path / "a2f.dat"
    a2f.write_text("# empty\n")
    path = write(tmp_path, f'model = "lambda-c"\n[parameters]\nT0 = 0.2\n[sweep]\n'
                           f'spectrum = ["einstein", "file:{a2f}", "einstein"]\n')
    out = tmp_path / "sw"
    assert main(["sweep", path, "-o", str(out), "--json"]) == 3  # finished with failed points
    s = json.loads(capsys.readouterr().out)
    assert s["ok"] == 2 and len(s["failed"]) == 1 and s["failed"][0]["index"] == 1
    assert "no numeric rows" in s["failed"][0]["error"]
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"]
    assert float(rows[0]["lambda_c"]) == pytest.approx(1.0, abs=0.5) and rows[1]["error"]
    assert len(os.listdir(out / "points")) == 3
    # resume: nothing recomputed, same table
    assert main(["sweep", path, "-o", str(out), "--resume", "--json"]) == 3
    s2 = json.loads(capsys.readouterr().out)
    assert s2["computed_this_run"] == 0 and s2["skipped_as_finished"] == 3
    # a partially finished sweep (one point file removed) recomputes only that point
    os.remove(out / "points" / "00002.json")
    assert main(["sweep", path, "-o", str(out), "--resume", "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["computed_this_run"] == 1
    # without --resume a sweep into the same directory starts afresh
    assert main(["sweep", path, "-o", str(out), "--json"]) == 3
    s3 = json.loads(capsys.readouterr().out)
    assert s3["computed_this_run"] == 3 and s3["skipped_as_finished"] == 0


def test_run_single_job_and_set(tmp_path, capsys):
    path = write(tmp_path, 'model = "lambda-c"\n[parameters]\nspectrum = "einstein"\nT0 = 0.18\n')
    r = None
    assert main(["run", path, "--set", "T0=0.20", "-o", str(tmp_path / "r"), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert round(r["lambda_c"], 4) == 1.2716 and r["parameters"]["T0"] == 0.20
    assert "provenance" in json.loads((tmp_path / "r" / "summary.json").read_text())
    assert main(["run", write(tmp_path, GOOD, "s.toml")]) == 2  # three points: use sweep
    assert "use 'ephkin sweep" in capsys.readouterr().err


def test_shipped_run_files_validate():
    for name in sorted(os.listdir(os.path.join(ROOT, "runs"))):
        if name.endswith(".toml"):
            spec = load_runfile(os.path.join(ROOT, "runs", name))
            from ephkin.solvers.cli import point_solver as _point_solver

            _point_solver(spec, name)  # every point parses


def test_killed_sweep_resumes_without_recomputing(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    path = write(tmp_path, EVOLVE.format(fixed="T_in = 0.202",
                                         axis="t_end = [2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0]"))
    out = tmp_path / "k"
    proc = subprocess.Popen([sys.executable, "-m", "ephkin.solvers.cli", "sweep", path, "-o", str(out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while (time.time() < deadline
           and len(list((out / "points").glob("[0-9]*.json")) if (out / "points").exists() else []) < 2):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    done = sorted(p.name for p in (out / "points").glob("[0-9]*.json"))
    assert 2 <= len(done) < 8 and proc.returncode != 0
    mtimes = {p.name: p.stat().st_mtime_ns for p in (out / "points").glob("[0-9]*.json")}
    r = subprocess.run([sys.executable, "-m", "ephkin.solvers.cli", "sweep", path, "-o", str(out), "--resume",
                        "--json"], cwd=ROOT, capture_output=True, text=True)
    s = json.loads(r.stdout)
    assert s["ok"] == 8 and s["skipped_as_finished"] == len(done) and s["computed_this_run"] == 8 - len(done)
    assert all((out / "points" / n).stat().st_mtime_ns == m for n, m in mtimes.items())  # untouched


def test_converge_command(capsys):
    path = os.path.join(ROOT, "runs", "lambda_c_convergence.toml")
    assert main(["converge", path, "--param", "refine", "--levels", "3", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert [lv["refine"] for lv in r["levels"]] == [1, 2, 4]
    assert 0.7 < r["observed_order"] < 1.3  # dropped-pole principal value: first order
    assert r["richardson"] == pytest.approx(1.556993, abs=2e-5)
    assert main(["converge", path, "--param", "cutoff"]) == 2


def test_sweep_fields_per_point(tmp_path, capsys):
    path = write(tmp_path, EVOLVE.format(fixed="t_end = 2.0", axis="T_in = [0.202, 0.204]"))
    out = tmp_path / "f"
    assert main(["sweep", path, "-o", str(out), "--fields"]) == 0
    capsys.readouterr()
    for i in (0, 1):
        d = out / "fields" / f"{i:05d}"
        assert (d / "f_E_t.xdmf").exists() and (d / "f_E_t.png").exists() and (d / "summary.json").exists()


def test_sweep_plot_and_model_status_column(tmp_path, capsys):
    # [plot] draws the results table; a model's own "status" (two-temp: runaway) does not clobber the
    # sweep's status column, it becomes result.status
    text = ('model = "two-temp"\n[parameters]\nspectrum = "einstein"\nlam = 4.5\nunits = "plain"\nT0 = 0.5\n'
            '[sweep]\nT_in = [0.495, 0.505]\n[plot]\nx = "T_in"\ny = ["T_final"]\n')
    out = tmp_path / "o"
    assert main(["sweep", write(tmp_path, text), "-o", str(out)]) == 0
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [r["status"] for r in rows] == ["ok", "ok"] and [r["result.status"] for r in rows] == ["runaway"] * 2
    # C_el < 0 at T0 = 0.5: T runs to T_- = 0.390 from below, to T_+ = 0.666 from above (seed 000 Fig. 3)
    assert [round(float(r["T_final"]), 2) for r in rows] == [0.39, 0.67]
    summ = json.loads((out / "summary.json").read_text())
    assert summ["plot"].endswith("sweep.png") and (out / "sweep.png").stat().st_size > 10000
