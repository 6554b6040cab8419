"""The ``ephkin`` command line: the top floor (``pde`` physics <- ``solvers`` engines <- this).

Every subcommand has ``--help``; ``--json`` prints exactly one JSON object on
stdout and nothing else there; ``-o DIR`` writes ``summary.json`` (results and
provenance), CSV tables and PNG plots into DIR.  Bad input ends with a
one-line message naming the parameter and exit status 2, never a traceback
(set EPHKIN_DEBUG=1 to see one for internal errors).  A handler may end with another status
without an error by setting the result key ``exit_status`` (``ephkin sweep``: 3 when points failed); a
result with ``status`` "solver_failed" is printed and ends with 4 (``solvers.failures``).

One module per command family declares its commands (arguments next to their
handlers) and the PETSc option prefixes its solvers read; :func:`families`
assembles them (docs/adding-a-command.md).  They are imported when the parser is
built, not with this module: ``ephkin --version`` loads no family, no study and
not numpy (issue 26).
"""

from __future__ import annotations

import os

# One BLAS thread per process (per MPI rank) unless the user chose: with two ranks on two cores, OpenBLAS's
# extra threads only spin in system time.  Set before numpy loads; any *_NUM_THREADS the user set wins.
_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "GOTO_NUM_THREADS")
if not any(os.environ.get(v) for v in _BLAS_THREADS):
    for _v in _BLAS_THREADS:
        os.environ[_v] = "1"
# Under mpirun, a rank waiting in a collective yields its core (sched_yield) instead of spinning: on a machine
# whose cores other processes share, a spinning rank takes the time its partner needs to reach the collective.
# Measured (2 ranks as one group, 2 cores at load ~4): evolve at N = 102 400 in 22-28 s against 45-50 s.  Read by
# Open MPI when MPI starts in this process; a value the user set wins.
os.environ.setdefault("OMPI_MCA_mpi_yield_when_idle", "1")

import contextlib  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from ephkin.pde import __version__  # noqa: E402
from ephkin.pde.errors import InputError  # noqa: E402

from ..failures import EXIT_SOLVER_FAILED, NOT_PHYSICS  # noqa: E402
from ..option_values import rejected_option  # noqa: E402
from .common import (  # noqa: E402
    EPILOG,
    EXIT_STATUS,
    CommandParser,
    deferred_warnings,
    flag_message,
    launcher_rank,
    launcher_size,
    subcommand_parser,
)

#: The command families (modules of this package), in the order ``ephkin --help`` lists them.
FAMILY_NAMES = ("equilibrium", "stability", "kinetic", "nac", "avalanche", "runs")


def families():
    """The command-family modules, imported on first use (each imports its studies' declarations)."""
    import importlib

    return tuple(importlib.import_module(f"{__name__}.{name}") for name in FAMILY_NAMES)


def __getattr__(name):
    """``FAMILIES`` (all family modules) and each family by its name, imported when first asked for."""
    if name == "FAMILIES":
        return families()
    if name in FAMILY_NAMES:
        return families()[FAMILY_NAMES.index(name)]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: The command of each family but "runs" (whose run files name any command, so that it needs every family's parser):
#: ``main`` builds only the family of the command it was given (start-up); tests/test_startup.py keeps this table
#: equal to what the families declare.
COMMAND_FAMILY = {
    "info": "equilibrium",
    "spectrum": "equilibrium",
    "zinv": "equilibrium",
    "two-temp": "equilibrium",
    "cel": "equilibrium",
    "transport": "equilibrium",
    "lambda-c": "stability",
    "stability": "stability",
    "evolve": "kinetic",
    "nac": "nac",
    "avalanche": "avalanche",
}


def build_parser(family=None):
    """The ``ephkin`` parser: every command, or (``family``, a name of FAMILY_NAMES) only that family's."""
    ap = CommandParser(
        prog="ephkin",
        description="Electron-phonon kinetics of metals: Eliashberg toolkit, "
        "kinetic instability, negative absolute conductivity, quantum avalanche.",
        epilog=EPILOG,
    )
    ap.add_argument("--version", action="version", version=f"ephkin {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    sub.required = True
    if family is not None:
        import importlib

        importlib.import_module(f"{__name__}.{family}").add_commands(sub)
        return ap
    for module in families():
        module.add_commands(sub)
    from ..studies import STUDIES
    from .generate import add_unmapped_studies

    add_unmapped_studies(sub, {k: v for k, v in STUDIES.items() if k != "run"})
    return ap


def load_runfile(path, overrides=()):
    """A run file, validated against the commands a run file may name (see ``solvers.runfile``)."""
    from ..runfile import load_runfile as load
    from . import runs

    return load(path, overrides, runs.runfile_models(build_parser()))


def point_solver(spec, path, fields_dir=None, single=False):
    """solve(i, point) for the points of a loaded run file, every point parsed first (``runs.point_solver``)."""
    from . import runs

    return runs.point_solver(build_parser(), spec, path, fields_dir, single)


def _print_human(result, stream=sys.stdout):
    from ..provenance import to_jsonable

    for k, v in result.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            print(f"{k}:", file=stream)
            keys = list(v[0].keys())
            print("  " + "  ".join(f"{c:>14s}" for c in keys), file=stream)
            for row in v:
                print("  " + "  ".join(f"{_fmt(row.get(c)):>14s}" for c in keys), file=stream)
        elif isinstance(v, dict):
            print(f"{k}: " + json.dumps(to_jsonable(v)), file=stream)
        else:
            print(f"{k}: {_fmt(v)}", file=stream)


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.10g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _terminate(signum, frame):
    """SIGTERM (kill, batch-system time limits) -> KeyboardInterrupt: cleanup and output files still run."""
    raise KeyboardInterrupt


def _prefixes(args):
    """The PETSc prefixes of the command (of a run file's model for run/sweep/converge: all families')."""
    own = tuple(getattr(args, "petsc_prefixes", ()))
    if args.command in ("run", "sweep", "converge"):
        own = tuple(p for family in families() for p in family.PETSC_PREFIXES)
    return own


#: The one-line message for a PETSc error that the user's PETSc options caused, or None (``solvers.option_values``).
_bad_petsc_option = rejected_option


class _StdoutForResult:
    """With ``--json``, stdout is the result's: while the command runs, file descriptor 1 (C and Python stdout:
    PETSc monitors, ``-X_view``, ``-help``) points at stderr, and the JSON goes to the real stdout.  With PETSc
    options it stays on stderr afterwards, for what PETSc prints at exit (``-log_view``, ``-options_left``).
    Nothing is redirected unless stdout is this process's file descriptor 1 (under pytest's capsys or in a
    notebook, Python's own stdout object is used as it is)."""

    def __init__(self, enabled, keep_redirected):
        self.saved, self.keep = None, keep_redirected
        try:
            real = enabled and sys.stdout.fileno() == 1
        except (AttributeError, OSError, ValueError):
            real = False
        if real:
            sys.stdout.flush()
            self.saved = os.dup(1)
            os.dup2(2, 1)

    def restore(self):
        """Fd 1 back to the real stdout (for printing the result)."""
        if self.saved is not None:
            sys.stdout.flush()
            os.dup2(self.saved, 1)

    def done(self):
        """After the result is printed: fd 1 to stderr again for the rest of the process (PETSc's exit output),
        or left on stdout without PETSc options."""
        if self.saved is not None:
            sys.stdout.flush()
            if self.keep:
                os.dup2(2, 1)
            os.close(self.saved)
            self.saved = None


def _leave_unused(petsc_opts):
    """With -options_left: the solvers' options that nothing read go back into PETSc's database, so that PETSc's
    own table at exit lists them too (the used ones were removed with the command's solves)."""
    from ..options import REPORTED_UNUSED
    from ..petsc_env import init_petsc

    PETSc, _ = init_petsc()
    for i, tok in enumerate(petsc_opts):
        if tok in REPORTED_UNUSED:
            value = petsc_opts[i + 1] if i + 1 < len(petsc_opts) and not petsc_opts[i + 1].startswith("-") else None
            PETSc.Options().setValue(tok[1:], value)


#: errno values that are the machine's refusal, not ephkin's bug: read-only, full disk or quota, permissions, a
#: symbolic link where ephkin writes, no memory.
_MACHINE_ERRNOS = {30, 28, 122, 13, 1, 40, 12, 27}


def _machine_failure(exc):
    """ "cannot ...: reason" for an OSError the machine caused (exit 1, not reported as ephkin's bug), else None."""
    from ..safefile import CannotWrite

    if isinstance(exc, CannotWrite):
        return exc.strerror  # str() would prefix "[Errno 28] "
    if exc.errno in _MACHINE_ERRNOS:
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        return f"cannot access{where}: {exc.strerror}"
    return None


_PETSC_ERR_MEM = 55  # PETSC_ERR_MEM: PETSc could not allocate


def _internal_error(name, exc, petsc_opts):
    """(exit status, one line) for an unexpected exception: 1, or 2 for a bad PETSc option value (the user's)."""
    if os.environ.get("EPHKIN_DEBUG"):
        raise exc
    bad = _bad_petsc_option(exc, petsc_opts)
    if bad:
        return 2, f"ephkin {name}: error: {bad}"
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()] or [""]
    msg = lines[0] if len(lines) == 1 else f"{lines[0]} ... {lines[-1]}"
    # a shared library that cannot be mapped (ulimit -v) is the machine's too: "failed to map segment from shared
    # object" (ImportError of an extension module loaded late, e.g. libmvec)
    unmapped = isinstance(exc, (ImportError, OSError)) and ("failed to map segment" in msg or "Cannot allocate" in msg)
    if isinstance(exc, MemoryError) or unmapped or getattr(exc, "ierr", None) == _PETSC_ERR_MEM:
        # the machine's (RAM, ulimit -v, a cgroup), not ephkin's: the estimates refuse what MemAvailable and the
        # limits forbid, but other processes and fragmentation can still leave an allocation short
        return 1, (
            f"ephkin {name}: cannot allocate memory ({msg or 'out of memory'}); give the run more memory "
            "(RAM, ulimit -v, the job's limit) or make it smaller (a coarser grid)"
        )
    return 1, (
        f"ephkin {name}: internal error: {type(exc).__name__}: {msg} "
        "(rerun with EPHKIN_DEBUG=1 for a traceback, and please report it)"
    )


#: Seconds a rank that failed waits for the others to reach the end of the command before it aborts the job
#: (they may be inside a collective solve that it left).
ABORT_GRACE_S = 20.0


def _command_group(args):
    """PETSc's COMM_WORLD when ``mpirun -n K ephkin COMMAND`` (K > 1) runs a command that is not a sweep: the
    command is solved by all K ranks as one group (as a sweep's ``--group-size K`` point); None otherwise (a
    sweep distributes its own points; without a usable PETSc every rank computes alone and rank 0 prints)."""
    if args.command == "sweep" or launcher_size() < 2:
        return None
    from ..petsc_env import init_petsc, petsc_available

    if not petsc_available():
        return None
    PETSc, _ = init_petsc()
    return PETSc.COMM_WORLD if PETSc.COMM_WORLD.getSize() > 1 else None


def _agree(group, status, error):
    """The command's (exit status, error line) agreed by every rank of ``group``: the first failing rank's, so
    that all ranks exit alike and one line is printed.  A rank that failed alone may have left the others inside
    a collective solve: it waits ABORT_GRACE_S for them and otherwise prints its error and aborts the job."""
    m = group.tompi4py()
    done = m.Ibarrier()
    if status:
        deadline = time.monotonic() + ABORT_GRACE_S
        while not done.Test():
            if time.monotonic() > deadline:
                print(
                    f"{error} [rank {m.Get_rank()}; the other ranks did not stop: aborting the job]",
                    file=sys.stderr,
                    flush=True,
                )
                m.Abort(status)
            time.sleep(0.01)
    else:
        done.Wait()
    failed = [(s, e) for s, e in m.allgather((status, error)) if s]
    return failed[0] if failed else (0, None)


def _configure_figures(args):
    """--format/--dpi (``common.add_figure_options``) for every figure this command saves; matplotlib is imported
    only when they are given or figures were made before in this process (then the defaults come back)."""
    fmt, dpi = getattr(args, "format", None), getattr(args, "dpi", None)
    if fmt is not None or dpi is not None or f"{__package__.rsplit('.', 1)[0]}.plots" in sys.modules:
        from .. import plots

        plots.configure(format=fmt, dpi=dpi)


#: the smallest address-space limit (ulimit -v, bytes) ephkin starts under.  Below it numpy, SciPy and OpenBLAS do not
#: fail cleanly: OpenBLAS's first matrix product loops forever on a failed mmap (in C, so SIGTERM waits too).
#: Measured on Debian 12 (numpy 1.24, OpenBLAS 0.3.21): `ephkin zinv` hangs under 260 MiB, fails to map libmvec
#: under 290 MiB, runs from 320 MiB.  Starting PETSc needs more (``petsc_env.PETSC_START_BYTES``), checked there.
START_AS_MIN = 320 * 2**20


def _address_space_too_small():
    """One "cannot ..." line when the address-space limit is below START_AS_MIN, else None (no limit, not POSIX)."""
    try:
        import resource
    except ImportError:
        return None
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    if soft == resource.RLIM_INFINITY or soft >= START_AS_MIN:
        return None
    return (
        f"ephkin: cannot start: the address-space limit (ulimit -v) is {soft >> 20} MiB, below the "
        f"{START_AS_MIN >> 20} MiB that numpy, SciPy and their BLAS map (below it OpenBLAS hangs instead of "
        "failing); raise ulimit -v"
    )


def main(argv=None):
    if (sys.argv[1:] if argv is None else list(argv)) == ["--version"]:
        # what the parser's version action prints, without building the parser (no family, no study, no numpy)
        print(f"ephkin {__version__}")
        return 0
    too_small = _address_space_too_small()
    if too_small:
        print(too_small, file=sys.stderr)
        return 1
    from ..options import split_global, split_petsc_options

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
        # a closed pipe ends the process quietly, as for any Unix filter (`ephkin ... | head`; a rank whose
        # mpirun was killed stops instead of computing on as an orphan)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    argv = sys.argv[1:] if argv is None else list(argv)
    ours, all_petsc = split_petsc_options(argv)
    # only the family of the command asked for (the first word that is no option); none, or a run file: all
    word = next((a for a in ours if not a.startswith("-")), None)
    parser = build_parser(COMMAND_FAMILY.get(word))
    # -log_view, -help, -options_left ... act when PETSc starts or ends: they go to its initialisation and stay;
    # the solvers' options are set, reported and removed around the command's solves
    global_opts, petsc_opts = split_global(all_petsc)
    args = parser.parse_args(ours)
    args.command_parser = parser
    args.petsc_options = petsc_opts  # e.g. "auto" solver choices defer to the user's tuning of a PETSc solver
    words = [args.command] + ([args.action] if getattr(args, "action", None) else [])
    name = " ".join(words)
    prefixes = _prefixes(args)
    if all_petsc and not prefixes:
        parser.error(f"{name} takes no PETSc options (got {' '.join(all_petsc)})")
    t0 = time.perf_counter()
    from .. import progress as engine_progress
    from .common import QUIET, progress

    QUIET["on"] = bool(getattr(args, "quiet", False))
    _configure_figures(args)
    # a study's run owns its PETSc options (studies/petsc.py); the other commands' options are owned here, for
    # the whole command: set, reported when unused, and removed whatever happens (solvers.options.petsc_options)
    from ..options import petsc_options

    stdout = _StdoutForResult(getattr(args, "json", False), keep_redirected=bool(all_petsc))
    status, error, group = 0, None, None
    try:
        if all_petsc:
            from ..petsc_env import init_petsc

            # PETSc sees the command line as in any PETSc program: -log_view, -help, -malloc_debug, -info act
            # only when given to PetscInitialize (a no-op if PETSc already runs in this process)
            init_petsc(["ephkin"] + all_petsc)
            from ..option_values import check_option_values

            check_option_values(petsc_opts)  # a type this build lacks, a word for a number: before any work
        group = _command_group(args)
        from ..bridge import solving_on

        with (
            petsc_options([] if getattr(args, "study", None) is not None else petsc_opts, prefixes),
            engine_progress.reporting(None if QUIET["on"] else progress),  # long engine phases, on stderr
            deferred_warnings(name),  # never before the one-line error; after the output on success
            solving_on(group) if group is not None else contextlib.nullcontext(),
        ):
            if args.validate is not None:
                args.validate(args)  # cheap checks of the values (signs, ranges, files) before any work
            result = args.func(args)
    except InputError as exc:
        status, error = 2, f"ephkin {name}: error: {flag_message(subcommand_parser(parser, words), exc)}"
    except KeyboardInterrupt:
        status, error = 130, f"ephkin {name}: interrupted"
    except OSError as exc:
        machine = _machine_failure(exc)
        status, error = _internal_error(name, exc, petsc_opts) if machine is None else (1, f"ephkin {name}: {machine}")
    except Exception as exc:  # one line, not a traceback; EPHKIN_DEBUG=1 shows it
        status, error = _internal_error(name, exc, petsc_opts)
    if group is not None:  # mpirun -n K: every rank ends alike, and one line is printed
        status, error = _agree(group, status, error)
    if error is not None:
        stdout.done()
        if launcher_rank() == 0 or group is None:
            print(error, file=sys.stderr)
        return status
    if "-options_left" in global_opts:
        _leave_unused(petsc_opts)
    result = dict(result)
    status = int(result.pop(EXIT_STATUS, 0))  # a handler's non-zero status without an error (sweep: 3)
    if not status and result.get("status") in NOT_PHYSICS:
        status = EXIT_SOLVER_FAILED  # printed as any result, but not physics: exit 4
    result.setdefault("elapsed_s", round(time.perf_counter() - t0, 4))
    # the ranks that solved the command as one group (mpirun -n K ephkin COMMAND); a sweep reports its own
    result.setdefault("ranks", group.getSize() if group is not None else 1)
    if launcher_rank() != 0:
        stdout.done()
        return status  # under mpirun only rank 0 prints
    stdout.restore()
    try:
        if getattr(args, "json", False):
            from ..provenance import to_jsonable

            json.dump(to_jsonable(result), sys.stdout)
            sys.stdout.write("\n")
        else:
            _print_human(result)
        sys.stdout.flush()
    except BrokenPipeError:  # `ephkin ... | head`: the reader left; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    stdout.done()
    return status
