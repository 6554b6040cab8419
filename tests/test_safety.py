"""Writes stay inside -o and only to names ephkin owns (issue 28): run-file output names are plain file names,
checked before any point runs; -o '' is refused."""

import os

import pytest
from test_batch import wait_for  # pytest puts tests/ on sys.path

from ephkin.solvers.cli import main

GOOD = """model = "lambda-c"
[parameters]
spectrum = "einstein"
[sweep]
T0 = [0.18, 0.20]
[plot]
x = "T0"
y = ["lambda_c"]
"""


@pytest.mark.parametrize(
    "name",
    [
        "../escape.png",
        "/tmp/escape.png",
        "sub/x.png",
        "nosuch/dir/x.png",
        "..",
        ".hidden.png",
        "x" * 300 + ".png",
        "a\x00b.png",
        "sweep.txt",
        "",
    ],
)
def test_plot_file_names_that_could_leave_o_are_refused_before_computing(tmp_path, capsys, name):
    run = tmp_path / "rf.toml"
    run.write_text(
        GOOD + f"file = {name!r}\n".replace("'", '"') if "\x00" not in name else GOOD + 'file = "a\\u0000b.png"\n'
    )
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        before = set(os.listdir(tmp_path))
        assert main(["sweep", str(run), "-o", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "plot.file" in err
        assert set(os.listdir(tmp_path)) == before  # nothing written anywhere, -o not even created
    finally:
        os.chdir(cwd)


def test_a_plain_plot_name_is_written_inside_o(tmp_path, capsys):
    run = tmp_path / "rf.toml"
    run.write_text(GOOD + 'file = "lc.pdf"\n')
    assert main(["sweep", str(run), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    assert (tmp_path / "out" / "lc.pdf").is_file()


def test_plot_y_must_name_columns(tmp_path, capsys):
    run = tmp_path / "rf.toml"
    run.write_text(GOOD.replace('y = ["lambda_c"]', "y = [1, 2]"))
    assert main(["sweep", str(run), "-o", str(tmp_path / "out")]) == 2
    assert "plot.y" in capsys.readouterr().err


@pytest.mark.parametrize(
    "cmd",
    [
        ["sweep", "RUN"],
        ["evolve", "--spectrum", "einstein", "--T0", "0.2", "--T-in", "0.21", "--t-end", "0.1"],
        ["spectrum", "--spectrum", "einstein"],
    ],
)
def test_empty_output_directory_is_refused(tmp_path, capsys, cmd):
    run = tmp_path / "rf.toml"
    run.write_text(GOOD)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        before = set(os.listdir(tmp_path))
        assert main([str(run) if c == "RUN" else c for c in cmd] + ["-o", ""]) == 2
        assert "-o ''" in capsys.readouterr().err
        assert set(os.listdir(tmp_path)) == before
    finally:
        os.chdir(cwd)


EVOLVE = [
    "evolve",
    "--spectrum",
    "einstein",
    "--T0",
    "0.2",
    "--T-in",
    "0.21",
    "--t-end",
    "0.2",
    "--grid-step",
    "0.05",
    "--cutoff",
    "6",
    "--quiet",
    "--json",
    "-o",
]


def test_no_symlink_target_is_written(tmp_path, capsys):
    """A link where ephkin writes a whole file (summary.json, a CSV, a figure) is replaced by the file, its target
    untouched; a link where it appends as it goes (history.csv) is refused with one "cannot write" line."""
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    out.mkdir()
    victim.write_text("precious\n")
    for name in ("summary.json", "f_E_t.png"):
        (out / name).symlink_to(victim)
    assert main(["spectrum", "--spectrum", "einstein", "--quiet", "-o", str(out)]) == 0
    assert victim.read_text() == "precious\n" and not (out / "summary.json").is_symlink()
    (out / "history.csv").symlink_to(victim)
    assert main(EVOLVE + [str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err and "symbolic link" in err and "internal" not in err
    assert victim.read_text() == "precious\n"
    assert not [f for f in os.listdir(out) if f.endswith(".tmp") or ".tmp." in f]  # no temporary file left


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_output_is_the_machine_not_a_bug(tmp_path, capsys):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert main(["spectrum", "--spectrum", "einstein", "--quiet", "-o", str(out)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot" in err and "please report" not in err
    finally:
        out.chmod(0o700)


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--T0", "1e308"], "--T0"),
        (["--T0", "1e-320"], "--T0"),
        (["--T0", "0.2", "--method", "linear", "--cutoff", "1e308"], "--cutoff"),
    ],
)
def test_numbers_outside_the_float_range_are_input_errors(capsys, args, flag):
    assert main(["lambda-c", "--spectrum", "einstein"] + args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ephkin lambda-c: error: {flag} ") and "internal" not in err


@pytest.mark.parametrize("steps", ["3", "-5"])
def test_an_early_stop_is_not_a_result(capsys, steps):
    code = main(
        [
            "evolve",
            "--spectrum",
            "einstein",
            "--lam",
            "1",
            "--T0",
            "0.2",
            "--T-in",
            "0.22",
            "--t-end",
            "1",
            "--quiet",
            "--json",
            "-kin_ts_max_steps",
            steps,
        ]
    )
    out = capsys.readouterr().out
    import json

    r = json.loads(out)
    assert code == 4 and r["status"] == "stopped_early" and r["t_final"] < 1 and "kin_ts_max_steps" in r["message"]


@pytest.mark.parametrize(
    "text, words",
    [
        ('model = "lambda-c"\nparameters = 5\n', "[parameters] must be a table"),
        (
            'model = "lambda-c"\n[parameters]\nspectrum = "einstein"\n[sweep]\nT0 = {range = [0.1, 0.3, 1000000000]}\n',
            "more than a sweep may have",
        ),
        (
            'model = "lambda-c"\n[parameters]\nspectrum = "einstein"\n[sweep]\nT0 = {range = [0.1, 0.3, 2000]}\n'
            "refine = {range = [1, 2000, 2000]}\n",
            "more than a sweep may have",
        ),
        (
            'model = "lambda-c"\n[parameters]\nspectrum = "einstein"\nT0 = 0.2\n[petsc]\nstab_eps_tol = [1, 2]\n',
            "petsc.stab_eps_tol",
        ),
        ('model = "lambda-c"\nx = ' + "[" * 5000 + "]" * 5000 + "\n", "run file"),
    ],
)
def test_run_files_that_are_not_run_files_are_refused_before_work(tmp_path, capsys, text, words):
    run = tmp_path / "rf.toml"
    run.write_text(text)
    assert main(["sweep", str(run), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "internal" not in err
    assert not (tmp_path / "out").exists()


def test_a_fifo_or_a_device_is_not_read_as_a_run_file(tmp_path, capsys):
    fifo = tmp_path / "rf.fifo"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero"):
        assert main(["run", path, "-o", str(tmp_path / "out")]) == 2  # returns at once: nothing is read
        assert "not a regular file" in capsys.readouterr().err


def test_a_fresh_sweep_removes_only_what_a_sweep_wrote(tmp_path, capsys):
    run = tmp_path / "rf.toml"
    run.write_text(GOOD)
    out = tmp_path / "out"
    assert main(["sweep", str(run), "-o", str(out), "--quiet"]) == 0
    mine = ["results_final_paper.xlsx", "results.txt", "points/notes.json", "points/1.json"]
    for name in mine:
        (out / name).write_text("the user's\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (out / "results.rank7.jsonl").symlink_to(victim)
    assert main(["sweep", str(run), "-o", str(out), "--quiet"]) == 0  # starts afresh
    for name in mine:
        assert (out / name).read_text() == "the user's\n", name
    assert victim.read_text() == "precious\n" and (out / "results.csv").is_file()


#: the coupling of every avalanche case below (the sizes are what the cases vary)
AVALANCHE_BASE = ["--gamma", "0.005", "--g-ep", "0.3", "--omega0", "0.3"]


@pytest.mark.parametrize(
    "argv, flag",
    [
        (
            ["avalanche", "lattice", *AVALANCHE_BASE,
                "--E",
                "0.1",
                "--n-omega",
                "1099511627776",
            ],
            "--n-omega",
        ),
        (["zinv", "--spectrum", "einstein", "--T0", "0.1", "--points", "1000000000000"], "--points"),
        (
            ["avalanche", "curve", *AVALANCHE_BASE,
                "--E-range",
                "0.001",
                "0.1",
                "1000000000",
            ],
            "--E-range",
        ),
        (["nac", "sigma", "--omega-p", "0.5", "--zeta", "inf", "--mu", "0", "--refine", "10000000"], "--refine"),
    ],
)
def test_sizes_beyond_the_machine_are_refused_with_the_estimate(capsys, argv, flag):
    assert main(argv + ["--json"]) == 2  # at once: nothing allocated
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"error: {flag}" in err and ("MiB" in err or "at most" in err)


@pytest.mark.parametrize(
    "argv, flag",
    [
        (
            ["lambda-c", "--spectrum", "modes:40-60", "--T0", "0.2", "--method", "linear", "--converge", "60"],
            "--converge",
        ),
        (["stability", "--spectrum", "modes:40-60", "--T0", "0.2", "--converge", "60"], "--converge"),
        (["two-temp", "--spectrum", "einstein", "--T0", "0.2", "--T-in", "0.25", "--t-end", "1e40"], "--t-end"),
    ],
)
def test_runs_that_would_never_end_are_refused(capsys, argv, flag):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"error: {flag}" in err


# [petsc] values and PETSc options checked against this build's solver types before any work (issue 28) ----------

EVOLVE_RUN = """model = "evolve"
[parameters]
spectrum = "einstein"
T0 = 0.2
T_in = 0.21
t_end = 0.1
grid_step = 0.05
cutoff = 6
[petsc]
"""


@pytest.mark.parametrize("command", ["run", "sweep"])
@pytest.mark.parametrize(
    "line, words",
    [
        ('kin_ts_type = "foo"', ["petsc.kin_ts_type = 'foo'", "no such TS type", "bdf", "arkimex"]),
        ('kin_ksp_type = "foo"', ["petsc.kin_ksp_type", "no such KSP type", "gmres"]),
        ("kin_ts_max_steps = \"abc\"", ["petsc.kin_ts_max_steps = 'abc'", "not an integer"]),
        ('kin_snes_rtol = "tiny"', ["petsc.kin_snes_rtol = 'tiny'", "not a number"]),
    ],
)
def test_run_file_petsc_values_are_checked_before_any_point(tmp_path, capsys, command, line, words):
    run = tmp_path / "rf.toml"
    run.write_text(EVOLVE_RUN + line + "\n")
    assert main([command, str(run), "-o", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ephkin {command}: error: run file ") and "internal" not in err
    assert all(w in err for w in words), err
    assert not (tmp_path / "out").exists()  # refused before anything was computed or written


def _unavailable_pc_types():
    """PC types petsc4py names that this PETSc build did not register (external packages not built)."""
    from ephkin.solvers import option_values
    from ephkin.solvers.petsc_env import init_petsc

    init_petsc()
    return sorted(set(option_values._constants("pc")) - set(option_values._registered("pc")))


@pytest.mark.parametrize(
    "opt, value, words",
    [
        ("-kin_ts_type", "foo", ["no such TS type", "bdf"]),
        ("-kin_ksp_type", "foo", ["no such KSP type", "gmres"]),
        ("-kin_pc_type", "foo", ["no such PC type", "jacobi"]),
        ("-kin_snes_type", "foo", ["no such SNES type", "newtonls"]),
        ("-kin_snes_linesearch_type", "foo", ["no such SNES line search type", "bt"]),
        ("-kin_ts_max_steps", "abc", ["not an integer"]),
        ("-kin_ts_max_steps", "1.5", ["not an integer"]),
        ("-kin_ksp_rtol", "small", ["not a number"]),
    ],
)
def test_command_line_petsc_values_are_checked_before_any_work(tmp_path, capsys, opt, value, words):
    out = tmp_path / "out"
    assert main(EVOLVE + [str(out), opt, value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ephkin evolve: error: {opt} {value}: ") and "internal" not in err
    assert all(w in err for w in words), err
    assert not out.exists()  # before -o was even created


@pytest.mark.parametrize(
    "opt, value", [("-stab_eps_type", "foo"), ("-stab_st_type", "foo"), ("-stab_st_ksp_type", "x")]
)
def test_slepc_types_are_checked_too(capsys, opt, value):
    assert main(["stability", "--spectrum", "einstein", "--T0", "0.2", "--lam", "1", "--quiet", opt, value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{opt} {value}: no such " in err


def test_a_type_this_build_lacks_is_refused_by_name(tmp_path, capsys):
    """petsc4py lists PC types whose packages may not be built here (Debian 12: hpddm, spai, ...): the registry
    decides, and the refusal lists only the types this build has."""
    missing = _unavailable_pc_types()
    assert missing, "every PC type petsc4py names is built here: pick another build's gap"
    run = tmp_path / "rf.toml"
    run.write_text(EVOLVE_RUN + f'kin_pc_type = "{missing[0]}"\n')
    assert main(["sweep", str(run), "-o", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "this PETSc/SLEPc build" in err and "jacobi" in err
    assert not any(f" {m}," in err or err.rstrip().endswith(f" {m}") for m in missing)


def test_a_word_petsc_refuses_while_configuring_a_solver_is_the_run_files_error(tmp_path, capsys):
    """Options this check does not know are left to PETSc: its refusal (ERR_USER_INPUT, a word that is not one of
    the option's choices) is still bad input, exit 2 naming the option -- for a run file's [petsc] as for -kin_."""
    run = tmp_path / "rf.toml"
    run.write_text(EVOLVE_RUN + 'kin_ts_exact_final_time = "foo"\n')
    assert main(["run", str(run), "-o", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "-kin_ts_exact_final_time foo" in err and "matchstep" in err
    assert main(EVOLVE + [str(tmp_path / "o2"), "-kin_ts_exact_final_time", "foo"]) == 2
    assert "-kin_ts_exact_final_time foo" in capsys.readouterr().err


def test_valid_petsc_values_still_run(tmp_path, capsys):
    run = tmp_path / "rf.toml"
    run.write_text(EVOLVE_RUN + 'kin_ts_type = "bdf"\nkin_ts_max_steps = 5000\nkin_ksp_rtol = 1e-8\n')
    assert main(["run", str(run), "-o", str(tmp_path / "out"), "--quiet", "--json"]) == 0
    assert main(EVOLVE + [str(tmp_path / "o2"), "-kin_ksp_type", "gmres", "-kin_ts_adapt_clip", "0.1,10"]) == 0


# evolve -o and run take the sweep's directory lock (issue 28) ---------------------------------------------------

# long by its step count, not by the speed of the code: steps capped at 0.1 make 4027 of them (8.8 s), where the
# default steps took 106 and the whole run 1.9 s once the comb collisions became one stencil product (the second
# jobs then found the first one finished)
LONG_EVOLVE = ["evolve", "--spectrum", "modes:40-60", "--lam", "1", "--T0", "0.2", "--T-in", "0.205", "--t-end", "400",
               "-kin_ts_adapt_dt_max", "0.1"]


def _cli(argv, **kw):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.Popen([sys.executable, "-m", "ephkin.solvers.cli"] + argv, cwd=root, text=True, **kw)


SECOND_JOBS = {
    "evolve": LONG_EVOLVE,
    "nac": ["nac", "evolve", "--filling", "0.3333333", "--omega-p", "0.6667", "--t-end", "1"],
    "run": ["run", "RUNFILE"],
    "sweep": ["sweep", "RUNFILE"],
}


def test_a_second_job_into_the_directory_of_a_running_evolve_is_refused(tmp_path):
    """evolve -o holds its directory with the sweep's lock: a second evolve, nac evolve, run or sweep into it (other
    processes, while it runs) exits 1 with one "cannot write into -o DIR: locked by ..." line naming its PID, and
    the first run's outputs are complete."""
    import json
    import subprocess

    out = tmp_path / "out"
    run = tmp_path / "rf.toml"
    run.write_text(EVOLVE_RUN.replace("[petsc]\n", ""))
    first = _cli(LONG_EVOLVE + ["-o", str(out), "--flush-every", "0.05", "--json"], stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE)
    try:
        lock = out / ".ephkin.lock"
        assert wait_for(lambda: lock.is_file() and f"pid={first.pid}" in lock.read_text())
        assert wait_for(lambda: (out / "f_E_t.xdmf").is_file() and "<Time " in (out / "f_E_t.xdmf").read_text())
        seconds = {
            name: _cli([str(run) if a == "RUNFILE" else a for a in argv] + ["-o", str(out), "--quiet"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for name, argv in SECOND_JOBS.items()
        }
        done = {name: p.communicate(timeout=120) + (p.returncode,) for name, p in seconds.items()}
        assert first.poll() is None, "the first run ended before the others started: make it longer"
        for name, (stdout, stderr, code) in done.items():
            assert code == 1 and stderr.count("\n") == 1, (name, stderr)
            assert stderr.startswith(f"ephkin {SECOND_JOBS[name][0]}"), stderr
            assert f": cannot write into -o {out}: locked by" in stderr and f"pid={first.pid}" in stderr, stderr
            assert "evolve" in stderr.split("locked by", 1)[1] and stdout == ""
            assert "internal" not in stderr and "BlockingIOError" not in stderr
    finally:
        stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    res = json.loads(stdout)
    summ = json.load(open(out / "summary.json"))
    assert summ["run_status"] == "finished" and summ["steps"] == res["steps"] and summ["provenance"]
    import h5py

    with h5py.File(out / "f_E_t.h5") as h5:
        assert h5["f"].shape[0] == res["steps"] + 1  # every step of the first run, none of another
    assert not lock.exists()  # the holder removed its lock file


def test_run_holds_its_directory_for_its_evolve_point(tmp_path, capsys):
    """run FILE -o DIR holds DIR and its evolve point writes there under the same (re-entrant) lock; the lock file
    is gone afterwards, and a link named like it is refused, its target untouched."""
    run = tmp_path / "rf.toml"
    run.write_text(EVOLVE_RUN.replace("[petsc]\n", ""))
    out = tmp_path / "out"
    assert main(["run", str(run), "-o", str(out), "--quiet"]) == 0
    assert (out / "f_E_t.xdmf").is_file() and not (out / ".ephkin.lock").exists()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (out / ".ephkin.lock").symlink_to(victim)
    capsys.readouterr()
    assert main(EVOLVE + [str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err and "symbolic link" in err
    assert victim.read_text() == "precious\n"


def test_the_lock_is_removed_only_by_its_holder(tmp_path, monkeypatch):
    """The holder removes its lock file when it ends; a job that opened the file just before, and so locked a file
    nobody sees any more, starts again on the new one: two jobs never hold two files of one name."""
    import fcntl

    from ephkin.solvers.dirlock import DirectoryInUse, DirLock

    first = DirLock(str(tmp_path), what="evolve").acquire()
    with pytest.raises(DirectoryInUse, match="locked by another ephkin job"):
        DirLock(str(tmp_path)).acquire()
    real, ended = fcntl.flock, []

    def flock(fd, op):  # the first holder ends between the second's open and its flock
        if not ended:
            ended.append(True)
            first.release()
        return real(fd, op)

    monkeypatch.setattr(fcntl, "flock", flock)
    second = DirLock(str(tmp_path), what="run").acquire()
    assert "run" in (tmp_path / ".ephkin.lock").read_text()  # the file under the name is the one it locked
    third = DirLock(str(tmp_path))
    with pytest.raises(DirectoryInUse, match="run"):
        third.acquire()
    os.replace(tmp_path / ".ephkin.lock", tmp_path / "moved")  # the name leads to another file: not ours to remove
    (tmp_path / ".ephkin.lock").write_text("")
    second.release()
    assert (tmp_path / ".ephkin.lock").is_file()
    os.remove(tmp_path / ".ephkin.lock")
    DirLock(str(tmp_path)).acquire().release()
    assert not (tmp_path / ".ephkin.lock").exists()


# warnings never precede the one-line error (issue 28) -----------------------------------------------------------


def _stderr_of(argv, tmp_path, script=None):
    """(exit status, stderr) of ``ephkin ARGV`` in a process of its own: Python's warnings go to the real stderr
    there (under pytest they are caught by pytest)."""
    import subprocess
    import sys

    code = script or "import sys; from ephkin.solvers.cli import main; sys.exit(main(sys.argv[1:]))"
    r = subprocess.run([sys.executable, "-c", code] + argv, cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    return r.returncode, r.stderr


@pytest.mark.parametrize(
    "argv, table, words",
    [
        (["zinv", "--spectrum", "file:TABLE", "--T0", "0.1"], "0.01 1e308\n0.02 1e308\n", "beyond"),
        (["lambda-c", "--spectrum", "file:TABLE", "--T0", "0.1"], "0.01 1e308\n0.02 1e308\n", "beyond"),
        (["nac", "sigma", "--dos", "file:TABLE", "--omega-p", "0.5", "--zeta", "inf"], "", "no data rows"),
        (["nac", "sigma", "--dos", "file:TABLE", "--omega-p", "0.5", "--zeta", "inf"], "# only a comment\n",
         "no data rows"),
    ],
)
def test_bad_tables_give_one_line_and_no_warning(tmp_path, argv, table, words):
    (tmp_path / "table.dat").write_text(table)
    code, err = _stderr_of([a.replace("TABLE", "table.dat") for a in argv], tmp_path)
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert err.startswith(f"ephkin {argv[0]}") and "Warning" not in err


WARN_THEN = """import sys, warnings
from ephkin.pde.errors import InputError
from ephkin.solvers.cli import equilibrium, main

def spectrum(args):
    warnings.warn("overflow encountered in reduce", RuntimeWarning)
    warnings.warn("something a library says", UserWarning)
    if args.lam > 1:
        raise InputError("lambda must be <= 1 here (got %g)" % args.lam, "lambda")
    return {"status": "ok"}

equilibrium.spectrum = spectrum
sys.exit(main(sys.argv[1:]))
"""


def test_warnings_are_dropped_on_error_and_logged_after_success(tmp_path):
    code, err = _stderr_of(["spectrum", "--spectrum", "einstein", "--lam", "2"], tmp_path, WARN_THEN)
    assert code == 2 and err == "ephkin spectrum: error: --lam must be <= 1 here (got 2)\n"
    code, err = _stderr_of(["spectrum", "--spectrum", "einstein", "--lam", "1", "--json"], tmp_path, WARN_THEN)
    lines = err.splitlines()
    assert code == 0 and len(lines) == 2, err
    assert lines[0].startswith("ephkin spectrum: warning: RuntimeWarning: overflow encountered in reduce (")
    assert lines[1].startswith("ephkin spectrum: warning: UserWarning: something a library says (")


@pytest.mark.parametrize(
    "line",
    [
        'kin_ts_view = ":VICTIM"',
        'kin_ts_monitor = "ascii:VICTIM"',
        'kin_snes_view = "ascii:VICTIM::append"',
        'kin_ts_view = "binary"',  # ./binaryoutput
        'kin_ts_view = "hdf5"',
        "kin_ts_save_trajectory = true",  # ./TS-data
        'kin_ts_monitor_solution_vtk = "x-%03d.vts"',
        'options_file = "VICTIM"',
    ],
)
def test_run_file_petsc_options_cannot_read_or_write_files(tmp_path, capsys, line):
    """A run file received from someone else writes only inside -o: PETSc viewers and monitors with a file name, or
    with a viewer that writes files of its own, are refused before anything runs (the same options stay free on
    the command line, the user's own choice)."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    run = tmp_path / "rf.toml"
    run.write_text(EVOLVE_RUN + line.replace("VICTIM", str(victim)) + "\n")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        before = set(os.listdir(tmp_path))
        assert main(["run", str(run), "-o", str(tmp_path / "out"), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "PETSc would read or write files" in err and f"petsc.{line.split()[0]}" in err
        assert victim.read_text() == "precious\n" and set(os.listdir(tmp_path)) == before
    finally:
        os.chdir(cwd)


def test_run_file_monitors_to_the_terminal_stay_allowed(tmp_path, capsys):
    run = tmp_path / "rf.toml"
    run.write_text(EVOLVE_RUN + 'kin_ts_monitor = true\nkin_ts_view = "::ascii_info"\nkin_snes_monitor = "ascii"\n')
    assert main(["run", str(run), "-o", str(tmp_path / "out"), "--quiet", "--json"]) == 0
    assert "TS dt" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ["out", "rf.toml"]
