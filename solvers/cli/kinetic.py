"""The full kinetic equation (seed 000 Eqs. (1), (S26)-(S31)): ``evolve`` with PETSc TS."""

from __future__ import annotations

import os

from ephkin.pde.electron_electron import P_EE_HELP

from .. import api
from ..prefixes import KINETIC
from ..xdmf import HistoryCSV
from .common import (EPILOG, RunningSummary, add_command, add_flush_every, add_energy_grid, add_spectrum, checks, finish, finite,
                     output_dir, progress, spectrum_ok)
from .stability import GRID_POSITIVE

#: PETSc option prefixes read by this family's solvers (TS, SNES, KSP of the kinetic DAE).
PETSC_PREFIXES = (KINETIC,)


def add_commands(sub):
    p = add_command(sub, "evolve", evolve, "the full kinetic equation (Eq. 1/S26) with PETSc TS from f0(T_in): "
                    "relaxation or instability", PETSC_PREFIXES, epilog=EPILOG + " PETSc options go under -kin_ "
                    "(e.g. -kin_ts_type arkimex -kin_ts_monitor). With -o the time series (f_E_t.xdmf), "
                    "history.csv and summary.json (run_status running/finished/interrupted) are written as the run "
                    "goes: after a kill -9 everything up to the last closed chunk (--flush-every) is readable.",
                    validate=checks(("T0", "T_in", "t_end", "rtol", "atol", "lam", "growth_limit", "flush_every") + GRID_POSITIVE,
                                    files=("spectrum",), also=spectrum_ok))
    add_spectrum(p, t0="phonon (bath) temperature T0")
    p.add_argument("--T-in", type=finite, required=True, help="initial electron temperature T_in (Eq. S29)")
    p.add_argument("--t-end", type=finite, required=True, help="final time (rescaled, pi t -> t)")
    p.add_argument("--rtol", type=finite, default=1e-6, help="TS relative tolerance (default 1e-6)")
    p.add_argument("--atol", type=finite, default=1e-10, help="TS absolute tolerance (default 1e-10)")
    add_energy_grid(p)
    p.add_argument("--growth-limit", type=finite, default=100.0,
                   help="report 'unstable' when max|f - f0| exceeds this factor times its initial value")
    add_flush_every(p)
    p.add_argument("--reference", action="store_true",
                   help="also integrate with SciPy's BDF (dense, small N) and report the difference")
    p.add_argument("--a-ee", type=finite, default=0.0,
                   help="weight a_ee of electron-electron collisions in Eq. (15) (default 0: e-ph only); with a_ee > 0 "
                        "the effective temperature T_eff(t) of f (Eq. S6) is followed")
    diag = p.add_mutually_exclusive_group()
    diag.add_argument("--no-diagnostics", dest="diagnostics", action="store_false", default=None,
                      help="skip the comparison with the linear problem (gamma_min_positive, unstable modes); its "
                           "cost is reported as diagnostics_seconds.  Default: compare for L <= 5000 only, with "
                           "the dense modal prediction of Eq. (13) for L <= 1200 only")
    diag.add_argument("--diagnostics", dest="diagnostics", action="store_true", default=None,
                      help="compare with the linear problem at any L (and the modal prediction up to L = 3000)")
    p.add_argument("--converge", action="store_true",
                   help="also run the same problem on a grid twice as coarse (step 2 eps, same cutoff) and report "
                        "grid_check: both grids' status, t_instability or decay rate, min of 1 - Sigma'[f], and "
                        "the verdict 'converged' or 'grid-dependent' (docs/grid-convergence.md)")
    p.add_argument("--a-ep", type=finite, default=1.0, help="weight a_ep of electron-phonon collisions (default 1)")
    p.add_argument("--p-ee", default="gaussian:0.3", metavar="P",
                   help=f"transition probability P(omega) of Eq. (S22): {P_EE_HELP} (default gaussian:0.3)")


def evolve(args):
    """The kinetic equation (S26)-(S31) with PETSc TS: relaxation (decay rate vs the slowest linear
    gamma, deviation vs the linear modal prediction) or the instability (time, energies, rate)."""
    out = output_dir(args.output)
    last = {"t": -1.0}

    def report(t, t_end):
        if t - last["t"] >= 0.1 * t_end:
            last["t"] = t
            progress(f"evolve: t = {t:.4g} / {t_end:g}")

    def run(on_step=None):
        return api.evolve(args.spectrum, args.lam, args.T0, args.T_in, args.t_end, args.units, args.rtol,
                          args.atol, args.refine, args.grid_step, args.cutoff, args.growth_limit, args.reference,
                          xdmf_dir=out, progress=report, on_step=on_step, flush_every=args.flush_every,
                          a_ee=args.a_ee, a_ep=args.a_ep, p_ee=args.p_ee,
                          diagnostics=args.diagnostics, converge=args.converge)

    if out:  # written as the run goes: the history row by row, the summary with the time reached
        cols = ["t", "max_deviation", "energy", "mass_min"] + (["T_eff"] if args.a_ee > 0 else [])
        history = HistoryCSV(os.path.join(out, "history.csv"), cols,
                             lambda t, v: (t, v["dev"], v["energy"], v["mass_min"], v.get("T_eff"))[:len(cols)])
        with RunningSummary(args, out, args.t_end, args.flush_every) as running:
            def on_step(t, values):
                history(t, values)
                running.step(t)

            try:
                r = run(on_step)
            finally:
                history.close()
    else:
        r = run()
    res = dict({"spectrum": args.spectrum, "units": args.units}, **r)
    files = []
    if out:
        from ..plots import plot_distribution

        res["run_status"] = "finished"
        files.append(history.path)
        files.append(plot_distribution(os.path.join(out, "f_E_t.png"), r["_E"], r["_samples"], r["_f_eq"],
                                       r["_zinv"], res.get("zinv_zeros", []), args.units))
        files += r["_files"]
        if "_T_two_temp" in r:
            from ..plots import plot_effective_temperature

            h = r["_history"]
            files.append(plot_effective_temperature(os.path.join(out, "T_eff.png"), h["t"], h["T_eff"],
                                                    r["_T_two_temp"], res))
    return finish(args, res, files)
