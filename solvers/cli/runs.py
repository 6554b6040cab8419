"""Run files and sweeps: ``run`` (one job from a TOML run file, or the built-in default job), ``converge``
(refine one parameter; observed order), ``sweep`` (all points over MPI ranks, resumable).

A run file's model is any command declared with ``runfile=True``; each point becomes that command's
argument list and is parsed by the same parser as the command line before anything is computed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager

from ephkin.pde.errors import InputError

from ..provenance import provenance, write_json
from ..runfile import load_runfile
from ..studies.convergence import MAX_LEVELS, convergence
from .common import (
    EXIT_STATUS,
    QUIET,
    add_command,
    add_figure_options,
    add_quiet,
    finish,
    finite,
    flag_message,
    holds_output,
    output_dir,
    parameters,
    progress,
    subcommand_parser,
    write_csv,
)

#: Exit status of a sweep that finished with failed points (0: every point ok; 2: bad input).
SWEEP_FAILED = 3

#: PETSc option prefixes: a run file's [petsc] table and the command line go to the model's own.
PETSC_PREFIXES = ()


def add_commands(sub):
    p = add_command(
        sub,
        "run",
        run,
        "one job from a run file (TOML), or without FILE the built-in default job "
        "(Table S1, Fig. 1 insets, Fig. 3, Fig. S1/S2): results and PNGs in -o DIR",
        runfile=False,
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="run file (see runs/README.md); omit for the default job")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.add_argument("-o", "--output", metavar="DIR", default="out", help="output directory (default out)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    add_figure_options(p)
    add_quiet(p)

    p = add_command(
        sub,
        "schema",
        schema,
        "the run-file schema of a command (or of all): every parameter with its "
        "type, default, unit, choices and help, generated from the command's study",
        runfile=False,
    )
    p.add_argument(
        "model",
        nargs="?",
        metavar="COMMAND",
        help="a command a run file may name (e.g. evolve, 'nac sigma'); omit for all",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    add_quiet(p)

    p = add_command(
        sub,
        "converge",
        converge,
        "refine one numerical parameter of a run file: each level's result, "
        "the observed order and a Richardson estimate with its error bar",
        runfile=False,
    )
    p.add_argument("file", metavar="FILE", help="run file with one point")
    p.add_argument("--param", required=True, help="parameter to refine: grid_step (divided) or refine (multiplied)")
    p.add_argument("--factor", type=finite, default=2.0, help="refinement factor per level (default 2)")
    p.add_argument("--levels", type=int, default=4, help="number of levels (>= 3, default 4)")
    p.add_argument("--key", default="lambda_c", help="result to follow (default lambda_c)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout and nothing else")
    add_quiet(p)
    p.add_argument("-o", "--output", metavar="DIR", help="write summary.json here")

    p = add_command(
        sub,
        "sweep",
        sweep,
        "all points of a run file, distributed over MPI ranks (mpirun -n N ephkin sweep FILE), resumable",
        runfile=False,
        epilog="Each finished point is written at "
        "once (points/NNNNN.json) with its full parameters; --resume reuses a finished point only if "
        "its parameters (defaults included) and the code version are identical. One sweep per "
        "output directory (a lock file, DIR/.ephkin.lock). Exit status: 0 every point ok, "
        f"{SWEEP_FAILED} finished with failed points (their errors in summary.json), 2 bad input "
        "(nothing computed), 1 the machine refused (the directory locked by another job, read-only, full) or an "
        "internal error, 130 interrupted.",
    )
    p.add_argument("file", metavar="FILE", help="run file with a [sweep] table (see runs/README.md)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter")
    p.add_argument("-o", "--output", metavar="DIR", default="out/sweep", help="output directory")
    add_figure_options(p)
    p.add_argument(
        "--resume",
        action="store_true",
        help="keep the finished points whose parameters and code are unchanged and compute the others; "
        "a changed point stops the sweep (exit 2) naming the first differing parameter",
    )
    p.add_argument(
        "--recompute-changed",
        action="store_true",
        help="with --resume: recompute the finished points whose parameters or code changed",
    )
    p.add_argument(
        "--retry-failed", action="store_true", help="recompute the points recorded as failed (implies --resume)"
    )
    p.add_argument(
        "--group-size",
        type=int,
        default=1,
        help="ranks per point: groups of K ranks solve each point with PETSc on their sub-communicator (1)",
    )
    p.add_argument(
        "--fields",
        action="store_true",
        help="also write each point's own outputs (f(E,t) XDMF time series, PNG plots, summary.json) "
        "into DIR/fields/NNNNN/",
    )
    p.add_argument(
        "--points",
        default=None,
        metavar="START:STOP",
        help="only these point indices (array jobs of a batch scheduler: give each job a range and "
        "the same -o DIR; every job's final merge includes all points finished so far)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    add_quiet(p)


def runfile_models(parser=None):
    """The commands a run file may name: the studies declared with ``runfile=True`` ("nac sigma" for nested
    ones).  ``parser`` is not needed (kept for callers that pass it)."""
    from ..studies import STUDIES

    return [name for name, study in STUDIES.items() if study.runfile]


def _load(args):
    return load_runfile(args.file, args.set, runfile_models(args.command_parser))


def point_solver(parser, spec, path, fields_dir=None, single=False):
    """Validate every point (the model's study ``Params`` from the point's values: types, signs, ranges,
    files, conditions between fields) before computing; return solve(i, point), whose ``resolved`` attribute
    lists every point's full parameters (defaults included).  With ``fields_dir``, point i writes its own
    outputs into fields_dir/NNNNN/ (``single``: into fields_dir itself)."""
    sub = subcommand_parser(parser, spec["model"].split())
    known = {o for act in sub._actions for o in act.option_strings}
    for key in spec["points"][0]:
        if "--" + key.replace("_", "-") not in known:
            names = sorted(
                o[2:]
                for o in known
                if o.startswith("--") and o not in ("--help", "--json", "--output", "--format", "--dpi")
            )
            raise InputError(
                f"run file {path}: unknown parameter {key!r} for model {spec['model']} (known: {', '.join(names)})"
            )
    parsed = []
    study = sub.get_default("study")
    for i, point in enumerate(spec["points"]):
        try:  # the study's Params are the schema: no argv round trip
            a = _namespace(sub, spec["model"], study.params.from_mapping(point))
        except InputError as exc:
            raise InputError(f"run file {path}: point {i} ({_short(point)}): {flag_message(sub, exc)}") from None
        a.output = None
        a.petsc_options = list(spec["petsc"])  # part of the point's identity: they can change its result
        parsed.append(a)

    def solve(i, point):
        if fields_dir is not None:
            parsed[i].output = fields_dir if single else os.path.join(fields_dir, f"{i:05d}")
        return parsed[i].func(parsed[i])

    solve.resolved = [parameters(a) for a in parsed]
    return solve


def _namespace(sub, model, params):
    """The parsed arguments of a run-file point of a study command, from its validated ``Params``: the
    command parser's defaults and plumbing, the point's values, --json."""
    import argparse

    a = argparse.Namespace(**sub._defaults)
    for act in sub._actions:
        if act.dest not in ("help",) and not hasattr(a, act.dest):
            setattr(a, act.dest, act.default)
    words = model.split()
    a.command, a.action = words[0], (words[1] if len(words) > 1 else None)
    for name, value in vars(params).items():
        setattr(a, name, list(value) if isinstance(value, tuple) else value)
    a.json = True
    return a


def _short(point):
    return ", ".join(f"{k}={v}" for k, v in list(point.items())[:4])


@contextmanager
def runfile_petsc(parser, spec):
    """The run file's [petsc] options around all its points' solves: pushed once, owned here (the points' runs
    leave them alone), unused ones reported (set the yielded object's ``report`` False when the solves ran
    elsewhere), all removed in ``finally``."""
    from ..options import petsc_options
    from ..studies.petsc import owned_by_caller

    prefixes = subcommand_parser(parser, spec["model"].split()).get_default("petsc_prefixes") or ()
    with petsc_options(spec["petsc"], prefixes) as state, owned_by_caller(spec["petsc"]):
        try:
            yield state
        except Exception as exc:  # PETSc refusing a [petsc] value as it configures a solver: the run file's error
            from ..option_values import rejected_option

            bad = rejected_option(exc, spec["petsc"])
            if bad is None:
                raise
            raise InputError(bad) from None


@holds_output("run")
def run(args):
    """One job from a run file, or the built-in default job when no FILE is given."""
    if args.file is None:
        return run_default(args)
    spec = _load(args)
    if len(spec["points"]) != 1:
        raise InputError(f"run file {args.file}: {len(spec['points'])} points; use 'ephkin sweep {args.file}'")
    out = args.output
    solve = point_solver(args.command_parser, spec, args.file, out, single=True)
    out = output_dir(out)
    res = {"model": spec["model"], "parameters": spec["points"][0]}
    with runfile_petsc(args.command_parser, spec):
        res.update(solve(0, spec["points"][0]))
    if out:
        path = os.path.join(out, "summary.json")  # the point's own summary (its files) + the run file
        prev = json.load(open(path, encoding="utf-8")) if os.path.exists(path) else {}
        write_json(
            path,
            dict(
                prev,
                **res,
                provenance=provenance(
                    {"runfile": os.path.abspath(args.file), "set": args.set, "point": spec["points"][0]}
                ),
            ),
        )
        res["output"] = out
    return res


def schema(args):
    """The run-file schema: {command: {parameter: {type, default, unit, choices, help}}} from the studies."""
    from ..studies import STUDIES

    studies = {name: st for name, st in STUDIES.items() if st.runfile}
    if args.model is not None:
        if args.model not in studies:
            raise InputError(f"COMMAND {args.model!r}: not a run-file model; one of {', '.join(sorted(studies))}")
        studies = {args.model: studies[args.model]}
    return {name: st.params.schema() for name, st in studies.items()}


def converge(args):
    """Refine one parameter of a one-point run file by --factor per level; observed order + Richardson."""
    spec = _load(args)
    if len(spec["points"]) != 1:
        raise InputError(f"run file {args.file}: converge needs one point (it has {len(spec['points'])})")
    if args.levels < 3:
        raise InputError(f"--levels must be >= 3 for an observed order (got {args.levels})")
    if args.levels > MAX_LEVELS:
        raise InputError(
            f"--levels {args.levels}: at most {MAX_LEVELS} (each level refines by --factor; the last would not fit)"
        )
    if not args.factor > 1:
        raise InputError(f"--factor must be > 1 (got {args.factor})")
    base = dict(spec["points"][0])
    key = args.param
    if key == "refine":
        start, step = int(base.get("refine", 1)), lambda v, k: int(round(v * args.factor**k))  # noqa: E731
    elif key in base:
        start, step = float(base[key]), lambda v, k: v / args.factor**k  # noqa: E731
    else:
        raise InputError(
            f"--param {key}: give its starting value in the run file's [parameters] (or use --param refine)"
        )
    levels, values = [], []
    for k in range(args.levels):
        point = dict(base, **{key: step(start, k)})
        res = point_solver(args.command_parser, dict(spec, points=[point]), args.file)(0, point)
        if args.key not in res:
            raise InputError(
                f"--key {args.key}: the {spec['model']} result has no such entry "
                f"(it has {', '.join(sorted(res)[:12])} ...)"
            )
        values.append(res[args.key])
        levels.append({key: point[key], args.key: res[args.key], "L": res.get("L")})
        progress(f"converge: level {k + 1}/{args.levels} {key}={point[key]} {args.key}={res[args.key]}")
    out = {"model": spec["model"], "param": key, "factor": args.factor, "key": args.key, "levels": levels}
    out.update(convergence(values, args.factor))
    return finish(args, out)


def _point_range(text, n):
    if text is None:
        return list(range(n))
    a, sep, b = text.partition(":")
    try:
        lo, hi = int(a or 0), int(b) if b else n
    except ValueError:
        raise InputError(f"--points {text!r}: use START:STOP with integers (e.g. 0:8)") from None
    if not sep or not 0 <= lo < hi:
        raise InputError(f"--points {text!r}: use START:STOP with 0 <= START < STOP (the run file has {n} points)")
    return list(range(lo, min(hi, n)))


def sweep(args):
    """All points of a run file over the MPI ranks (see solvers/sweep.py)."""
    from ..petsc_env import init_petsc
    from ..sweep import run_sweep

    if args.group_size < 1:
        raise InputError(f"--group-size must be >= 1 (got {args.group_size}); give the ranks per point")
    if args.recompute_changed and not (args.resume or args.retry_failed):
        raise InputError("--recompute-changed goes with --resume (without it every point is computed afresh)")
    spec = _load(args)
    fields = os.path.join(args.output, "fields") if args.fields else None
    solve = point_solver(args.command_parser, spec, args.file, fields)  # every point validated before anything runs
    output_dir(args.output)
    # PETSc first: it must be initialised (and finalised) around mpi4py's MPI, not the other way round
    PETSc, _ = init_petsc()
    comm = PETSc.COMM_WORLD.tompi4py()
    if comm.Get_size() == 1:
        comm = None
    t0 = time.perf_counter()

    # the sweep's own lines only: each point's progress (evolve's t, SLEPc iterations) would bury them
    quiet, QUIET["on"] = QUIET["on"], True

    def report(rank, i, n, rec, totals):
        """Every rank (group leader) reports its own points as they finish, with the whole sweep's counts."""
        if quiet:
            return
        el = time.perf_counter() - t0
        groups = comm.Get_size() // args.group_size if comm is not None else 1
        fin, tot, bad = totals["finished"], totals["todo"], totals["failed"]
        eta = el / max(fin, 1) * max(tot - fin, 0)
        print(
            f"sweep: point {i + 1}/{n} {rec['status']} on rank {rank} ({rec['seconds']:.2f} s); {fin}/{tot} done, "
            f"{bad} failed, {min(groups, tot - fin)} running, elapsed {el:.1f} s, ETA {eta:.0f} s",
            file=sys.stderr,
            flush=True,
        )

    todo = _point_range(args.points, len(spec["points"]))

    def notify(msg):
        if not quiet and (comm is None or comm.Get_rank() == 0):
            print(f"ephkin sweep: {msg}", file=sys.stderr, flush=True)

    with runfile_petsc(args.command_parser, spec) as petsc:
        summ = run_sweep(
            spec,
            args.output,
            solve,
            resume=args.resume,
            comm=comm,
            progress=report,
            runfile=os.path.abspath(args.file),
            only=todo if args.points else None,
            group_size=args.group_size,
            resolved=solve.resolved,
            recompute_changed=args.recompute_changed,
            retry_failed=args.retry_failed,
            notify=notify,
        )
        # unused options are reported where points were solved (rank 0, when it solved any)
        petsc.report = summ["computed_per_rank"][0] > 0 and (comm is None or comm.Get_rank() == 0)
    res = {k: v for k, v in summ.items() if k != "provenance"}
    res["output"] = args.output
    QUIET["on"] = quiet
    if summ["failed"]:
        progress(
            f"ephkin sweep: {len(summ['failed'])} of {summ['points']} points failed (errors in "
            f"{os.path.join(args.output, 'summary.json')}); exit status {SWEEP_FAILED}"
        )
        res[EXIT_STATUS] = SWEEP_FAILED
    return res


def run_default(args):
    """The built-in default job (``studies/default_job.py``): its CSV table and PNG figures in -o."""
    from ..plots import plot_cel, plot_eigenvectors, plot_lambda_c, plot_zinv
    from ..studies import default_job

    out = output_dir(args.output)
    params = default_job.DefaultJobParams()
    r = default_job.run(params, progress=progress)
    if out is None:  # a rank other than 0 of `mpirun -n K ephkin run`: rank 0 writes
        return finish(args, r.to_dict())
    rows, files = r.table_s1, []
    keys = list(rows[0].keys())
    files.append(write_csv(os.path.join(out, "table_s1.csv"), keys, ([row[k] for k in keys] for row in rows)))
    files.append(
        plot_lambda_c(
            os.path.join(out, "lambda_c.png"),
            [row["T0"] for row in rows],
            {
                r"$Z_0$ criterion (Eq. S21)": [row["lambda_c"] for row in rows],
                "linear, exact kernel": [row["lambda_c_linear_exact"] for row in rows],
                "linear, paper kernel (Table S1 col. 2)": [row["lambda_c_linear_paper"] for row in rows],
                r"$C_{el} < 0$ (Eq. S14)": [row["lambda_c_cel"] for row in rows],
            },
            "g",
            title=rf"$\lambda_c(T_0)$ of the spectrum {params.spectrum} (Table S1, Fig. S2)",
        )
    )
    st = r.modes
    files.append(
        plot_eigenvectors(
            os.path.join(out, "eigenvectors.png"),
            st.E,
            st.eigenvectors,
            st.eigenvector_gammas,
            st.zinv,
            "g",
            title=rf"eigenvectors of Eq. (14), {params.spectrum}, $\lambda$ = 5, $T_0$ = 0.20 g (Fig. S1)",
        )
    )
    files.append(
        plot_zinv(
            os.path.join(out, "zinv.png"),
            r.zinv_E,
            r.zinv_curves,
            "g",
            r.zinv_zeros,
            r"$Z_0^{-1}(E)$ of Eq. (5), Einstein spectrum at $T_0$ = 0.20 g, and its strong-coupling limit",
        )
    )
    ca = r.extra["einstein_lambda_4.5_cel"]
    files.append(
        plot_cel(
            os.path.join(out, "cel.png"),
            r.cel_T,
            r.cel_ratio,
            r.cel_energy,
            (ca["T_minus"], ca["T_plus"]),
            "Omega",
            title=r"Einstein spectrum, $\lambda$ = 4.5: $C_{el} < 0$ for $T_- < T < T_+$ (Fig. 3)",
        )
    )
    progress(f"results in {out}/")
    return finish(args, r.to_dict(), files)
