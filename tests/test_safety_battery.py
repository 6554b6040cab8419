"""Issue 28's battery, the cases no other test covers: every file a command writes lies inside -o; the machine's
failures (a file-size limit standing in for a full disk, an address-space limit for memory) are one "cannot ..."
line with exit 1 and leave no temporary file; nothing lands in TMPDIR or the working directory."""

import os
import resource
import subprocess
import sys
import tempfile

import pytest
from test_safety import EVOLVE, GOOD  # pytest puts tests/ on sys.path

from ephkin.solvers.cli import main

RUNFILE = GOOD + 'file = "lc.png"\n'


#: One fast invocation of every command that writes -o (RUN: the run file above).
COMMANDS = {
    "spectrum": ["spectrum", "--spectrum", "debye"],
    "zinv": ["zinv", "--spectrum", "einstein", "--T0", "0.2"],
    "two-temp": ["two-temp", "--spectrum", "einstein", "--T0", "0.2", "--T-in", "0.21", "--t-end", "1"],
    "cel": ["cel", "--spectrum", "modes:40-60"],
    "transport": ["transport", "--spectrum", "debye", "--T", "0.1", "0.2"],
    "lambda-c": ["lambda-c", "--spectrum", "einstein", "--T0", "0.2", "0.21"],
    "stability": ["stability", "--spectrum", "einstein", "--T0", "0.2", "--refine", "1"],
    "evolve": EVOLVE[: EVOLVE.index("--quiet")],  # test_safety's short evolve (no copy)
    "nac sigma": ["nac", "sigma", "--omega-p", "0.5", "--zeta", "inf"],
    "avalanche criterion": ["avalanche", "criterion", "--mass", "0.5", "--g-ep", "0.1", "--gamma", "0.002",
                            "--omega0", "0.3"],
    "run": ["run", "RUN1"],
    "sweep": ["sweep", "RUN"],
}


def _tree(root):
    """{path: (size, mtime_ns)} of every file and link under root."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            out[p] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_file_a_command_writes_lies_inside_o(tmp_path, monkeypatch, capsys, name):
    """Lists every file under a sandbox (working directory, TMPDIR, the run file's folder, -o) before and after
    the command, and fails on any new or changed file outside -o."""
    cwd, tmp, out = tmp_path / "cwd", tmp_path / "tmp", tmp_path / "out"
    cwd.mkdir()
    tmp.mkdir()
    (tmp_path / "rf.toml").write_text(RUNFILE)
    (tmp_path / "rf1.toml").write_text(RUNFILE.replace("T0 = [0.18, 0.20]", "T0 = [0.2]"))
    (cwd / "results_thesis.txt").write_text("a user's file\n")
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    before = _tree(tmp_path)
    runs = {"RUN": str(tmp_path / "rf.toml"), "RUN1": str(tmp_path / "rf1.toml")}
    argv = [runs.get(a, a) for a in COMMANDS[name]]
    assert main(argv + ["--quiet", "-o", str(out)]) == 0, capsys.readouterr().err
    after = _tree(tmp_path)
    changed = sorted(p for p in after if before.get(p) != after[p])
    assert changed, "the command wrote nothing"
    # Open MPI's session directory (TMPDIR/ompi.*, made when PETSc first initialises MPI in this process and
    # removed by MPI_Finalize) is the MPI runtime's, not an output
    mpi = str(tmp / "ompi.")
    outside = [p for p in changed if not p.startswith(str(out) + os.sep) and not p.startswith(mpi)]
    assert not outside, f"written outside -o: {outside}"
    assert not [p for p in before if p not in after], "a file ephkin did not create was removed"
    assert not [p for p in after if p.endswith(".tmp")], "a temporary file was left"


def _child(argv, limit, value, cwd):
    """Run ephkin in a child process under one resource limit (the test process keeps its own)."""

    def set_limit():
        resource.setrlimit(limit, (value, value))

    return subprocess.run(
        [sys.executable, "-m", "ephkin.solvers.cli", *argv],
        preexec_fn=set_limit,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.mark.parametrize("name", ["spectrum", "lambda-c", "evolve"])
def test_a_full_disk_is_the_machine_one_line_and_no_temporary_file(tmp_path, name):
    """RLIMIT_FSIZE makes every write past 2 kB fail with EFBIG, as a full disk fails with ENOSPC (Python ignores
    SIGXFSZ): the command says "cannot write <file>: File too large" on one line, exits 1, and leaves no *.tmp."""
    out = tmp_path / "out"
    p = _child(COMMANDS[name] + ["--quiet", "-o", str(out)], resource.RLIMIT_FSIZE, 2000, tmp_path)
    assert p.returncode == 1, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write" in lines[0] and "File too large" in lines[0], p.stderr
    assert "[Errno" not in lines[0] and "internal" not in lines[0] and "report" not in lines[0]
    left = [f for f in os.listdir(out) if f.endswith(".tmp")] if out.exists() else []
    assert not left


def test_an_address_space_limit_is_the_machine_not_a_bug(tmp_path):
    """Under ulimit -v, a run that the memory estimate allows but the limit does not ends in one "cannot ..."
    line naming memory and exit 1 (or is refused beforehand with exit 2 and the estimate), never a traceback or
    "please report it"."""
    # refine 128 under 700 MiB: refused with the estimate up to ~850 MiB (refine 64 fitted in 700 MiB once
    # scipy.optimize was no longer imported at start-up); below ~500 MiB Open MPI's own start fails first
    argv = ["stability", "--spectrum", "modes:40-60", "--T0", "0.2", "--refine", "128", "--json"]
    p = _child(argv, resource.RLIMIT_AS, 700 * 2**20, tmp_path)
    assert p.returncode in (1, 2), p.stderr
    lines = p.stderr.strip().splitlines()
    assert lines and "memory" in lines[-1].lower() and "report" not in lines[-1], p.stderr
    assert "Traceback" not in p.stderr


def test_an_address_space_too_small_to_start_is_refused_not_a_hang(tmp_path):
    """Under ulimit -v 200 MiB OpenBLAS's first matrix product loops forever (SIGTERM cannot stop it): ephkin refuses
    before numpy loads, one "cannot start" line and exit 1."""
    p = _child(
        ["zinv", "--spectrum", "modes:40-60", "--T0", "0.2", "--json"], resource.RLIMIT_AS, 200 * 2**20, tmp_path
    )
    assert p.returncode == 1, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot start" in lines[0] and "ulimit -v" in lines[0], p.stderr
    assert p.stdout == ""


def test_too_little_address_space_for_petsc_is_refused_before_starting_it(tmp_path):
    """With 400 MiB the imports fit but PETSc's start does not (it crashes Open MPI or reports a broken install
    at ~450 MiB): one "cannot allocate memory" line naming the start, exit 1, before anything is mapped."""
    argv = ["stability", "--spectrum", "modes:40-60", "--T0", "0.2", "--refine", "4", "--json"]
    p = _child(argv, resource.RLIMIT_AS, 400 * 2**20, tmp_path)
    assert p.returncode == 1, p.stderr
    lines = p.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("ephkin stability: cannot allocate memory"), p.stderr
    assert "Traceback" not in p.stderr and "report" not in p.stderr


@pytest.mark.parametrize("link", [".ephkin.lock", "results.rank0.jsonl", "results.csv", "summary.json", "lc.png"])
def test_a_link_in_a_sweep_directory_never_touches_its_target(tmp_path, capsys, link):
    """Issue 28 case 2: a symbolic link where a sweep (or its --resume) writes is refused ("cannot ...", exit 1)
    or replaced by the file; its target keeps its content either way."""
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    (tmp_path / "rf.toml").write_text(RUNFILE)
    assert main(["sweep", str(tmp_path / "rf.toml"), "-o", str(out), "--quiet"]) == 0
    victim.write_text("precious\n")
    os.replace(out / link, tmp_path / "moved") if (out / link).exists() else None
    (out / link).symlink_to(victim)
    code = main(["sweep", str(tmp_path / "rf.toml"), "-o", str(out), "--resume", "--quiet"])
    err = capsys.readouterr().err
    assert victim.read_text() == "precious\n"
    if code != 0:
        assert code == 1 and err.count("\n") == 1 and "cannot" in err and "internal" not in err, err


def test_a_table_of_overflowing_numbers_is_one_input_error(tmp_path, capsys):
    """Issue 28 case 10: an alpha^2F of 1e308 is refused by the reader (exit 2, one line), before any numpy
    overflow warning could print."""
    import numpy as np

    w = np.linspace(0.0, 0.1, 50)
    np.savetxt(tmp_path / "huge.a2f", np.c_[w, np.where(w > 0, 1e308, 0.0)])
    for cmd in (["zinv", "--T0", "0.2"], ["lambda-c", "--T0", "0.2"], ["spectrum"]):
        assert main(cmd + ["--spectrum", f"file:{tmp_path / 'huge.a2f'}"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "beyond" in err and "--spectrum" in err
