"""Benchmark (issues 16 and 26): start-up, whole-process wall time against the floors of the same round.

Every process is timed from fork to exit (``os.wait4``: wall and CPU = user + sys of the child); rounds are
interleaved, so that the load of the shared machine hits all commands alike.  min / median / max over
--runs (>= 5).

Sections (all by default; ``--only`` picks some):
  floors     python -c pass; python -c "import numpy, scipy"; ... "import numpy, scipy.special" (issue 16's
             baseline); bare PETSc: python -c "from petsc4py import PETSc" (petsc4py's own init), the same
             with slepc4py, and the same as an isolated Open MPI singleton (no orted fork, what ephkin's
             init_petsc sets up), with only the bindings' directories on PYTHONPATH (no ephkin code)
  cheap      ephkin --version, --help, stability --help, info, spectrum, zinv, lambda-c (Z0 criterion)
  table-s1   ephkin lambda-c --method linear at the seed's Table S1 grids T0 = 0.180 .. 0.217 (default solver)
  fixed      every PETSc command on a small problem: its fixed cost = the whole process - the same command run
             again in a process where it already ran (PETSc initialised, tables built), against the bare inits
  threshold  (only with --only threshold) lambda-c --method linear --solver dense vs --solver slepc across L:
             T0 = 0.180 .. 0.217 x refine 1..4 (the measurement behind LC_DENSE_MAX)

Every child runs with Python's bytecode cache (PYTHONDONTWRITEBYTECODE removed from its environment), as an
installed ephkin does: without it, each process compiles ephkin's ~60 modules from source again.

With ``--before DIR`` (DIR/ephkin an ephkin tree: ``mkdir -p DIR/ephkin && git archive COMMIT | tar -x -C
DIR/ephkin``), every ephkin process of the cheap, table-s1 and fixed sections also runs from that tree,
``python -c "from ephkin.solvers.cli import main; ..."`` with PYTHONPATH=DIR, interleaved in the same rounds.

Run:  .venv/bin/python benchmarks/startup.py [--runs 7] [--only floors cheap table-s1 fixed | threshold]
                                             [--before DIR]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

#: The children's environment: this one with the bytecode cache on (see the docstring).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
BIN = os.path.dirname(sys.executable)
EPHKIN = os.path.join(BIN, "ephkin")
PY = sys.executable

#: Table S1's temperatures in [0.18, 0.22] (runs/table_s1.toml).
S1_T0 = (0.180, 0.192, 0.204, 0.217)
LC = ["lambda-c", "--spectrum", "modes:40-60", "--method", "linear", "--json"]

CHEAP = {
    "ephkin --version": ["--version"],
    "ephkin --help": ["--help"],
    "ephkin stability --help": ["stability", "--help"],
    "ephkin info --json": ["info", "--json"],
    "ephkin spectrum --spectrum modes:40-60 --json": ["spectrum", "--spectrum", "modes:40-60", "--json"],
    "ephkin zinv --spectrum modes:40-60 --T0 0.2 --json": ["zinv", "--spectrum", "modes:40-60", "--T0", "0.2",
                                                           "--json"],
    "ephkin lambda-c --spectrum einstein --T0 0.2 --json": ["lambda-c", "--spectrum", "einstein", "--T0", "0.2",
                                                            "--json"],
}

#: The PETSc commands on small problems (the computation itself a few ms to ~0.1 s).
FIXED = {
    "lambda-c --method linear --solver slepc (einstein, T0 0.2)": ["lambda-c", "--spectrum", "einstein", "--T0",
                                                                   "0.2", "--method", "linear", "--solver",
                                                                   "slepc", "--json"],
    "stability --solver slepc (einstein, lam 1, T0 0.2, nev 2)": ["stability", "--spectrum", "einstein", "--lam",
                                                                  "1", "--T0", "0.2", "--nev", "2", "--solver",
                                                                  "slepc", "--json"],
    "evolve (einstein, lam 1, T0 0.2, t_end 1, no diagnostics)": ["evolve", "--spectrum", "einstein", "--lam", "1",
                                                                  "--T0", "0.2", "--T-in", "0.202", "--t-end", "1",
                                                                  "--no-diagnostics", "--json"],
    # zeta = inf has a closed form (no PETSc); a finite zeta integrates with PETSc TS
    "nac sigma (zeta 20, t_end 1)": ["nac", "sigma", "--mu", "0", "--T", "0.003", "--omega-p", "0.5", "--zeta", "20",
                                     "--t-end", "1", "--json"],
    "avalanche lattice --solver snes (2^12 frequencies)": ["avalanche", "lattice", "--gamma", "0.005", "--g-ep",
                                                           "0.3", "--omega0", "0.3", "--E", "0.01", "--n-omega",
                                                           "4096", "--solver", "snes", "--json"],
}

#: Runs a command ``warm`` + 1 times in one process and prints the times of the last ``warm`` runs (JSON).
_WARM = """
import contextlib, io, json, sys, time
from ephkin.solvers.cli import main
argv, n = json.loads(sys.argv[1]), int(sys.argv[2])
times = []
for _ in range(n + 1):
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        status = main(argv)
    times.append(time.perf_counter() - t)
    if status:
        raise SystemExit(f"exit status {status}")
print(json.dumps(times[1:]))
"""


def timed(cmd, env=None):
    """(wall, cpu) seconds of one child process, from fork to exit; raises if it fails."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or ENV)
    out, err = p.communicate()
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {err.decode()[-1500:]}")
    return wall, out


class Clock:
    """Wall and CPU time of child processes (CPU from RUSAGE_CHILDREN differences)."""

    def __init__(self):
        import resource

        self.resource = resource

    def __call__(self, cmd, env=None):
        r0 = self.resource.getrusage(self.resource.RUSAGE_CHILDREN)
        wall, out = timed(cmd, env)
        r1 = self.resource.getrusage(self.resource.RUSAGE_CHILDREN)
        return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), out


def s3(xs, f="{:.3f}"):
    return " / ".join(f.format(v) for v in (min(xs), statistics.median(xs), max(xs)))


def bare_env():
    """The environment of the bare PETSc floors: the bindings' directories on PYTHONPATH, as ephkin finds them."""
    from ephkin.solvers.petsc_env import ensure_paths

    dirs = ensure_paths()
    sites = [os.path.join(d, "lib", "python3", "dist-packages") for d in dirs.values() if d]
    env = dict(ENV)
    env["PYTHONPATH"] = os.pathsep.join([s for s in sites if os.path.isdir(s)] + [env.get("PYTHONPATH", "")])
    return env


#: ``--before DIR``: the ephkin tree the same commands also run from.
BEFORE = {"dir": None}
_RUN_CLI = "import sys; from ephkin.solvers.cli import main; sys.exit(main())"


def rounds(cmds, runs, clock, envs=None):
    """{name: [(wall, cpu), ...]} over ``runs`` interleaved rounds (one untimed warm-up of each first); with
    ``--before``, each ephkin command also as "before: NAME" from that tree."""
    envs = dict(envs or {})
    if BEFORE["dir"]:
        for name, cmd in list(cmds.items()):
            if cmd[0] == EPHKIN:
                cmds[f"before: {name}"] = [PY, "-c", _RUN_CLI, *cmd[1:]]
                envs[f"before: {name}"] = dict(ENV, PYTHONPATH=BEFORE["dir"])
    for name, cmd in cmds.items():  # the page cache
        clock(cmd, envs.get(name))
    got = {k: [] for k in cmds}
    for _ in range(runs):
        for name, cmd in cmds.items():
            wall, cpu, _ = clock(cmd, envs.get(name))
            got[name].append((wall, cpu))
    return got


def report(got, width=66):
    for name, xs in got.items():
        print(f"  {name:<{width}} wall {s3([w for w, _ in xs])} s | cpu {s3([c for _, c in xs])} s")


#: The bare PETSc inits (with ``bare_env``): petsc4py alone, with slepc4py, and isolated (no orted).
_BOTH = "from petsc4py import PETSc; from slepc4py import SLEPc"
BARE = {
    "bare petsc4py: python -c 'from petsc4py import PETSc'": [PY, "-c", "from petsc4py import PETSc"],
    "bare petsc4py + slepc4py init": [PY, "-c", _BOTH],
    "bare petsc4py + slepc4py, isolated singleton": [PY, "-c", _BOTH],
}


def bare_envs():
    env = bare_env()
    return {k: dict(env, OMPI_MCA_ess_singleton_isolated="1") if "isolated" in k else env for k in BARE}


def floors(runs, clock):
    cmds = {
        "python -c pass": [PY, "-c", "pass"],
        "python -c 'import numpy, scipy'": [PY, "-c", "import numpy, scipy"],
        "python -c 'import numpy, scipy.special'": [PY, "-c", "import numpy, scipy.special"],
        **BARE,
    }
    envs = bare_envs()
    print("floors:")
    got = rounds(cmds, runs, clock, envs)
    report(got)
    return got


def cheap(runs, clock):
    cmds = {"python -c 'import numpy, scipy'": [PY, "-c", "import numpy, scipy"]}
    cmds.update({k: [EPHKIN, *v] for k, v in CHEAP.items()})
    print("cheap commands (no PETSc), with the numpy + scipy floor of the same rounds:")
    got = rounds(cmds, runs, clock)
    report(got)
    return got


def table_s1(runs, clock):
    cmds = {"python -c 'import numpy, scipy'": [PY, "-c", "import numpy, scipy"]}
    for T0 in S1_T0:
        cmds[f"lambda-c --method linear --T0 {T0:.3f}"] = [EPHKIN, *LC, "--T0", str(T0)]
    print("lambda-c --method linear at Table S1's grids (default solver):")
    got = rounds(cmds, runs, clock)
    for name, cmd in cmds.items():
        if name.startswith("lambda-c"):
            r = json.loads(clock(cmd)[2])
            name2 = f"{name} (L = {r['L']}, {r['solver']}, lambda_c = {r['lambda_c']:.6f})"
            got[name2] = got.pop(name)
            if f"before: {name}" in got:
                r = json.loads(clock([PY, "-c", _RUN_CLI, *cmd[1:]], dict(ENV, PYTHONPATH=BEFORE["dir"]))[2])
                got[f"before: {name} ({r['solver']})"] = got.pop(f"before: {name}")
    report(got, 96)
    return got


def fixed(runs, clock):
    cmds, envs = dict(BARE), bare_envs()
    cmds.update({k: [EPHKIN, *v] for k, v in FIXED.items()})
    print("PETSc commands: whole process, the same command warm in-process, fixed cost = whole - warm median:")
    got = rounds(cmds, runs, clock, envs)
    report(got)
    bare = statistics.median(w for w, _ in got["bare petsc4py: python -c 'from petsc4py import PETSc'"])
    iso = statistics.median(w for w, _ in got["bare petsc4py + slepc4py, isolated singleton"])
    for name, argv in [(n, a) for n, a in FIXED.items()] + [(f"before: {n}", a) for n, a in FIXED.items()]:
        if name not in got:
            continue
        env = dict(ENV, PYTHONPATH=BEFORE["dir"]) if name.startswith("before") else ENV
        out = subprocess.run([PY, "-c", _WARM, json.dumps(argv), str(runs)], capture_output=True, text=True,
                             env=env)
        if out.returncode:
            raise RuntimeError(out.stderr[-1500:])
        warm = json.loads(out.stdout.strip().splitlines()[-1])
        fix = [w - statistics.median(warm) for w, _ in got[name]]
        print(f"  {name:<66} warm {s3(warm)} s | fixed {s3(fix)} s | - bare petsc4py "
              f"{s3([f - bare for f in fix], '{:+.3f}')} s | - bare isolated {s3([f - iso for f in fix], '{:+.3f}')} s")
    return got


def threshold(runs, clock):
    """dense vs slepc whole processes across L (interleaved per grid).  L0 is the size "auto" decides on
    (``solvers.stability.lambda_c.initial_size``), L the grid's at lambda_c (the output's)."""
    from ephkin.pde.spectra import parse_spectrum
    from ephkin.solvers.stability import initial_size

    print("lambda-c --method linear --solver dense vs slepc, whole process (min / median / max, wall and CPU):")
    print(f"  {'T0':>5} {'refine':>6} {'L0':>5} {'L':>5} | {'dense wall':>23} | {'slepc wall':>23} | wall d/s | "
          f"{'dense cpu':>23} | {'slepc cpu':>23} | cpu d/s")
    rows = []
    for refine in (1, 2, 3, 4):
        for T0 in S1_T0:
            cmds = {s: [EPHKIN, *LC, "--T0", str(T0), "--refine", str(refine), "--solver", s]
                    for s in ("dense", "slepc")}
            L = json.loads(clock(cmds["dense"])[2])["L"]
            L0 = initial_size(parse_spectrum("modes:40-60"), T0, refine=refine)[1]
            got = rounds(cmds, runs, clock)
            (dw, dc), (sw, sc) = ([[x[i] for x in got[k]] for i in (0, 1)] for k in ("dense", "slepc"))
            rw, rc = (statistics.median(a) / statistics.median(b) for a, b in ((dw, sw), (dc, sc)))
            rows.append({"T0": T0, "refine": refine, "L0": L0, "L": L, "dense": got["dense"],
                         "slepc": got["slepc"], "wall_ratio": rw, "cpu_ratio": rc})
            print(f"  {T0:5.3f} {refine:6d} {L0:5d} {L:5d} | {s3(dw)} | {s3(sw)} | {rw:8.2f} | {s3(dc)} | "
                  f"{s3(sc)} | {rc:7.2f}", flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--before", metavar="DIR", help="also run the ephkin commands from the tree DIR/ephkin")
    ap.add_argument("--only", nargs="+", choices=("floors", "cheap", "table-s1", "fixed", "threshold"),
                    default=["floors", "cheap", "table-s1", "fixed"])
    a = ap.parse_args(argv)
    if a.runs < 5:
        ap.error("--runs must be >= 5")
    BEFORE["dir"] = a.before and os.path.abspath(a.before)
    clock = Clock()
    print(f"load average before: {os.getloadavg()}")
    out = {}
    for name in a.only:
        out[name] = {"floors": floors, "cheap": cheap, "table-s1": table_s1, "fixed": fixed,
                     "threshold": threshold}[name](a.runs, clock)
    print(f"load average after: {os.getloadavg()}")
    return out


if __name__ == "__main__":
    main()
