"""What every ``ephkin`` command shares: the parser class, argument types and groups, output files,
progress on rank 0, and the mapping from a physics parameter to its flag in error messages.

A command is declared with :func:`add_command`; its handler takes the parsed arguments and returns
a result dict (printed as JSON or text by ``ephkin.solvers.cli.main``).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import math
import os
import re
import sys

from ephkin.pde.errors import InputError

from ..provenance import provenance, write_json

EPILOG = (
    "Units (every command): energies and temperatures are in units of g (g^2 = 2 int omega a2F dw; "
    "varying lambda rescales the phonon frequencies) unless --units plain, the spectrum's own unit. "
    "Exit status: 0 ok (a physics verdict such as 'unstable' included), 1 internal error, 2 bad input "
    "(a flag, a run file or a PETSc option), 3 sweep with failed points, 4 solver failed (status "
    "solver_failed: the result is still printed/written, with PETSc's reason in solver_reason), 130 interrupted."
)

#: A Python-API parameter whose flag is not simply --NAME (dest names map to their own flags).
PARAM_FLAGS = {"lambda": "--lam", "lam_max": "--lam-max", "converge": "--converge", "width": "--p-ee-width"}


class CommandParser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2) instead of usage dumps."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "-1e3", "-.5", "-inf", "-nan" are values (argparse alone knows only "-1" and "-1.5")
        self._negative_number_matcher = re.compile(
            r"^-(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|inf|infinity|nan)$", re.IGNORECASE
        )

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def finite(text):
    """argparse type: a finite float."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"must be finite: {text!r}")
    return v


def nonnegative_or_inf(text):
    """argparse type: a number >= 0, or inf."""
    if text.strip().lower() in ("inf", "infinity"):
        return math.inf
    v = finite(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 or inf: {text!r}")
    return v


#: Result key a handler sets to end with a non-zero exit status without an error (e.g. a sweep with
#: failed points: 3); ``main`` pops it before printing.
EXIT_STATUS = "exit_status"


def add_command(sub, name, func, help, prefixes=(), runfile=True, validate=None, **kw):
    """Declare the command ``name`` with its handler; ``prefixes``: the PETSc option prefixes its solvers
    read (options under them pass through, unused ones are reported); ``runfile``: usable as a run-file
    model; ``validate(args)``: a cheap check of the parsed values (signs, ranges, files readable) that
    raises InputError -- run before the handler, and for every point of a run file before any point is
    computed.  Returns the subparser, for the command's own arguments."""
    p = sub.add_parser(name, help=help, **kw)
    p.set_defaults(func=func, petsc_prefixes=tuple(prefixes), runfile_model=runfile, validate=validate)
    return p


def add_family(sub, name, help, epilog=None):
    """A command with actions ("ephkin nac sigma"): returns the actions' subparsers."""
    p = sub.add_parser(name, help=help, epilog=epilog)
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=CommandParser)
    actions.required = True
    return actions


def add_output(p, what="summary.json, CSV tables and figures (PNG; --format)"):
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    p.add_argument("-o", "--output", metavar="DIR", help=f"write {what} here")
    add_figure_options(p)
    add_quiet(p)


def add_figure_options(p):
    """``--format`` and ``--dpi`` of the figures -o writes (``solvers.plots.configure``, called by ``main``)."""
    p.add_argument(
        "--format",
        choices=("png", "pdf", "svg"),
        default=None,
        help="file format of the figures in -o (default png; the file names keep their stem)",
    )
    p.add_argument("--dpi", type=dpi, default=None, help="resolution of the figures in dots per inch (default 150)")


def dpi(text):
    """argparse type: a resolution in dots per inch, 10 to 2400."""
    v = finite(text)
    if not 10 <= v <= 2400:
        raise argparse.ArgumentTypeError(f"must be between 10 and 2400: {text!r}")
    return v


def add_quiet(p):
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr (errors and warnings remain)")


@contextlib.contextmanager
def deferred_warnings(name):
    """Python warnings raised while a command runs (numpy's RuntimeWarning on an overflow, a library's
    UserWarning) are held back: when the command fails they are dropped, so that its one-line error stands
    alone on stderr (with EPHKIN_DEBUG set they are shown too); when it succeeds they go out through
    ``logging`` (logger "ephkin"), one line each, once the command has finished."""
    import logging
    import warnings

    with warnings.catch_warnings(record=True) as caught:  # the filters in force decide what is recorded
        try:
            yield
        except BaseException:
            if not os.environ.get("EPHKIN_DEBUG"):
                caught.clear()
            raise
        finally:
            log = logging.getLogger("ephkin")
            for w in caught:
                where = f"{os.path.basename(w.filename)}:{w.lineno}"
                log.warning("ephkin %s: warning: %s: %s (%s)", name, w.category.__name__, w.message, where)


def launcher_rank():
    """This process's rank as the MPI launcher set it (0 outside mpirun), without initialising MPI."""
    for var in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 0


def launcher_size():
    """The number of ranks the MPI launcher started (1 outside mpirun), without initialising MPI."""
    for var in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 1


#: ``--quiet``: no progress lines (errors and warnings still go to stderr).
QUIET = {"on": False}


def progress(msg):
    """Progress on stderr (rank 0 only), never on stdout; nothing with --quiet."""
    if launcher_rank() == 0 and not QUIET["on"]:
        print(msg, file=sys.stderr, flush=True)


#: The handlers running under :func:`holds_output`, innermost last: (command, the ExitStack holding its locks).
_HOLDING = []


def holds_output(what):
    """Decorator of a handler that writes into -o as it goes (``evolve``, ``nac evolve``, ``run``): the directory
    :func:`output_dir` makes for it is held with the lock a sweep takes (``solvers.dirlock``) until the handler
    returns, so that a second job into the same -o is refused ("cannot write into -o DIR: locked by ...", exit 1)
    instead of two writers mixing (or HDF5 refusing) the files.  Under mpirun only rank 0, the writer, holds it."""

    def wrap(handler):
        @functools.wraps(handler)
        def held(args):
            with contextlib.ExitStack() as stack:
                _HOLDING.append((what, stack))
                try:
                    return handler(args)
                finally:
                    _HOLDING.pop()

        return held

    return wrap


def output_dir(path):
    """Create the -o directory (None without -o), held until the end of a :func:`holds_output` handler.  An empty
    name is refused: it would write into (and a sweep clean up in) the current directory.  On a group of ranks
    (``mpirun -n K ephkin COMMAND``, a sweep's ``--group-size``) rank 0 creates it, holds it and writes every
    output: the other ranks get its verdict (the same error, before any of them computes) and None, so that
    they write nothing."""
    if path is None:
        return None
    if not str(path).strip():
        raise InputError("-o '': give the name of an output directory (the current directory is never used)")
    from ..bridge import on_leader, writes  # here, not at import: ``ephkin --version`` loads no numpy

    def create():
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"-o {path}: cannot create the output directory ({exc.strerror}); choose a writable path"
            ) from None
        if _HOLDING and launcher_rank() == 0:
            from ..dirlock import hold

            what, stack = _HOLDING[-1]
            stack.enter_context(hold(path, what))

    on_leader(create)
    return path if writes() else None


def write_csv(path, header, rows):
    from ..safefile import write_atomic

    def write(tmp):
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)

    return write_atomic(path, write)


#: Attributes of the parsed arguments that are not parameters of the computation.
_NOT_PARAMETERS = {"func", "json", "output", "petsc_prefixes", "runfile_model", "command_parser", "validate", "study"}


def parameters(args):
    """The parameters of a command (for provenance and a sweep point's identity): for a study, every field of
    its ``Params`` (defaults included, ``Params.to_dict``) with the command and its PETSc options; otherwise
    the parsed arguments without the plumbing."""
    study = getattr(args, "study", None)
    if study is not None:
        return dict(
            command=args.command,
            **({"action": args.action} if getattr(args, "action", None) else {}),
            **params_from_args(study, args).to_dict(),
            petsc_options=list(getattr(args, "petsc_options", [])),
        )
    return {k: v for k, v in vars(args).items() if k not in _NOT_PARAMETERS}


def params_from_args(study, args):
    """The study's ``Params`` from parsed arguments (tuples for lists); validated on construction."""
    kw = {}
    for p in study.params.info():
        if p.meta["cli"]:
            v = getattr(args, p.name)
            kw[p.name] = tuple(v) if isinstance(v, list) else v
    return study.params(**kw)


def finish(args, result, files=()):
    """Drop the arrays (keys starting with "_"), add the files list and write summary.json (with
    provenance) when -o is given."""
    from ..bridge import ranks, writes

    result = {k: v for k, v in result.items() if not k.startswith("_")}
    out = getattr(args, "output", None)
    if out and writes():  # on a group of ranks, rank 0 writes (output_dir)
        # commands that write nothing but summary.json (avalanche criterion) never called output_dir
        os.makedirs(out, exist_ok=True)
        summary = dict(result, ranks=ranks())
        summary["files"] = [os.path.basename(f) for f in files]
        summary["provenance"] = provenance(parameters(args))
        write_json(os.path.join(out, "summary.json"), summary)
        result["output"] = out
    return result


class RunningSummary:
    """summary.json of a long run (``evolve -o``, ``nac evolve -o``) while it goes: ``run_status``
    "running" with host, PID, start time and parameters, written at the start and rewritten with the
    time reached (``step(t, values)``, at most every ``every`` s); "interrupted" (SIGTERM, Ctrl-C) or
    "failed" when the handler ends with an exception.  :func:`finish` then writes the full summary with
    ``run_status`` "finished".  After a kill -9 it still says "running" with the PID of a process that
    no longer exists, the time reached, and a note saying so."""

    def __init__(self, args, out, t_end, every=5.0):
        import datetime
        import socket
        import time

        self.clock, self.every, self.last = time.monotonic, every, -math.inf
        self.path = os.path.join(out, "summary.json")
        host, pid = socket.gethostname(), os.getpid()
        self.state = {
            "run_status": "running",
            "host": host,
            "pid": pid,
            "t_end": t_end,
            "t_reached": 0.0,
            "steps": 0,
            "started": datetime.datetime.now().isoformat(timespec="seconds"),
            "note": f"written while the run goes: if PID {pid} on {host} is no longer running, the run "
            "was interrupted (killed) at t_reached; the time series and history.csv hold "
            "every step up to then",
            "provenance": provenance(parameters(args)),
        }
        write_json(self.path, self.state)

    def step(self, t, values=None):
        self.state["t_reached"], self.state["steps"] = t, self.state["steps"] + 1
        if self.clock() - self.last >= self.every:
            self.last = self.clock()
            write_json(self.path, self.state)

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is not None:
            why = "interrupted" if issubclass(kind, KeyboardInterrupt) else "failed"
            self.state.update(
                run_status=why,
                note=f"the run was {why} at t_reached" + (f": {type(exc).__name__}: {exc}" if why == "failed" else ""),
            )
            write_json(self.path, self.state)


def run_recorded(args, out, run, path, cols, row, t_end, every, units=None):
    """``run(on_step)`` of a long time-dependent study, recorded as it goes when ``out`` is given: its history
    row by row into the CSV ``path`` (``row(t, values)`` -> the ``cols``) and summary.json with the time reached
    (:class:`RunningSummary`).  Returns (result, the CSV's path or None)."""
    if not out:
        return run(None), None
    from ..xdmf import HistoryCSV

    history = HistoryCSV(path, cols, row, units)  # units: one per column, the CSV's '# units:' line
    with RunningSummary(args, out, t_end, every) as running:

        def on_step(t, values):
            history(t, values)
            running.step(t)

        try:
            return run(on_step), history.path
        finally:
            history.close()


def subcommand_parser(parser, words):
    """The parser of the (nested) subcommand ``words`` ("lambda-c", "nac sigma")."""
    for word in words:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return parser


def flag_message(parser, exc):
    """The one-line message of an InputError raised with ``param``: the physics parameter named at the
    start of the message becomes the command's flag (``T0 must be > 0`` -> ``--T0 must be > 0``);
    elsewhere the flag is put in front.  ``parser`` is the command's own parser."""
    msg, param = str(exc), getattr(exc, "param", None)
    if not param:
        return msg
    flags = {a.dest: a.option_strings[-1] for a in parser._actions if a.option_strings}
    known = {o for a in parser._actions for o in a.option_strings}
    flag = flags.get(param) or PARAM_FLAGS.get(param)
    if flag is None or flag not in known:
        return msg
    if msg.startswith(param + " ") or msg.startswith(param + ":"):
        return flag + msg[len(param) :]
    return f"{flag}: {msg}"
