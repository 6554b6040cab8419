"""The full kinetic equation (docs/theory.md T1, Eq. (15)): ``evolve`` with PETSc TS (``studies/evolve.py``).
Here only the files of ``-o``: the history and summary as the run goes, the plots."""

from __future__ import annotations

import os

from ..studies import evolve as study
from .common import EPILOG, finish, holds_output, output_dir, progress, run_recorded
from .generate import add_study, params_from_args, petsc_for

#: PETSc option prefixes read by this family's solvers (TS, SNES, KSP of the kinetic DAE).
PETSC_PREFIXES = study.STUDY.prefixes


def add_commands(sub):
    add_study(
        sub,
        study.STUDY,
        evolve,
        epilog=EPILOG + " PETSc options go under -kin_ (e.g. -kin_ts_type arkimex -kin_ts_monitor). With -o "
        "the time series (f_E_t.xdmf), history.csv and summary.json (run_status running/finished/interrupted) "
        "are written as the run goes: after a kill -9 everything up to the last closed chunk (--flush-every) "
        "is readable.",
    )


@holds_output("evolve")
def evolve(args):
    """``ephkin evolve``: the study's result; with -o the time series, history.csv, plots, summary.json."""
    params = params_from_args(study.STUDY, args)
    if params.restart is not None:  # before -o is written to: summary.json and history.csv are rewritten at once
        from ..restart import check_invocation

        check_invocation(params.restart, args.output, petsc_for(args))
    out = output_dir(args.output)

    def run(on_step=None):
        return study.run(params, progress=progress, petsc_options=petsc_for(args), on_step=on_step, xdmf_dir=out)

    # written as the run goes (with -o): the history row by row, the summary with the time reached
    cols = ["t", "max_deviation", "energy", "mass_min"] + (["T_eff"] if params.a_ee > 0 else [])
    r, history_path = run_recorded(
        args,
        out,
        run,
        os.path.join(out or "", "history.csv"),
        cols,
        lambda t, v: (t, v["dev"], v["energy"], v["mass_min"], v.get("T_eff"))[: len(cols)],
        params.t_end,
        params.flush_every,
        ["time", "-", args.units, "-", args.units][: len(cols)],  # energies: g or plain (as in summary.json)
    )
    res = dict({"spectrum": args.spectrum, "units": args.units}, **r.to_dict())
    files = []
    if out:
        from ..plots import _sym, plot_distribution

        res["run_status"] = "finished"
        files.append(history_path)
        files.append(
            plot_distribution(
                os.path.join(out, "f_E_t.png"),
                r.E,
                r.samples,
                r.f_eq,
                r.zinv,
                res.get("zinv_zeros", []),
                args.units,
                title=f"{args.spectrum}, $\\lambda$ = {res['lambda']:g}, $T_0$ = {res['T0']:g}, "
                f"$T_{{in}}$ = {res['T_in']:g} {_sym(args.units)}: " + r"$f(E,t) - f_0(E,T_0)$",
            )
        )
        files += r.files
        if r.T_two_temp is not None:
            from ..plots import plot_effective_temperature

            h = r.history
            files.append(
                plot_effective_temperature(os.path.join(out, "T_eff.png"), h["t"], h["T_eff"], r.T_two_temp, res)
            )
    return finish(args, res, files)
