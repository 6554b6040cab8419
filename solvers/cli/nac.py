"""Negative absolute conductivity of photoexcited metals (seed 001): ``nac sigma``, ``nac evolve``.  The
computations are the studies ``studies/nac_sigma.py`` and ``studies/nac_evolve.py``; here only the files of -o."""

from __future__ import annotations

import os

from ..prefixes import NAC
from ..studies import nac_evolve, nac_sigma
from .common import add_family, finish, holds_output, output_dir, progress, run_recorded, write_csv
from .generate import add_study, params_from_args, petsc_for

#: PETSc option prefixes read by this family's solvers (the TS of Eqs. (2)-(3)).
PETSC_PREFIXES = (NAC,)


def add_commands(sub):
    nsub = add_family(
        sub,
        "nac",
        "negative absolute conductivity of photoexcited metals (seed 001): 'nac sigma', 'nac evolve'",
        "Energies in units of the bandwidth W, times in 1/Gamma_eph.",
    )
    add_study(nsub, nac_sigma.STUDY, sigma)
    add_study(
        nsub,
        nac_evolve.STUDY,
        evolve,
        epilog="PETSc options go under -nac_ (e.g. -nac_ts_type bdf -nac_ts_monitor). With -o the time "
        "series (f_E_t.xdmf), transient.csv and summary.json (run_status running/finished/interrupted) are "
        "written as the run goes: after a kill -9 everything up to the last closed chunk (--flush-every) is "
        "readable.",
    )


def sigma(args):
    """sigma/sigma0 of the nonequilibrium state at fixed zeta (Eq. (8), or Eq. (2) evolved)."""
    params = params_from_args(nac_sigma.STUDY, args)
    out = output_dir(args.output)
    r = nac_sigma.run(params, progress=progress, petsc_options=petsc_for(args))
    res = r.to_dict()
    files = []
    if out:
        from ..plots import plot_nac_distribution

        files.append(plot_nac_distribution(os.path.join(out, "f_eps.png"), r.eps, r.D_over_DF, r.f, r.f_T, res))
        files.append(
            write_csv(
                os.path.join(out, "f_eps.csv"), ["eps", "D_over_DF", "f", "f_T"], zip(r.eps, r.D_over_DF, r.f, r.f_T)
            )
        )
    return finish(args, res, files)


@holds_output("nac evolve")
def evolve(args):
    """The transient after a pump (Fig. 3); with -o transient.csv and summary.json as the run goes, the time
    series f(eps, t), the plots."""
    import numpy as np

    params = params_from_args(nac_evolve.STUDY, args)
    out = output_dir(args.output)

    def run(on_step=None):
        return nac_evolve.run(params, progress=progress, petsc_options=petsc_for(args), on_step=on_step, xdmf_dir=out)

    # written as the run goes (with -o): the transient row by row, the summary with the time reached
    r, history_path = run_recorded(
        args,
        out,
        run,
        os.path.join(out or "", "transient.csv"),
        ["t", "sigma_over_sigma0", "zeta", "E_star", "particle_number", "energy"],
        lambda t, v: (t, v["sigma"], v["zeta"], np.sqrt(max(v["field2"], 0.0)), v["N"], v["energy"]),
        params.t_end,
        params.flush_every,
        ["1/Gamma_eph", "-", "-", "W", "-", "W"],
    )
    res = r.to_dict()
    files = []
    if out:
        from ..plots import plot_nac_distribution, plot_nac_transient

        h = r.history
        res["run_status"] = "finished"
        files.append(history_path)
        files.append(
            plot_nac_transient(
                os.path.join(out, "transient.png"),
                h["t"],
                h["sigma"],
                h["zeta"] / max(params.zeta0, 1e-300),
                r.E_star_t,
                res,
            )
        )
        files.append(plot_nac_distribution(os.path.join(out, "f_final.png"), r.eps, r.D_over_DF, r.f_final, r.f_T, res))
        files += r.files
    return finish(args, res, files)
